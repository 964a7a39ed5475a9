"""One request at a time to the worker thread, latest wins: a drawing pad asks for a prediction on
every mouse move, but only the newest picture matters once the previous answer is back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.ui.workers import Job, Worker


class LatestJob(QObject):
    """Runs ``fn(*args)`` jobs on ``worker`` one after another, dropping requests that were overtaken."""

    finished = Signal(str, object)  # the request's tag, the job's result
    failed = Signal(str)

    def __init__(self, worker: Worker, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.name = name
        self._job: Job | None = None
        self._tag = ""
        self._waiting: tuple[str, Callable[..., Any], tuple[Any, ...]] | None = None

    @property
    def busy(self) -> bool:
        return self._job is not None

    def request(self, fn: Callable[..., Any], *args: Any, tag: str = "") -> None:
        """Submit now, or after the running job if there is one (replacing any request still waiting).

        ``tag`` comes back with the result, to tell what was asked (a drawing, a sample, a file).
        """
        if self._job is None:
            self._job, self._tag = self.worker.submit(self.name, fn, *args), tag
            self._job.finished.connect(self._finished)
            self._job.failed.connect(self._failed)
        else:
            self._waiting = (tag, fn, args)

    def _next(self) -> None:
        self._job = None
        if self._waiting is not None:
            tag, fn, args = self._waiting
            self._waiting = None
            self.request(fn, *args, tag=tag)

    def _finished(self, result: Any) -> None:
        tag, overtaken = self._tag, self._waiting is not None
        self._next()
        if not overtaken:
            self.finished.emit(tag, result)

    def _failed(self, message: str) -> None:
        self._next()
        self.failed.emit(message)
