"""Train / Pause / Resume / Stop as a small state machine over the worker.

The controller decides *when* training may start (a valid network, loaded data) and tracks the
run's state; the window maps states to enabled actions and locked editors. The data source is
the dataset panel: when its data is not loaded yet, Train asks it to load and starts when ready.
Features add engine callbacks to every run with :meth:`TrainingController.add_run_callbacks` (the
run folder's checkpoints, the lab's diagnostics, the Inspect tab's views); a run may continue a saved
state (``train(resume=...)``) or start from ``prepare_next`` (pretrained weights).

The run goes to the controller's :class:`~studio.core.targets.RunTarget`: this window's worker
thread (the default), or another process (:mod:`studio.ui.process_run`: N local processes under
torchrun, or the user's command), which trains the project itself, so no data is loaded here for it
and the engine callbacks of features do not apply; it writes its own run folder, announced by
``processRunStarted``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal, SignalInstance

from studio.core.errors import StudioError
from studio.core.project import Project, save_project
from studio.core.targets import RunTarget, process_command
from studio.core.vocab import MessageKind, TrainingState
from studio.ui.dialogs import Dialogs, Message
from studio.ui.process_run import ProcessRun, project_file_for
from studio.ui.runs import new_run_folder, runs_root
from studio.ui.workers import Job, Worker

# How long a closing window waits for a process run to stop cleanly before ending it.
STOP_WAIT_MS = 30_000

RunCallbacks = Callable[[Project], Sequence[Any]]  # engine callbacks for one run of a project


class DataSource(Protocol):
    """What the controller needs of the dataset panel."""

    dataReady: SignalInstance
    loadFailed: SignalInstance

    def prepared(self) -> Any: ...
    def request_load(self, immediate: bool = False) -> None: ...


class TrainingController(QObject):
    """Starts, pauses, resumes and stops runs on ``worker``; ``state`` is one of the module constants."""

    stateChanged = Signal(str)
    rejected = Signal(str)  # why Train was refused
    processRunStarted = Signal(str)  # the run folder of a run started as another process

    def __init__(
        self,
        worker: Worker,
        project: Callable[[], Project],
        check: Callable[[], str | None],
        data: DataSource,
        dialogs: Dialogs,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.worker = worker
        self.state = TrainingState.IDLE
        self._project = project
        self._check = check
        self._data = data
        self.dialogs = dialogs
        self._job: Job | None = None
        self._process: ProcessRun | None = None
        self._project_file: Path | None = None
        self.target = RunTarget()
        self._resume: dict[str, Any] | None = None
        self._callback_factories: list[RunCallbacks] = []
        # A one-shot step run on the trainer in the worker before the next fit (set by fine-tuning).
        self.prepare_next: Callable[[Any], object] | None = None
        data.dataReady.connect(self._data_ready)
        data.loadFailed.connect(self._data_failed)
        # Bound methods, not lambdas: Qt disconnects them when this controller is destroyed, so a
        # worker that outlives the window never calls into a deleted object.
        worker.trainingFailed.connect(self._training_failed)

    def add_run_callbacks(self, factory: RunCallbacks) -> None:
        """Give every run from now on the engine callbacks ``factory(project)`` makes for it.

        Factories are independent of each other: none sees or wraps another's callbacks, so
        features may register in any order (should an order ever matter, it belongs in the
        callbacks as data, like fastai's ``Callback.order``, not in the order of registration).
        """
        self._callback_factories.append(factory)

    def run_callbacks(self, project: Project) -> list[Any]:
        """Fresh engine callbacks for a run of ``project``, from every registered factory."""
        return [callback for factory in self._callback_factories for callback in factory(project)]

    def set_target(self, target: RunTarget) -> None:
        """Where the next runs go (the run in progress stays where it is)."""
        self.target = target

    def busy(self) -> bool:
        """True while a run is being prepared, runs, is paused or is stopping."""
        return self.state != TrainingState.IDLE

    # --- commands ------------------------------------------------------------------------------
    def train(self, resume: dict[str, Any] | None = None) -> bool:
        """Start a run (continuing the engine state ``resume`` if given), or say why not; True if it starts."""
        if self.state != TrainingState.IDLE:
            return False
        reason = self._check()
        if reason:
            self.rejected.emit(reason)
            self.dialogs.message(Message(MessageKind.ERROR, "Cannot train yet", reason))
            return False
        if not self.target.in_process:
            return self._start_process(resume)
        self._resume = resume
        data = self._data.prepared()
        if data is None:
            self._set_state(TrainingState.PREPARING)
            self._data.request_load(immediate=True)
        else:
            self._start(data)
        return True

    def toggle_pause(self) -> None:
        """Pause a running fit at the next batch boundary, or resume a paused one."""
        if self.state == TrainingState.RUNNING:
            self._runner().pause()
            self._set_state(TrainingState.PAUSED)
        elif self.state == TrainingState.PAUSED:
            self._runner().resume()
            self._set_state(TrainingState.RUNNING)

    def stop(self) -> None:
        """Stop after the current batch (a pending start is simply cancelled)."""
        if self.state == TrainingState.PREPARING:
            self._resume = None
            self._set_state(TrainingState.IDLE)
        elif self.state in (TrainingState.RUNNING, TrainingState.PAUSED):
            self._runner().stop()
            self._set_state(TrainingState.STOPPING)

    def shutdown(self) -> None:
        """The window closes: a process run is asked to stop cleanly (checkpoint and run folder), then ended."""
        if self._process is not None:
            self._process.finish(STOP_WAIT_MS)

    def _runner(self) -> Worker | ProcessRun:
        """Whoever runs the current fit: the worker thread, or the process."""
        return self._process if self._process is not None else self.worker

    # --- events --------------------------------------------------------------------------------
    def _start(self, data: Any) -> None:
        project = self._project()
        resume, self._resume = self._resume, None
        prepare, self.prepare_next = self.prepare_next, None
        callbacks = self.run_callbacks(project)
        self._job = self.worker.start_training(project, data, callbacks, resume=resume, prepare=prepare)
        self._job.finished.connect(self._job_done)
        self._job.failed.connect(self._job_done)
        self._set_state(TrainingState.RUNNING)

    def _start_process(self, resume: dict[str, Any] | None) -> bool:
        """Start the project as another process into a new run folder; False (and the reason shown) if it cannot."""
        if resume is not None:
            return self._refuse("Resuming continues in this window: choose \"this window\" as the target.")
        project = self._project()
        try:
            folder = new_run_folder(runs_root(), project)
            command = process_command(self.target, project_file_for(folder), folder)
            save_project(project_file_for(folder), project)
        except (OSError, StudioError) as exc:
            return self._refuse(f"Cannot start the run: {exc}")
        process = ProcessRun(self.worker, project, command, self)
        process.ended.connect(self._process_done)
        process.failed.connect(self._process_done)
        self._process, self._project_file = process, project_file_for(folder)
        self._set_state(TrainingState.RUNNING)
        self.processRunStarted.emit(str(folder))
        process.start()
        return True

    def _refuse(self, reason: str) -> bool:
        self.rejected.emit(reason)
        self.dialogs.message(Message(MessageKind.ERROR, "Cannot train yet", reason))
        return False

    def _process_done(self, _outcome: object) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.deleteLater()
        if self._project_file is not None:
            with contextlib.suppress(OSError):  # written only for the process (its run folder has its own copy)
                self._project_file.unlink(missing_ok=True)
            self._project_file = None
        self._set_state(TrainingState.IDLE)

    def _data_ready(self, data: Any) -> None:
        if self.state != TrainingState.PREPARING:
            return
        # Train was pressed before this data had loaded: the network was not checked against it yet.
        reason = self._check()
        if reason:
            self._resume = None
            self._set_state(TrainingState.IDLE)
            self.rejected.emit(reason)
            self.dialogs.message(Message(MessageKind.ERROR, "Cannot train yet", reason))
            return
        self._start(data)

    def _data_failed(self, message: str) -> None:
        if self.state == TrainingState.PREPARING:
            self._resume = None
            self._set_state(TrainingState.IDLE)
            self.rejected.emit(message)

    def _job_done(self, _outcome: object) -> None:
        """The training job ended (its result, or why it failed): the window is idle again."""
        self._job = None
        self._set_state(TrainingState.IDLE)

    def _training_failed(self, message: str, hint: str) -> None:
        text = f"{message}\n\nWhat to try: {hint}" if hint else message
        self.dialogs.message(Message(MessageKind.ERROR, "Training stopped with an error", text))

    def _set_state(self, state: TrainingState) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

