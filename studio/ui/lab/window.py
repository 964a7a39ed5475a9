"""How the lab joins the window: a "Lab" page in the workspace, "Compare with…" on the run history, the
learning-rate finder's Apply into the project, diagnostics on every run, and no new experiments while
the window trains. A feature: :func:`attach_lab` receives the :class:`~studio.ui.shell.Shell` only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from studio.core.data import PreparedData
from studio.core.project import Project
from studio.ui.lab.lab_panel import LabPanel
from studio.ui.lab.source import LabSource
from studio.ui.shell import Shell
from studio.ui.workspace import LAB_ORDER

LAB_PAGE, LAB_TAB = "lab", "Lab"


def attach_lab(w: Shell) -> LabPanel:
    """Build the lab, add it to the workspace as the page ``"lab"`` and connect it."""
    lab = LabPanel(w.worker, LabSource(w.current_project, w.data_panel.prepared))
    w.workspace.add_page(LAB_PAGE, lab, LAB_TAB, order=LAB_ORDER, scroll=True)
    _connect(w, lab)
    return lab


def _connect(w: Shell, lab: LabPanel) -> None:
    lab.applyLearningRate.connect(lambda lr: apply_learning_rate(w, lr))
    lab.hints.connect_worker(w.worker)
    lab.hints.hintsChanged.connect(lambda count: _announce_hints(w, count))
    w.training.stateChanged.connect(lambda state: lab.set_locked(w.training.busy()))
    lab.set_locked(w.training.busy())
    _add_diagnostics(w, lab)
    _add_compare_action(w, lab)


def _add_diagnostics(w: Shell, lab: LabPanel) -> None:
    """Every run started from the window also gets a fresh Diagnostics callback (the hints panel's)."""
    w.training.add_run_callbacks(lambda _project: [lab.hints.callback()])


def _add_compare_action(w: Shell, lab: LabPanel) -> None:
    """Right-click a run in the history: "Compare with…" on that run's settings."""
    table = w.history.table
    table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # other panels may add actions too
    action = QAction("Compare with…", table)
    action.setObjectName("compareWithAction")
    action.setToolTip("Train the selected run's settings again with one setting changed, same seed.")
    action.triggered.connect(lambda: compare_selected_run(w, lab))
    table.addAction(action)


def compare_selected_run(w: Shell, lab: LabPanel) -> Any:
    """Open a comparison for the last selected run (the current project when none is selected)."""
    runs = w.history.selected_runs()
    if not runs:
        return lab.compare_current()
    record = runs[-1]
    return lab.compare_with(record.project, record.name, matching_data(w, record.project))


def matching_data(w: Shell, project: Project) -> PreparedData | None:
    """The window's prepared data when ``project`` uses the same data settings (else the job prepares its own)."""
    return w.data_panel.prepared() if project.data == w.current_project().data else None


def apply_learning_rate(w: Shell, lr: float) -> None:
    """Set the project's learning rate (the finder's Apply), show it in the optimizer panel, mark the file edited."""
    if w.training.busy():
        w.status.show_message("The learning rate cannot change while training runs.")
        return
    project = w.current_project()
    project.optimizer.params = {**project.optimizer.params, "lr": float(lr)}
    w.optimizer_panel.load(project)
    w.document.touch()
    w.status.show_message(f"Learning rate set to {lr:g}.")


def _announce_hints(w: Shell, count: int) -> None:
    if count:
        w.status.show_message(f"Diagnostics: {count} hint(s) for this run; see {LAB_TAB} ▸ Diagnostics.")
