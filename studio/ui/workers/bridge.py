"""The engine callback that carries training events to the GUI thread, a few parcels a second.

It runs inside the worker thread (the engine calls it from ``fit``). A fast model finishes
hundreds of epochs and thousands of batches a second, and every queued signal costs both
threads: one for each receiver in the worker thread (a posted event) and the GIL in the GUI
thread. So every event goes into one list, and the list crosses to the GUI thread as one
queued call at most every ``interval`` seconds, where :class:`~studio.ui.workers.Worker` emits
it as one list per kind of event (batches, epoch ends, statistics). The start, the end and a
pause are sent at once: the learner must see them without delay.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from studio.core.advice import end_advice
from studio.core.callbacks import Callback, FitContext
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats, Paused

# One parcel at most this often: the plots repaint at most 4 times a second and the status bar
# shows 4 updates a second, so more parcels would only cost both threads (measured with the
# window hidden: 37 ms of GUI-thread CPU a second at 10 parcels a second, 27 at 4).
PARCEL_INTERVAL_S = 0.25


class SignalCallback(Callback):
    """Collect engine events and ``send`` them as lists, in the engine's order (see the module docstring).

    ``send(events)`` is called in the worker thread: the worker passes a queued signal's ``emit``.
    ``failed(message, hint)`` reports a diverged run after its events.
    """

    def __init__(
        self,
        send: Callable[[list[Any]], None],
        failed: Callable[[str, str], None],
        interval: float = PARCEL_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._failed = failed
        self._interval = interval
        self._clock = clock
        self._pending: list[Any] = []
        self._last_flush = float("-inf")

    def flush(self) -> None:
        """Send the events collected so far (nothing when there are none)."""
        if self._pending:
            parcel, self._pending = self._pending, []
            self._send(parcel)
        self._last_flush = self._clock()

    def _add(self, event: Any) -> None:
        self._pending.append(event)
        if self._clock() - self._last_flush >= self._interval:
            self.flush()

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        self._pending.append(event)
        self.flush()
        self._last_flush = float("-inf")  # and the first batch too: the curves start at once

    def on_train_batch_end(self, trainer: FitContext, event: BatchEnd) -> None:
        self._add(event)

    def on_layer_stats(self, trainer: FitContext, event: LayerStats) -> None:
        self._add(event)

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        self._add(event)

    def on_pause(self, trainer: FitContext, event: Paused) -> None:
        self.flush()  # the plots are current while the run holds

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        self._pending.append(event)
        self.flush()
        # A diverged run ends normally for the engine but is a failure for the learner.
        hint = end_advice(event)
        if hint:
            self._failed(event.message, hint)
