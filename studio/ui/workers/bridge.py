"""The engine callback that turns training events into Qt signals, coalescing per-batch events.

It runs inside the worker thread (the engine calls it from ``fit``); the signals it emits are
queued to receivers in the GUI thread. A fast model finishes thousands of batches a second, so
``BatchEnd`` events are collected and sent as one list at most every ``interval`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import SignalInstance

from studio.core.callbacks import Callback
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats
from studio.ui.workers.advice import FIT_END_HINTS

# One batch list at most this often: 20 lists/s keeps the GUI's signal cost negligible
# (1-9 ms of GUI time per second, see conventions.md) and the curves still move smoothly.
BATCH_INTERVAL_S = 0.05


class SignalCallback(Callback):
    """Re-emit engine events on the worker's signals, batches coalesced, in the engine's order."""

    def __init__(
        self,
        signals: Any,
        interval: float = BATCH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._signals = signals
        self._interval = interval
        self._clock = clock
        self._pending: list[Any] = []
        self._last_flush = float("-inf")

    def _emit(self, signal: SignalInstance, event: Any) -> None:
        self.flush()
        signal.emit(event)

    def flush(self) -> None:
        """Send the batches collected so far, so that later events never overtake them."""
        if self._pending:
            batch, self._pending = self._pending, []
            self._signals.batchesEnded.emit(batch)
        self._last_flush = self._clock()

    def on_fit_start(self, trainer: Any, event: FitStart) -> None:
        self._emit(self._signals.fitStarted, event)

    def on_train_batch_end(self, trainer: Any, event: BatchEnd) -> None:
        self._pending.append(event)
        if self._clock() - self._last_flush >= self._interval:
            self.flush()

    def on_layer_stats(self, trainer: Any, event: LayerStats) -> None:
        # Not a flush point: statistics come every few batches and their order relative to
        # the batch losses does not matter to any receiver (both are keyed by step).
        self._signals.layerStats.emit(event)

    def on_epoch_end(self, trainer: Any, event: EpochEnd) -> None:
        self._emit(self._signals.epochEnded, event)

    def on_fit_end(self, trainer: Any, event: FitEnd) -> None:
        self._emit(self._signals.fitEnded, event)
        # A diverged run ends normally for the engine but is a failure for the learner.
        if event.reason in FIT_END_HINTS:
            self._signals.trainingFailed.emit(event.message, FIT_END_HINTS[event.reason])
