"""What a feature may use of the window: the one interface between the window and what it hosts.

The window hosts; features contribute (napari's ``Window.add_dock_widget``, app-model's actions).
A feature is a function ``attach(shell) -> object`` (the lab, the Inspect tab, the Experiments
menu, run commands); it receives a :class:`Shell` and registers what it adds: a workspace page,
actions and menus, engine callbacks for every run (``shell.training.add_run_callbacks``), slots
on the panels' and the worker's signals. It never imports the main window, never reaches into it
beyond this protocol and never replaces another feature's callable, so features can be attached
in any order. The main window implements the protocol; only the composition root imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QMenu, QWidget

    from studio.core.project import Project
    from studio.ui.actions import Actions
    from studio.ui.dialogs import Dialogs
    from studio.ui.document import ProjectDocument
    from studio.ui.plots import PlotsPanel
    from studio.ui.status import TrainingStatus
    from studio.ui.training import TrainingController
    from studio.ui.widgets.dataset_panel import DatasetPanel
    from studio.ui.widgets.layer_editor import LayerEditor
    from studio.ui.widgets.optimizer_panel import OptimizerPanel
    from studio.ui.widgets.run_history import RunHistory
    from studio.ui.workers import Worker
    from studio.ui.workspace import Workspace


class Shell(Protocol):
    """The window as its features see it.

    Services: ``worker`` (jobs and training signals), ``dialogs`` (every message and file chooser),
    ``status`` (the status bar), ``workspace`` (named pages), ``commands`` (the actions, menus and
    toolbar), the ``document`` (the open project, New/Open/Save), ``training`` (Train/Pause/Stop
    and the run callbacks), ``undo_stack`` (edits of the network).
    Panels, which answer their own state: ``editor.problem()``, ``editor.model()``,
    ``data_panel.prepared()``, ``optimizer_panel``, ``plots``, ``history``.
    """

    worker: Worker
    dialogs: Dialogs
    status: TrainingStatus
    workspace: Workspace
    commands: Actions
    document: ProjectDocument
    training: TrainingController
    undo_stack: QUndoStack
    editor: LayerEditor
    data_panel: DatasetPanel
    optimizer_panel: OptimizerPanel
    plots: PlotsPanel
    history: RunHistory

    def current_project(self) -> Project:
        """The project as the panels show it now."""
        ...

    def load_project_into_panels(self) -> None:
        """Show ``document.project`` in every panel (after New/Open and at start)."""
        ...

    def show_settings(self, name: str) -> None:
        """Bring the settings tab ``name`` (network, data, optimizer) to the front."""
        ...

    def add_menu(self, menu: QMenu, before: str = "help") -> None:
        """Put ``menu`` in the menu bar, before the menu ``before`` (a key of ``commands.menus``)."""
        ...

    def dialog_parent(self) -> QWidget:
        """The widget that dialogs and feature objects are parented to (they close with the window)."""
        ...

    def setWindowTitle(self, title: str) -> None:
        ...

    def close(self) -> bool:
        """Close the window (asking about a run and unsaved changes first)."""
        ...
