"""How the window's parts talk: edits flow into the project document, loaded data tells the
layer editor its input and output sizes, worker events feed the plots and the status bar, and
the training state enables actions and locks the editors.

Everything here goes through the :class:`~studio.ui.shell.Shell`; no handler relies on running
before or after another receiver of the same signal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QActionGroup

from studio.core.memory import TrainingPlan
from studio.core.optim import LOSSES
from studio.core.project import Project
from studio.core.vocab import MessageKind, TrainingState
from studio.ui import persist, style
from studio.ui.dialogs import Message
from studio.ui.shell import Shell

ABOUT = "Training Studio: build a network by clicking, train it and watch it learn."


def connect_all(w: Shell) -> None:
    connect_commands(w)
    connect_editing(w)
    connect_training(w)


def connect_commands(w: Shell) -> None:
    """Menu and toolbar actions to their handlers."""
    w.commands.connect({
        "new": lambda: w.document.new(),
        "open": lambda: w.document.open(),
        "save": lambda: w.document.save(),
        "save_as": lambda: w.document.save_as(),
        "quit": w.close,
        "undo": w.undo_stack.undo,
        "redo": w.undo_stack.redo,
        "train": w.training.train,
        "pause": w.training.toggle_pause,
        "stop": w.training.stop,
        "show_network": lambda: w.show_settings("network"),
        "show_data": lambda: w.show_settings("data"),
        "show_optimizer": lambda: w.show_settings("optimizer"),
        "about": lambda: w.dialogs.message(Message(MessageKind.INFO, "About Training Studio", ABOUT)),
    })
    # Use the signal's value, not the stack: the stack also emits while it is being destroyed.
    w.undo_stack.canUndoChanged.connect(lambda can: w.commands["undo"].setEnabled(can and not w.training.busy()))
    w.undo_stack.canRedoChanged.connect(lambda can: w.commands["redo"].setEnabled(can and not w.training.busy()))
    sync_undo(w)
    w.document.replaced.connect(w.load_project_into_panels)
    w.document.dirtyChanged.connect(lambda _dirty: w.setWindowTitle(w.document.title()))
    w.document.pathChanged.connect(lambda _path: w.setWindowTitle(w.document.title()))
    w.document.pathChanged.connect(persist.remember_project)  # reopened at the next start
    w.document.recentChanged.connect(lambda _paths: fill_recent_menu(w))
    w.document.announced.connect(w.status.show_message)
    fill_recent_menu(w)
    fill_theme_menu(w)


def fill_theme_menu(w: Shell) -> None:
    """View > Theme: System, Light, Dark (one checked; remembered for the next start)."""
    menu = w.commands.menus["theme"]
    group = QActionGroup(menu)
    group.setExclusive(True)
    current = style.chosen_theme()
    for theme in style.THEMES:
        action = QAction(theme.title(), menu)
        action.setObjectName(f"theme_{theme}")
        action.setCheckable(True)
        action.setChecked(theme == current)
        action.triggered.connect(lambda _checked=False, t=theme: pick_theme(w, t))
        group.addAction(action)
        menu.addAction(action)


def pick_theme(w: Shell, theme: str) -> None:
    style.set_theme(theme)
    w.commands.retint()
    w.status.show_message(f"Theme: {theme}.")


def sync_undo(w: Shell) -> None:
    """Undo and redo change the network, so they are off while a run trains it."""
    idle = not w.training.busy()
    w.commands["undo"].setEnabled(idle and w.undo_stack.canUndo())
    w.commands["redo"].setEnabled(idle and w.undo_stack.canRedo())


def fill_recent_menu(w: Shell) -> None:
    menu = w.commands.menus["recent"]
    menu.clear()
    for path in w.document.recent():
        action = QAction(path, menu)
        action.triggered.connect(lambda _checked=False, p=path: w.document.open(p))
        menu.addAction(action)
    menu.setEnabled(bool(menu.actions()))


def connect_editing(w: Shell) -> None:
    """Panel edits update the project; loaded data sets the network's input and output sizes."""
    def edit(apply: Callable[[Project], None]) -> None:
        # Views re-emit on refreshes (a new input shape, a reload); only a real change marks the file dirty.
        project = w.document.project
        before = project.to_dict()
        apply(project)
        if project.to_dict() != before:
            w.document.touch()

    def model_changed(*_args: Any) -> None:
        edit(lambda project: setattr(project, "model", w.editor.model()))

    def validity(ok: bool, reason: str) -> None:
        tip = "Train the network (Ctrl+Enter)" if ok else f"Cannot train yet: {reason}"
        w.commands["train"].setToolTip(tip)
        if ok and not w.data_panel.error_text():
            w.status.problem_solved()  # the refusal the status bar showed is fixed

    def data_ready(prepared: Any) -> None:
        w.optimizer_panel.set_task(prepared.task)
        update_network_io(w)
        if not w.editor.problem():
            w.status.problem_solved()

    w.editor.modelChanged.connect(model_changed)
    w.editor.modelChanged.connect(lambda: w.data_panel.show_backbone(w.editor.model().layers))
    w.editor.validityChanged.connect(validity)
    w.data_panel.edited.connect(lambda: edit(w.data_panel.store))
    w.data_panel.edited.connect(lambda: update_network_io(w))  # other data: the old shapes no longer apply
    w.data_panel.dataReady.connect(data_ready)
    w.data_panel.loadFailed.connect(lambda _message: update_network_io(w))
    w.optimizer_panel.edited.connect(lambda: edit(w.optimizer_panel.store))
    w.optimizer_panel.edited.connect(lambda: update_network_io(w))  # batch size and optimizer: the memory guard
    w.optimizer_panel.lossChanged.connect(lambda _name: update_network_io(w))


