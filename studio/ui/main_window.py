"""The main window: composition only. It builds the panels, lays them out and implements the
:class:`~studio.ui.shell.Shell` that its features receive; the connections between the panels live
in :mod:`studio.ui.wiring`, file commands in :mod:`studio.ui.document`, training state in
:mod:`studio.ui.training`, and what is remembered in :mod:`studio.ui.persist`.

Features (run commands, the lab, the Inspect tab, the Experiments menu) are attached from
``FEATURES``, a name and an ``attach(shell)`` each. None depends on another having been attached
first: pages go where their ``order`` says, run callbacks are registered, not wrapped, and a
feature that needs another's page looks it up by name when it is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import QMainWindow, QMenu, QSplitter, QTabWidget, QToolBar, QWidget

from studio.core.presets import default_project
from studio.core.project import Project
from studio.core.vocab import MessageKind
from studio.ui import persist, style, wiring
from studio.ui.actions import Actions
from studio.ui.dialogs import Dialogs, Message
from studio.ui.document import ProjectDocument
from studio.ui.from_folder import FolderProjects
from studio.ui.inspect.panel import InspectPanel
from studio.ui.inspect.window import attach_inspect
from studio.ui.lab.lab_panel import LabPanel
from studio.ui.lab.window import attach_lab
from studio.ui.lessons import attach_lessons
from studio.ui.plots import PlotsPanel
from studio.ui.run_commands import RunCommands
from studio.ui.shell import Shell
from studio.ui.status import TrainingStatus
from studio.ui.targets import attach_targets
from studio.ui.training import TrainingController
from studio.ui.widgets.dataset_panel import DatasetPanel
from studio.ui.widgets.layer_editor import LayerEditor
from studio.ui.widgets.optimizer_panel import OptimizerPanel
from studio.ui.widgets.run_history import RunHistory
from studio.ui.widgets.scroll import scrollable
from studio.ui.workers import WorkerHost
from studio.ui.workspace import TRAIN_ORDER, TRAIN_PAGE, Workspace

TABS = ("network", "data", "optimizer")
MINIMUM_SIZE = (960, 640)  # fits a 1024×700 screen with its frame; smaller would cut the editors' fields
HISTORY_MIN_WIDTH = 220
T = TypeVar("T")

Feature = Callable[[Shell], object]  # attach(shell) -> what the feature made (kept by name on the window)
FEATURES: dict[str, Feature] = {
    "runs": RunCommands,  # File > Resume Run…, Fine-tune From…, Export…; a run folder for every run
    "from_folder": FolderProjects,  # File > New from Image Folder…
    "lab": attach_lab,  # the Lab page; diagnostics on every run
    "inspect": attach_inspect,  # the Inspect page; live views on every run
    "lessons": attach_lessons,  # the Experiments menu: each classic lesson's preset
    "targets": attach_targets,  # where Train trains: this window, N local processes, a command
}


def minimum_size(screen: QSize) -> QSize:
    """:data:`MINIMUM_SIZE`, but never more than the screen offers (a smaller screen scrolls instead)."""
    return QSize(*MINIMUM_SIZE).boundedTo(screen)


class MainWindow(QMainWindow):
    """One project, its editors, the live plots and the run history around one worker thread."""

    def __init__(
        self,
        project: Project | None = None,
        host: WorkerHost | None = None,
        dialogs: Dialogs | None = None,
        parent: QWidget | None = None,
        features: Mapping[str, Feature] = FEATURES,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setMinimumSize(minimum_size(self.screen().availableGeometry().size()))
        self.setWindowIcon(style.app_icon())
        self.dialogs = dialogs or Dialogs(self)
        self.host = host or WorkerHost(parent=self)
        self.worker = self.host.worker
        self._shut_down = False
        self.document = ProjectDocument(project or default_project(), self.dialogs, default_project, self)
        self.undo_stack = QUndoStack(self)
        self.editor = LayerEditor(self.undo_stack)
        self.data_panel = DatasetPanel(self.worker)
        self.optimizer_panel = OptimizerPanel()
        self.plots = PlotsPanel()
        self.history = RunHistory()
        self.commands = Actions(self)
        self.status = TrainingStatus(self.statusBar())
        self.training = TrainingController(
            self.worker, self.current_project, self.train_blocker, self.data_panel, self.dialogs, self
        )
        self.workspace = Workspace()
        self._lay_out()
        wiring.connect_all(self)
        self.features = {name: attach(self) for name, attach in features.items()}
        persist.restore_window(self, self.splitters(), self.tabs)
        self.load_project_into_panels()

    def _lay_out(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.tabs.setAccessibleName("Settings")
        self.tabs.addTab(scrollable(self.editor), "Network")
        self.tabs.addTab(self.data_panel, "Data")
        self.tabs.addTab(self.optimizer_panel, "Optimizer")
        # Editors and run history on top, the live plots across the full width below: at 1280×800 both
        # the three-column layer editor and the 3×2 plot grid get their natural width.
        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.top.setObjectName("topSplitter")
        self.top.addWidget(self.tabs)
        self.top.addWidget(self.history)
        # A narrower window takes its width from the history (its columns scroll, its rows have tooltips),
        # not from the editors, whose three columns need their width.
        self.top.setStretchFactor(1, 1)
        self.top.setChildrenCollapsible(False)
        self.history.setMinimumWidth(HISTORY_MIN_WIDTH)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setObjectName("mainSplitter")
        self.split.addWidget(self.top)
        self.split.addWidget(scrollable(self.plots))
        self.split.setStretchFactor(1, 1)
        self.top.setSizes([800, 480])
        self.split.setSizes([340, 400])
        self.workspace.add_page(TRAIN_PAGE, self.split, "Train", order=TRAIN_ORDER)
        self.setCentralWidget(self.workspace)
        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setIconSize(style.TOOLBAR_ICON_SIZE)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setMovable(False)
        self.addToolBar(toolbar)
        self.commands.build_menus(self.menuBar())
        self.commands.build_toolbar(toolbar)

    def splitters(self) -> list[QSplitter]:
        return [self.split, self.top]

    # --- the Shell -----------------------------------------------------------------------------
    def show_settings(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))

    def add_menu(self, menu: QMenu, before: str = "help") -> None:
        self.menuBar().insertMenu(self.commands.menus[before].menuAction(), menu)

    def dialog_parent(self) -> QWidget:
        return self

    def current_project(self) -> Project:
        """The project as the panels show it now (the document is kept in step on every edit)."""
        return self.document.project

    def load_project_into_panels(self) -> None:
        """Show ``document.project`` in every panel (after New/Open and at start)."""
        project = self.document.project
        self.undo_stack.clear()
        self.editor.set_model(project.model)
        self.optimizer_panel.load(project)
        self.data_panel.load(project)
        wiring.update_network_io(self)  # the editor hears that the new data is loading, not the old shapes
        self.plots.clear()
        self.setWindowTitle(self.document.title())

    def train_blocker(self) -> str | None:
        """Why Train cannot start now, in words for the learner; None when it can."""
        return wiring.train_blocker(self)

    # --- the features, by name (for tests and scripts) -------------------------------------------
    @property
    def runs(self) -> RunCommands:
        return self._feature("runs", RunCommands)

    @property
    def lab(self) -> LabPanel:
        return self._feature("lab", LabPanel)

    @property
    def inspect(self) -> InspectPanel:
        return self._feature("inspect", InspectPanel)

    @property
    def lessons(self) -> QMenu:
        return self._feature("lessons", QMenu)

    def _feature(self, name: str, kind: type[T]) -> T:
        feature = self.features[name]
        if not isinstance(feature, kind):
            raise TypeError(f"the feature {name!r} is a {type(feature).__name__}, not a {kind.__name__}")
        return feature

    # --- closing -------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down or self.may_close():
            persist.save_window(self, self.splitters(), self.tabs)
            self.shutdown()
            event.accept()
        else:
            event.ignore()

    def may_close(self) -> bool:
        """Ask about a running fit and unsaved changes; True when the window may close."""
        if self.training.busy():
            answer = self.dialogs.message(Message(
                MessageKind.QUESTION, "Training is running", "Training is still running. Stop it and close the window?",
                ("yes", "no"), "no",
            ))
            if answer != "yes":
                return False
        return self.document.maybe_save()

    def shutdown(self) -> None:
        """Stop any run and join the worker thread (idempotent); no thread is left behind."""
        if self._shut_down:
            return
        self._shut_down = True
        self.training.stop()
        self.training.shutdown()
        self.host.shutdown()
