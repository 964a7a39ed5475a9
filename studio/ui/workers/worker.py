"""The GUI's handle on the one long-lived thread that runs all torch work.

Every torch job (data preparation, training, evaluation, probes, export) goes through
:meth:`Worker.submit` so that all torch operations run in the same thread: once a second
thread has run a multi-threaded torch op, OpenMP throttles training to 0.2-0.7x (see
``shared/conventions.md``). Jobs run one after another in submission order.

Only the :class:`JobRunner` lives in that thread; the :class:`Worker` that owns the signals
stays in the GUI thread so that every receiver runs there. Training runs ``Trainer.fit`` as a
job. While it runs, the worker thread is busy inside ``fit`` and cannot process queued slots,
so :meth:`pause`, :meth:`resume` and :meth:`stop` are plain methods called from the GUI thread
that set the trainer's thread-safe flags directly.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from PySide6.QtCore import QObject, QThread, Signal, SignalInstance, Slot

from studio.core.advice import explain
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats
from studio.core.project import Project
from studio.ui.workers.bridge import SignalCallback
from studio.ui.workers.job import ENDS, FAILED, FINISHED, PROGRESS, SKIPPED, STARTED, Job

log = logging.getLogger(__name__)


class TrainerLike(Protocol):
    """What the worker needs of ``studio.core.engine.Trainer``."""

    def fit(self, resume: Any = None) -> Any: ...
    def request_stop(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...


TrainerFactory = Callable[[Project, Any, Sequence[Any]], TrainerLike]


def engine_trainer(project: Project, data: Any, callbacks: Sequence[Any]) -> TrainerLike:
    """The real trainer; imported here so that importing the GUI does not load the engine."""
    from studio.core.engine import Trainer

    return Trainer(project, data=data, callbacks=callbacks)


def _accepts_progress(fn: Callable[..., object]) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return "progress" in parameters


class JobRunner(QObject):
    """The part that lives in the worker thread: runs queued jobs one by one and reports each step.

    Reports go through ``report(job_id, kind, value)``, a queued signal of the GUI-thread
    :class:`Worker`, which hands them to the job's own :class:`Job` handle.
    """

    def __init__(self, worker: Worker) -> None:
        super().__init__()
        self._worker = worker
        self.closing = False

    @Slot(int, str, object, object)
    def run(self, job_id: int, name: str, fn: Callable[..., object], args: tuple[object, ...]) -> None:
        worker, report = self._worker, self._worker._report.emit
        # Queued before shutdown, or no longer wanted: start no torch work for it.
        if self.closing or worker._take_cancelled(job_id):
            report(job_id, SKIPPED, None)
            return
        report(job_id, STARTED, None)
        kwargs: dict[str, Any] = {}
        if _accepts_progress(fn):
            kwargs["progress"] = lambda fraction, message="": report(job_id, PROGRESS, (float(fraction), message))
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # every failure must reach the GUI and never end the thread
            log.exception("job %s (%d) failed", name, job_id)
            message, hint = explain(exc)
            report(job_id, FAILED, f"{name}: {message}" + (f" {hint}" if hint else ""))
            return
        report(job_id, FINISHED, result)


class Worker(QObject):
    """The GUI's handle on the worker thread: submit jobs, train, and listen to the signals.

    The Worker itself stays in the GUI thread and only its :class:`JobRunner` moves to the
    worker thread. Signals are emitted from the worker thread on this GUI-thread object, so
    every receiver, lambdas included, runs in the GUI thread (a signal of an object living in
    the worker thread would call a plain function directly in the worker thread).

    :meth:`submit` returns a :class:`Job` with the job's own signals. Training signals carry the engine's
    events unchanged; ``batchesEnded``, ``epochsEnded`` and ``layerStats`` carry lists. The events cross
    from the worker thread in parcels (:mod:`~studio.ui.workers.bridge`) and are emitted here,
    in the GUI thread, so each receiver is a direct call.
    """

    trainingStarted = Signal(object)  # a copy of the project being trained, before any event
    fitStarted = Signal(object)
    batchesEnded = Signal(list)
    layerStats = Signal(list)  # LayerStats events
    epochsEnded = Signal(list)  # EpochEnd events
    fitEnded = Signal(object)
    trainingFailed = Signal(str, str)  # message, what to try

    _queued = Signal(int, str, object, object)  # to the runner in the worker thread: id, name, fn, args
    _parcel = Signal(list)  # from the worker thread: training events in the engine's order
    _report = Signal(int, str, object)  # from the worker thread: job id, what happened, its value

    def __init__(self, trainer_factory: TrainerFactory = engine_trainer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._trainer_factory = trainer_factory
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._trainer: TrainerLike | None = None
        self._training = False
        self._stop_requested = False
        self._paused = False
        self._jobs: dict[int, Job] = {}  # submitted and not yet ended; only touched in the GUI thread
        self._cancelled: set[int] = set()
        self.runner = JobRunner(self)
        # The events a parcel's lists are made of, in the order their lists are emitted.
        self._lists: dict[type, SignalInstance] = {
            BatchEnd: self.batchesEnded,
            EpochEnd: self.epochsEnded,
            LayerStats: self.layerStats,
        }
        self._parcel.connect(self._deliver)
        self._report.connect(self._dispatch)

    def move_runner_to(self, thread: QThread) -> None:
        """Give the job runner to ``thread`` (done once by :class:`WorkerHost`)."""
        self.runner.moveToThread(thread)
        self._queued.connect(self.runner.run)

    # --- generic jobs -------------------------------------------------------------------------

    def submit(self, name: str, fn: Callable[..., object], *args: object) -> Job:
        """Run ``fn(*args)`` in the worker thread; ``fn`` gets ``progress=`` if it accepts one.

        Returns the job's handle; its signals come in the GUI thread, so connecting to them right
        after this call misses nothing.
        """
        with self._lock:
            job_id = next(self._ids)
        job = Job(job_id, name, self._cancel)
        self._jobs[job_id] = job  # kept until it ends: the caller may drop its handle
        self._queued.emit(job_id, name, fn, args)
        return job

    def is_closing(self) -> bool:
        """True once the host is shutting down: long jobs should return what they have."""
        return self.runner.closing

    def _cancel(self, job_id: int) -> None:
        with self._lock:
            self._cancelled.add(job_id)

    def _take_cancelled(self, job_id: int) -> bool:
        """Whether ``job_id`` was cancelled (asked once, by the runner, in the worker thread)."""
        with self._lock:
            if job_id in self._cancelled:
                self._cancelled.discard(job_id)
                return True
            return False

    @Slot(int, str, object)
    def _dispatch(self, job_id: int, kind: str, value: object) -> None:
        """Hand a report from the runner to its job (GUI thread); an ended job is forgotten here."""
        job = self._jobs.get(job_id)
        if job is None:
            return
        if kind in ENDS:
            del self._jobs[job_id]
            with self._lock:
                self._cancelled.discard(job_id)
        job._deliver(kind, value)

    # --- training -----------------------------------------------------------------------------

    def is_training(self) -> bool:
        """True from :meth:`start_training` until the run has ended (or failed)."""
        with self._lock:
            return self._training

    def start_training(
        self,
        project: Project,
        data: Any = None,
        callbacks: Sequence[Any] = (),
        resume: dict[str, Any] | None = None,
        prepare: Callable[[TrainerLike], object] | None = None,
    ) -> Job:
        """Queue a training run of a copy of ``project``; returns its job.

        ``data`` is a ``PreparedData`` (None: the trainer prepares it); ``callbacks`` are extra
        engine callbacks, called in the worker thread. ``resume`` is a ``training_state()`` to
        continue exactly (``fit(resume=...)``); ``prepare(trainer)`` runs in the worker thread
        before the fit (e.g. loading pretrained weights). The job finishes with the engine's
        ``FitResult``, or ``None`` after ``trainingFailed``.
        """
        with self._lock:
            if self._training:
                raise RuntimeError("a training run is already in progress")
            self._training = True
            self._stop_requested = False
            self._paused = False
        return self.submit("Training", self._train, project.copy(), data, tuple(callbacks), resume, prepare)

    def _train(
        self,
        project: Project,
        data: Any,
        callbacks: tuple[Any, ...],
        resume: dict[str, Any] | None = None,
        prepare: Callable[[TrainerLike], object] | None = None,
    ) -> Any:
        bridge = SignalCallback(self._parcel.emit, self.trainingFailed.emit)
        self.trainingStarted.emit(project)
        try:
            trainer = self._trainer_factory(project, data, [*callbacks, bridge])
            if prepare is not None:
                prepare(trainer)
            self._attach(trainer)
            return trainer.fit(resume=resume)
        except Exception as exc:  # reported to the learner; the thread lives on
            log.exception("training failed")
            bridge.flush()
            self.trainingFailed.emit(*explain(exc))
            return None
        finally:
            with self._lock:
                self._trainer = None
                self._training = False

    @Slot(list)
    def _deliver(self, events: list[Any]) -> None:
        """Emit a parcel (GUI thread): its start; its batches, epoch ends and statistics, a list each; its end.

        Every epoch's batches still arrive before its end. Receivers key batches, epochs and
        statistics by step or epoch, so none needs them interleaved, and three lists cost the GUI
        thread far less than a call per epoch to every receiver (a tiny model ends 30 epochs a second).
        """
        lists: dict[type, list[Any]] = {kind: [] for kind in self._lists}
        ends: list[FitEnd] = []
        for event in events:
            if isinstance(event, FitStart):
                self.fitStarted.emit(event)
            elif isinstance(event, FitEnd):
                ends.append(event)
            else:
                lists[type(event)].append(event)
        for kind, signal in self._lists.items():
            if lists[kind]:
                signal.emit(lists[kind])
        for end in ends:
            self.fitEnded.emit(end)

    def deliver(self, events: list[Any]) -> None:
        """Emit events of a run in another process (GUI thread), exactly as a parcel of this worker's own run.

        A run started as another process (:mod:`studio.ui.process_run`) reads the engine's events from its
        JSON stream; going through here, the plots, status bar, run history and Inspect tab cannot tell it
        from a run in this thread.
        """
        self._deliver(events)

    def _attach(self, trainer: TrainerLike) -> None:
        """Publish the trainer to the GUI thread, applying a stop or pause requested before it existed."""
        with self._lock:
            self._trainer = trainer
            if self._stop_requested:
                trainer.request_stop()
            elif self._paused:
                trainer.pause()

    def is_paused(self) -> bool:
        """True while a run exists and is asked to hold (it stops at the next batch boundary)."""
        with self._lock:
            return self._trainer is not None and self._paused

    def pause(self) -> None:
        """Hold training at the next batch boundary (called from the GUI thread).

        Ignored once a stop was asked for: a hold after the stop would keep the run waiting for a
        resume that never comes (a parcel still on its way can trigger a pause after Stop).
        """
        with self._lock:
            if self._stop_requested:
                return
            self._paused = True
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        """Continue a paused run."""
        with self._lock:
            self._paused = False
            if self._trainer is not None:
                self._trainer.resume()

    def stop(self) -> None:
        """End the run after the current batch; a paused run is released so that it can stop."""
        with self._lock:
            self._stop_requested = True
            self._paused = False
            if self._trainer is not None:
                self._trainer.request_stop()
                self._trainer.resume()

    def close(self) -> None:
        """Refuse queued jobs from now on and stop training (called by the host before joining)."""
        self.runner.closing = True
        self.stop()