def update_network_io(w: Shell) -> None:
    """Tell the layer editor what goes in (the loaded data's shape) and how many outputs the loss needs.

    While the project's data is not loaded (at launch, after Open, after a data setting changed) the
    editor is told so: it must not judge the network against the data it saw before.
    """
    data = w.data_panel.prepared()
    if data is None:
        dataset = w.document.project.data.dataset
        state = "loading…" if w.data_panel.is_loading() else "not loaded"
        w.editor.set_input(None, None, f"{dataset} ({state})")
        return
    loss = LOSSES.get(w.document.project.loss.name)
    n_outputs = loss.outputs(data.task, data.num_classes or None, data.target_dim or None)
    shape = "×".join(str(s) for s in data.input_shape)
    target = f"{data.num_classes} classes" if data.task == "classification" else f"{data.target_dim} targets"
    training = w.document.project.training
    plan = TrainingPlan(min(training.batch_size, max(data.n_train, 1)), w.document.project.optimizer, training.device)
    w.editor.set_input(data.input_shape, n_outputs, f"{w.document.project.data.dataset}: {shape} in, {target}", plan)


def train_blocker(w: Shell) -> str | None:
    """Why Train cannot start now (a broken network, unloadable data), else None.

    The editor is first told about the data loaded now: a feature that starts a run as soon as
    data arrives (resume) must get the same answer whether or not ``data_ready`` ran before it.
    """
    update_network_io(w)
    problem = w.editor.problem()
    if problem:
        return f"The network cannot be built: {problem}"
    error = w.data_panel.error_text()
    if error:
        return f"The data could not be loaded: {error}"
    return None


def connect_training(w: Shell) -> None:
    """Worker events to plots, status bar and run history; run state to actions and locks."""
    worker = w.worker
    w.plots.connect_worker(worker)
    w.history.connect_worker(worker)
    w.history.selectionChanged.connect(w.plots.show_runs)
    worker.fitStarted.connect(w.status.on_fit_started)
    worker.batchesEnded.connect(w.status.on_batches)
    worker.epochsEnded.connect(w.status.on_epochs)
    worker.fitEnded.connect(w.status.on_fit_end)
    w.training.stateChanged.connect(lambda state: apply_state(w, state))
    w.training.rejected.connect(w.status.show_problem)
    apply_state(w, w.training.state)



def apply_state(w: Shell, state: TrainingState) -> None:
    """Enable the commands that make sense now and lock the editors while a run is on."""
    busy = state != TrainingState.IDLE
    w.commands["train"].setEnabled(not busy)
    w.commands["pause"].setEnabled(state in (TrainingState.RUNNING, TrainingState.PAUSED))
    w.commands["stop"].setEnabled(busy and state != TrainingState.STOPPING)
    for key in ("new", "open"):
        w.commands[key].setEnabled(not busy)
    paused = state == TrainingState.PAUSED
    w.commands.set_text("pause", "&Resume" if paused else "&Pause", "play" if paused else "pause")
    for panel in (w.editor, w.data_panel, w.optimizer_panel, w.history):
        panel.set_locked(busy)
    sync_undo(w)
    w.status.show_state(state)
