"""How a headless run reports itself: JSON lines on stdout, or progress on stderr.

Progress is a ``tqdm`` bar with an ETA on a terminal and plain lines in a file or pipe, so a log
never holds escape codes or carriage returns.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

from studio.core.callbacks import Callback, FitContext
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats, Paused
from studio.core.eventstream import Event, encode

# Bars: what, share, bar, done/total, elapsed<ETA, then the latest loss or message.
BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}] {postfix}"
STEPS_FORMAT = "{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}] {postfix}"


class JsonLines(Callback):
    """One JSON object per line for every engine event (:mod:`studio.core.eventstream`), flushed at once.

    Whoever watches the run (the window's run in another process, a log collector) reads the same
    events a callback in the training process would get.
    """

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream

    def _emit(self, event: Event) -> None:
        self.stream.write(encode(event) + "\n")
        self.stream.flush()

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        self._emit(event)

    def on_train_batch_end(self, trainer: FitContext, event: BatchEnd) -> None:
        self._emit(event)

    def on_layer_stats(self, trainer: FitContext, event: LayerStats) -> None:
        self._emit(event)

    def on_pause(self, trainer: FitContext, event: Paused) -> None:
        self._emit(event)

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        self._emit(event)

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        self._emit(event)


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (bars redraw in place) rather than a file or pipe (plain lines)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


class ProgressBar(Callback):
    """Training progress on stderr, with an ETA for the whole fit.

    On a terminal: a ``tqdm`` bar over every batch of the fit, the epoch lines printed above it.
    In a file or pipe (a log): plain lines only, never escape codes or carriage returns: one per
    epoch, and in a long epoch one every :data:`PLAIN_EVERY` seconds with the share done and the ETA.
    """

    PLAIN_EVERY = 30.0

    def __init__(self, stream: TextIO = sys.stderr, terminal: bool | None = None) -> None:
        self.stream = stream
        self.terminal = is_terminal(stream) if terminal is None else terminal
        self.epochs = 0
        self.total = 0
        self.bar: tqdm | None = None
        self._clock = Clock()

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        self.epochs = event.total_epochs
        self.total = event.total_epochs * event.steps_per_epoch
        done = event.start_epoch * event.steps_per_epoch
        self.stream.write(
            f"training on {event.device}: {event.n_train} samples, {event.n_val} for validation,"
            f" {event.param_count:,} parameters\n"
        )
        self._clock = Clock(done)
        if self.terminal:
            self.bar = tqdm(total=self.total, initial=done, file=self.stream, unit="batch", dynamic_ncols=True,
                            leave=False, bar_format=BAR_FORMAT)

    def on_train_batch_end(self, trainer: FitContext, event: BatchEnd) -> None:
        acc = "" if event.acc is None else f" acc {event.acc:.3f}"
        if self.bar is not None:
            self.bar.set_description(f"epoch {event.epoch}/{self.epochs}", refresh=False)
            self.bar.set_postfix_str(f"loss {event.loss:.4f}{acc}, {event.samples_per_s:,.0f} samples/s", refresh=False)
            self.bar.update(max(0, event.step - self.bar.n))
        else:
            eta = self._clock.eta(event.step, self.total)
            if eta is not None and self._clock.due(self.PLAIN_EVERY):
                self.stream.write(f"epoch {event.epoch}/{self.epochs}: {event.step / max(self.total, 1):.0%} of the"
                                  f" fit, loss {event.loss:.4f}{acc}, {eta} left\n")
                self.stream.flush()

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        line = format_epoch(event, self.epochs)
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.stream.write(f"{event.message}\n")


class Steps:
    """A ``progress(fraction, message)`` callback for the core's long jobs (data, probe, LR sweep).

    On a terminal a ``tqdm`` bar named ``what`` with the latest message and an ETA; otherwise plain
    lines: the first message, one every :data:`ProgressBar.PLAIN_EVERY` seconds, and the last.
    Use it as a context manager so the bar is closed when the job fails.
    """

    UNITS = 1000

    def __init__(self, what: str, stream: TextIO = sys.stderr, terminal: bool | None = None) -> None:
        self.what = what
        self.stream = stream
        self.terminal = is_terminal(stream) if terminal is None else terminal
        self.bar: tqdm | None = None
        self._clock = Clock()
        self._said = False

    def __call__(self, fraction: float, message: str) -> None:
        done = int(min(max(fraction, 0.0), 1.0) * self.UNITS)
        if self.terminal:
            if self.bar is None:
                self.bar = tqdm(total=self.UNITS, file=self.stream, desc=self.what, dynamic_ncols=True, leave=False,
                                bar_format=STEPS_FORMAT)
            self.bar.set_postfix_str(message, refresh=False)
            self.bar.update(max(0, done - self.bar.n))
        else:
            eta = self._clock.eta(done, self.UNITS)
            paced = eta is not None and self._clock.due(ProgressBar.PLAIN_EVERY)
            if not self._said or done >= self.UNITS or paced:
                left = f", {eta} left" if eta is not None and done < self.UNITS else ""
                self.stream.write(f"{self.what}: {message} ({fraction:.0%}{left})\n")
                self.stream.flush()
                self._said = True
        if done >= self.UNITS:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Clock:
    """Paces plain lines and estimates the time left from the rate since progress first moved.

    The rate starts at the first step past ``done`` (not at creation), so a slow start such as
    loading data does not inflate the estimate.
    """

    def __init__(self, done: int = 0) -> None:
        self.last = time.monotonic()
        self.done = done
        self.first: tuple[float, int] | None = None

    def due(self, every: float) -> bool:
        """True at most once every ``every`` seconds."""
        now = time.monotonic()
        if now - self.last < every:
            return False
        self.last = now
        return True

    def note(self, done: int) -> None:
        """Record progress; the first step past the start begins the rate."""
        if self.first is None and done > self.done:
            self.first = (time.monotonic(), done)

    def eta(self, done: int, total: int) -> str | None:
        """``"01:05"`` left at the rate so far, or None while there is no rate yet."""
        self.note(done)
        if self.first is None or done <= self.first[1]:
            return None
        rate = (done - self.first[1]) / max(time.monotonic() - self.first[0], 1e-9)
        return tqdm.format_interval((total - done) / rate)


def format_epoch(event: EpochEnd, epochs: int) -> str:
    """One readable line for an epoch's metrics."""
    parts = [f"epoch {event.epoch}/{epochs}", f"train loss {event.train_loss:.4f}"]
    if event.penalty is not None:
        parts[-1] += f" + L2 penalty {event.penalty:.4f} = {event.train_loss + event.penalty:.4f}"
    if event.train_acc is not None:
        parts.append(f"acc {event.train_acc:.3f}")
    if event.val_loss is not None:
        parts.append(f"val loss {event.val_loss:.4f}")
    if event.val_acc is not None:
        parts.append(f"acc {event.val_acc:.3f}")
    parts.append(f"{event.seconds:.1f}s")
    return "  ".join(parts)
