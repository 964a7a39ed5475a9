"""How a headless run reports itself: JSON lines on stdout, or a progress bar on stderr."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from studio.core.callbacks import Callback
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart
from studio.core.jsonsafe import plain


class JsonLines(Callback):
    """One JSON object per line: ``fit_start``, ``epoch_end`` per epoch and a closing ``fit_end``."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream

    def _emit(self, name: str, event: Any) -> None:
        self.stream.write(json.dumps({"event": name, **plain(event)}) + "\n")
        self.stream.flush()

    def on_fit_start(self, trainer: Any, event: FitStart) -> None:
        self._emit("fit_start", event)

    def on_epoch_end(self, trainer: Any, event: EpochEnd) -> None:
        self._emit("epoch_end", event)

    def on_fit_end(self, trainer: Any, event: FitEnd) -> None:
        self._emit("fit_end", event)


class ProgressBar(Callback):
    """A one-line progress bar on stderr, redrawn at most ten times a second, one line per epoch."""

    WIDTH = 24

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.epochs = 0
        self.steps = 0
        self._last_draw = 0.0
        self._drawn = False  # a bar is on the current line

    def on_fit_start(self, trainer: Any, event: FitStart) -> None:
        self.epochs, self.steps = event.total_epochs, event.steps_per_epoch
        self.stream.write(
            f"training on {event.device}: {event.n_train} samples, {event.n_val} for validation,"
            f" {event.param_count:,} parameters\n"
        )

    def on_train_batch_end(self, trainer: Any, event: BatchEnd) -> None:
        now = time.monotonic()
        if now - self._last_draw < 0.1:
            return
        self._last_draw = now
        done = event.batch / max(self.steps, 1)
        filled = int(done * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        acc = "" if event.acc is None else f" acc {event.acc:.3f}"
        self.stream.write(
            f"\repoch {event.epoch}/{self.epochs} [{bar}] loss {event.loss:.4f}{acc}"
            f" {event.samples_per_s:,.0f} samples/s"
        )
        self.stream.flush()
        self._drawn = True

    def on_epoch_end(self, trainer: Any, event: EpochEnd) -> None:
        self.stream.write(f"\r\033[K{format_epoch(event, self.epochs)}\n")
        self.stream.flush()
        self._drawn = False

    def on_fit_end(self, trainer: Any, event: FitEnd) -> None:
        self.stream.write(("\r\033[K" if self._drawn else "") + f"{event.message}\n")


def format_epoch(event: EpochEnd, epochs: int) -> str:
    """One readable line for an epoch's metrics."""
    parts = [f"epoch {event.epoch}/{epochs}", f"train loss {event.train_loss:.4f}"]
    if event.train_acc is not None:
        parts.append(f"acc {event.train_acc:.3f}")
    if event.val_loss is not None:
        parts.append(f"val loss {event.val_loss:.4f}")
    if event.val_acc is not None:
        parts.append(f"acc {event.val_acc:.3f}")
    parts.append(f"{event.seconds:.1f}s")
    return "  ".join(parts)
