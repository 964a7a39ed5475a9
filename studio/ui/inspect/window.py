"""How the Inspect panel joins the main window: an "Inspect" tab beside the training view, and an
InspectCallback on every run the window starts. Kept here so the window only calls :func:`attach_inspect`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QTabWidget

from studio.ui.inspect.panel import InspectPanel

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

WORKSPACE_TABS = "workspaceTabs"  # the lab's tab widget around the training view, shared
TRAIN_TAB, INSPECT_TAB = "Train", "Inspect"


def workspace_tabs(w: MainWindow) -> QTabWidget:
    """The tab widget around the training view, made here when no other panel has made it yet."""
    central = w.centralWidget()
    if isinstance(central, QTabWidget) and central.objectName() == WORKSPACE_TABS:
        return central
    train_view = w.takeCentralWidget()  # taken, not replaced: setCentralWidget would delete it
    tabs = QTabWidget()
    tabs.setObjectName(WORKSPACE_TABS)
    tabs.setAccessibleName("Train, experiment or inspect")
    tabs.addTab(train_view, TRAIN_TAB)
    w.setCentralWidget(tabs)
    return tabs


def attach_inspect(w: MainWindow) -> InspectPanel:
    """Build the Inspect panel for window ``w``, add its tab and watch every run the window starts."""
    panel = InspectPanel(w.host.worker, w.dialogs)
    workspace_tabs(w).addTab(panel, INSPECT_TAB)
    others = w.training.run_callbacks
    w.training.run_callbacks = lambda project: (*others(project), *panel.training_callbacks())
    return panel
