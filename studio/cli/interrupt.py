"""Ctrl+C and SIGTERM during a headless run: stop at the next batch and keep the work, never a traceback.

The first signal sets the trainer's stop flag (the same one the window's Stop button sets), so the
fit ends at the next batch boundary and the checkpoint callback writes a resumable checkpoint. A
second signal, or one that arrives before training started, raises :class:`Interrupted`, which
the command line turns into one line and exit status 128 + the signal number (130, 143).
"""

from __future__ import annotations

import signal
from types import FrameType, TracebackType
from typing import Any

from studio.core.callbacks import Callback, FitContext
from studio.core.events import FitStart

SIGNALS = (signal.SIGINT, signal.SIGTERM)
NAMES = {signal.SIGINT: "Ctrl+C", signal.SIGTERM: "SIGTERM"}


class Interrupted(KeyboardInterrupt):
    """The run was interrupted by ``signum`` before it could stop on its own."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {NAMES.get(signum, signum)}")
        self.signum = signum


def exit_status(signum: int) -> int:
    """The shell's convention for a process ended by a signal: 128 + its number."""
    return 128 + int(signum)


class StopOnSignals(Callback):
    """While active, SIGINT/SIGTERM ask the trainer to stop at the next batch.

    Passed to the trainer as a callback, it learns the trainer when the fit starts (however the
    trainer was built: a new run, a resume). ``signum`` is the first signal received (None if none).
    Handlers are restored on exit.
    """

    def __init__(self) -> None:
        self.trainer: FitContext | None = None
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignals:
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        self.trainer = trainer

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.trainer is None or self.signum is not None:
            raise Interrupted(signum)  # nothing to save yet, or asked twice: leave now
        self.signum = signum
        self.trainer.request_stop()

    @property
    def name(self) -> str:
        return NAMES.get(self.signum, str(self.signum)) if self.signum is not None else ""
