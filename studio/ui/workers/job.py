"""A handle on one background job, returned by :meth:`studio.ui.workers.Worker.submit`.

Like napari's ``create_worker``: whoever submits a job listens to that job's own signals, so no
receiver has to filter a shared signal by id. A :class:`Job` lives in the GUI thread and its
signals are emitted there (the worker forwards what the job runner reports), so every receiver
is a direct call in the GUI thread and nothing arrives before the event loop runs again: a
caller may connect after :meth:`~studio.ui.workers.Worker.submit` has returned.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import ClassVar, cast

from PySide6.QtCore import QObject, Signal

# What the job runner reports about a job, in the order it happens (``skipped`` instead of the rest).
STARTED, PROGRESS, FINISHED, FAILED, SKIPPED = "started", "progress", "finished", "failed", "skipped"
ENDS = frozenset({FINISHED, FAILED, SKIPPED})


class JobState(str, Enum):
    """Where a job is: waiting in the queue, running in the worker thread, or ended one way or another."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(QObject):
    """One submitted job: ``started``, ``progress(fraction, message)``, then ``finished(result)`` or
    ``failed(message)``.

    ``cancel()`` says the caller no longer wants it: a job still queued is skipped, a running one
    finishes in the worker but its signals stay silent.
    """

    started = Signal()
    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, job_id: int, name: str, cancel: Callable[[int], None]) -> None:
        super().__init__()
        self.id = job_id
        self.name = name
        self.state = JobState.QUEUED
        self.result: object = None
        self.error = ""
        self._cancel = cancel

    def done(self) -> bool:
        """True once the job has finished, failed or been cancelled."""
        return self.state in (JobState.FINISHED, JobState.FAILED, JobState.CANCELLED)

    def cancel(self) -> None:
        """Skip the job if it has not started; in any case emit nothing more."""
        if not self.done():
            self.state = JobState.CANCELLED
            self._cancel(self.id)

    def _deliver(self, kind: str, value: object) -> None:
        """Apply a report from the runner (called by the worker in the GUI thread); silent once cancelled."""
        if self.state != JobState.CANCELLED:
            self._HANDLERS[kind](self, value)

    def _on_started(self, _value: object) -> None:
        self.state = JobState.RUNNING
        self.started.emit()

    def _on_progress(self, value: object) -> None:
        fraction, message = cast(tuple[float, str], value)  # what the runner's progress reports
        self.progress.emit(fraction, message)

    def _on_finished(self, value: object) -> None:
        self.state, self.result = JobState.FINISHED, value
        self.finished.emit(value)

    def _on_failed(self, value: object) -> None:
        self.state, self.error = JobState.FAILED, str(value)
        self.failed.emit(self.error)

    def _on_skipped(self, _value: object) -> None:  # the worker is closing: the job never runs
        self.state = JobState.CANCELLED

    _HANDLERS: ClassVar[dict[str, Callable[[Job, object], None]]] = {
        STARTED: _on_started, PROGRESS: _on_progress, FINISHED: _on_finished, FAILED: _on_failed,
        SKIPPED: _on_skipped,
    }

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.name!r} {self.state.value}>"
