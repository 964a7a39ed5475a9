"""Runs one lab experiment at a time in the worker thread and brings its results back as signals.

Lab experiments are plain core functions ``f(..., progress=, stop=, on_event=)``. The runner submits
them to the one worker thread (never a second thread: the OpenMP trap in ``shared/conventions.md``),
forwards its job's signals, owns the stop flag and forwards tagged engine events (``liveEvent``). The runner is a
GUI-thread object, so its ``liveEvent`` signal, emitted from the worker thread, reaches receivers in the
GUI thread, queued.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.ui.workers import Job, Worker


class ExperimentRunner(QObject):
    """Submits an experiment to ``worker`` and re-emits its progress, live events, result or failure."""

    started = Signal()
    progress = Signal(float, str)
    liveEvent = Signal(str, object)  # (tag, engine event), only for experiments run with ``live=True``
    finished = Signal(object)
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, worker: Worker, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.name = name
        self._job: Job | None = None
        self._stop = threading.Event()

    def busy(self) -> bool:
        return self._job is not None

    def run(self, fn: Callable[..., object], *args: Any, live: bool = False, stoppable: bool = True,
            **kwargs: Any) -> Job:
        """Queue ``fn(*args, **kwargs, stop=..., [on_event=...])`` in the worker; returns its job."""
        if self._job is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._stop = stop = threading.Event()
        if stoppable:
            # Also stop when the worker is closing (the window shuts down): the host joins the worker
            # thread, and a long experiment must not keep the window from closing.
            worker = self.worker
            kwargs["stop"] = lambda: stop.is_set() or worker.is_closing()
        if live:
            kwargs["on_event"] = self.liveEvent.emit  # called in the worker thread; queued to the GUI thread
        job = self.worker.submit(self.name, functools.partial(fn, *args, **kwargs))
        job.started.connect(self.started)
        job.progress.connect(self.progress)
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        self._job = job
        self.busyChanged.emit(True)
        return job

    def stop(self) -> None:
        """Ask the running experiment to end at its next check (it returns what it has so far)."""
        self._stop.set()

    @Slot(object)
    def _finished(self, result: object) -> None:
        self._done()
        self.finished.emit(result)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._done()
        self.failed.emit(message)

    def _done(self) -> None:
        self._job = None
        self.busyChanged.emit(False)
