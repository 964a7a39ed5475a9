"""How the lab joins the main window: a "Lab" tab beside the training view, "Compare with…" on the run
history, the learning-rate finder's Apply into the project, diagnostics on every run, and no new
experiments while the window trains. Kept here so the window's own modules only call :func:`attach_lab`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QTabWidget

from studio.core.data import PreparedData
from studio.core.project import Project
from studio.ui.lab.lab_panel import LabPanel
from studio.ui.lab.source import LabSource
from studio.ui.widgets.scroll import scrollable

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

TRAIN_TAB, LAB_TAB = "Train", "Lab"


def attach_lab(w: MainWindow) -> LabPanel:
    """Build the lab for window ``w``, put it in a tab next to the training view and connect it."""
    lab = LabPanel(w.host.worker, LabSource(w.current_project, w.data_panel.prepared))
    train_view = w.takeCentralWidget()  # taken, not replaced: setCentralWidget would delete it
    tabs = QTabWidget()
    tabs.setObjectName("workspaceTabs")
    tabs.setAccessibleName("Train or experiment in the lab")
    tabs.addTab(train_view, TRAIN_TAB)
    tabs.addTab(scrollable(lab), LAB_TAB)
    w.setCentralWidget(tabs)
    _connect(w, lab)
    return lab


def _connect(w: MainWindow, lab: LabPanel) -> None:
    lab.applyLearningRate.connect(lambda lr: apply_learning_rate(w, lr))
    lab.hints.connect_worker(w.host.worker)
    lab.hints.hintsChanged.connect(lambda count: _announce_hints(w, count))
    w.training.stateChanged.connect(lambda state: lab.set_locked(w.training.busy()))
    lab.set_locked(w.training.busy())
    _add_diagnostics(w, lab)
    _add_compare_action(w, lab)


def _add_diagnostics(w: MainWindow, lab: LabPanel) -> None:
    """Every run started from the window also gets a fresh Diagnostics callback (the hints panel's)."""
    others = w.training.run_callbacks
    w.training.run_callbacks = lambda project: (*others(project), lab.hints.callback())


def _add_compare_action(w: MainWindow, lab: LabPanel) -> None:
    """Right-click a run in the history: "Compare with…" on that run's settings."""
    table = w.history.table
    table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # other panels may add actions too
    action = QAction("Compare with…", table)
    action.setObjectName("compareWithAction")
    action.setToolTip("Train the selected run's settings again with one setting changed, same seed.")
    action.triggered.connect(lambda: compare_selected_run(w, lab))
    table.addAction(action)


def compare_selected_run(w: MainWindow, lab: LabPanel) -> Any:
    """Open a comparison for the last selected run (the current project when none is selected)."""
    runs = w.history.selected_runs()
    if not runs:
        return lab.compare_current()
    record = runs[-1]
    return lab.compare_with(record.project, record.name, matching_data(w, record.project))


def matching_data(w: MainWindow, project: Project) -> PreparedData | None:
    """The window's prepared data when ``project`` uses the same data settings (else the job prepares its own)."""
    return w.data_panel.prepared() if project.data == w.current_project().data else None


def apply_learning_rate(w: MainWindow, lr: float) -> None:
    """Set the project's learning rate (the finder's Apply), show it in the optimizer panel, mark the file edited."""
    if w.training.busy():
        w.status.show_message("The learning rate cannot change while training runs.")
        return
    project = w.current_project()
    project.optimizer.params = {**project.optimizer.params, "lr": float(lr)}
    w.optimizer_panel.load(project)
    w.document.touch()
    w.status.show_message(f"Learning rate set to {lr:g}.")


def _announce_hints(w: MainWindow, count: int) -> None:
    if count:
        w.status.show_message(f"Diagnostics: {count} hint(s) for this run; see {LAB_TAB} ▸ Diagnostics.")
