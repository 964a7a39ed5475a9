"""Runs one lab experiment at a time in the worker thread and brings its results back as signals.

Lab experiments are plain core functions ``f(..., progress=, stop=, on_event=)``. The runner submits
them to the one worker thread (never a second thread: the OpenMP trap in ``shared/conventions.md``),
filters the worker's job signals by its own job id, owns the stop flag and forwards tagged engine events.
The runner is a GUI-thread object, so its signals emitted from the worker thread reach receivers in the
GUI thread, queued.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot


class ExperimentRunner(QObject):
    """Submits an experiment to ``worker`` and re-emits its progress, live events, result or failure."""

    started = Signal()
    progress = Signal(float, str)
    event = Signal(str, object)  # (tag, engine event), only for experiments run with ``live=True``
    finished = Signal(object)
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, worker: Any, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.name = name
        self._job: int | None = None
        self._stop = threading.Event()
        worker.jobStarted.connect(self._started)
        worker.jobProgress.connect(self._progress)
        worker.jobFinished.connect(self._finished)
        worker.jobFailed.connect(self._failed)

    def busy(self) -> bool:
        return self._job is not None

    def run(self, fn: Callable[..., object], *args: Any, live: bool = False, stoppable: bool = True,
            **kwargs: Any) -> int:
        """Queue ``fn(*args, **kwargs, stop=..., [on_event=...])`` in the worker; returns the job id."""
        if self._job is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._stop = stop = threading.Event()
        if stoppable:
            # Also stop when the worker is closing (the window shuts down): the host joins the worker
            # thread, and a long experiment must not keep the window from closing.
            job_runner = getattr(self.worker, "runner", None)
            kwargs["stop"] = lambda: stop.is_set() or bool(getattr(job_runner, "closing", False))
        if live:
            kwargs["on_event"] = self.event.emit  # called in the worker thread; queued to the GUI thread
        self._job = self.worker.submit(self.name, functools.partial(fn, *args, **kwargs))
        self.busyChanged.emit(True)
        return self._job

    def stop(self) -> None:
        """Ask the running experiment to end at its next check (it returns what it has so far)."""
        self._stop.set()

    @Slot(int, str)
    def _started(self, job: int, _name: str) -> None:
        if job == self._job:
            self.started.emit()

    @Slot(int, float, str)
    def _progress(self, job: int, fraction: float, message: str) -> None:
        if job == self._job:
            self.progress.emit(fraction, message)

    @Slot(int, object)
    def _finished(self, job: int, result: object) -> None:
        if job == self._job:
            self._done()
            self.finished.emit(result)

    @Slot(int, str)
    def _failed(self, job: int, message: str) -> None:
        if job == self._job:
            self._done()
            self.failed.emit(message)

    def _done(self) -> None:
        self._job = None
        self.busyChanged.emit(False)
