"""The status bar during training: epoch and batch progress, samples per second, time remaining.

It listens to the same engine events as the plots (``FitStart``, lists of ``BatchEnd``,
``EpochEnd``, ``FitEnd``) and keeps no other state than what it needs for the estimate.
Batch and epoch events can arrive many times a second; they only replace the latest pending
state, shown at most every ``REFRESH_MS`` (at once after a quiet spell, else by a single-shot
timer; ``FitEnd`` at once), so the GUI thread spends no time per event that it would take from
training.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from enum import Enum, auto

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from studio.core.events import FitEnd
from studio.core.vocab import Precision, TrainingState
from studio.ui.widgets.elided import ElidedLabel


def format_duration(seconds: float) -> str:
    """``75`` -> ``"1:15"``, ``3700`` -> ``"1:01:40"``."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


REFRESH_MS = 250  # 4 updates a second reads as live; every update costs the training thread time

READY = "Ready"
NOT_STARTED = "Stopped before training started."
STATE_MESSAGES = {
    TrainingState.PREPARING: "Loading the data…",
    TrainingState.PAUSED: "Paused. Press Resume to continue.",
    TrainingState.STOPPING: "Stopping after the current batch…",
}


class _Kind(Enum):
    """What a message is about, which decides what replaces it."""

    PLAIN = auto()  # stays until the next message
    STATE = auto()  # describes the run's state; goes when the state changes
    PROBLEM = auto()  # why Train was refused; goes when the cause is fixed


def _bar(object_name: str, accessible: str, fmt: str) -> QProgressBar:
    bar = QProgressBar()
    bar.setObjectName(object_name)
    bar.setAccessibleName(accessible)
    bar.setFormat(fmt)
    bar.setTextVisible(True)
    bar.setRange(0, 1)
    bar.setValue(0)
    return bar


class TrainingStatus(QObject):
    """Fills ``bar`` with a message on the left and progress, speed and time remaining on the right.

    A QObject child of the bar, so its slots are disconnected when the window goes away.
    """

    def __init__(self, bar: QStatusBar, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(bar)
        self.bar = bar
        self._clock = clock
        self.message = ElidedLabel(READY)  # long messages shorten with "…" instead of running into the speed
        self.message.setObjectName("statusMessage")
        self.message.setAccessibleName("Status")
        self.epochs = _bar("epochProgress", "Epoch progress", "Epoch %v/%m")
        self.batches = _bar("batchProgress", "Batch progress", "Batch %v/%m")
        self.speed = _label("speedLabel", "Samples per second")
        self.eta = _label("etaLabel", "Time remaining")
        bar.addWidget(self.message, 1)
        for widget in (self.speed, self.eta, self.epochs, self.batches):
            bar.addPermanentWidget(widget)
        self._started = 0.0
        self._first_step = 0
        self._total_steps = 0
        self._pending_batch = None
        self._pending_epoch = None
        self._shown_at = float("-inf")  # clock of the last flush
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.timeout.connect(self.flush)
        self._end_notes: list[Callable[[FitEnd], str]] = []
        self._state = TrainingState.IDLE
        self._kind = _Kind.PLAIN
        self._epoch_text = ""  # the latest "Epoch n: loss …" line, shown again on resume
        self.set_running(False)

    def show_message(self, text: str) -> None:
        """A message that stays until the next one (the end of a run, Saved, Opened)."""
        self._set(text, _Kind.PLAIN)

    def show_problem(self, text: str) -> None:
        """Why something was refused; :meth:`problem_solved` replaces it once the cause is gone."""
        self._set(text, _Kind.PROBLEM)

    def problem_solved(self) -> None:
        """The network or the data that a problem message was about is fine now: say Ready instead."""
        if self._kind == _Kind.PROBLEM:
            self._set(READY, _Kind.PLAIN)

    def show_state(self, state: TrainingState) -> None:
        """Say what the run is doing now; a message that only described the previous state does not stay."""
        previous, self._state = self._state, state
        if state in STATE_MESSAGES:
            self._set(STATE_MESSAGES[state], _Kind.STATE)
        elif state == TrainingState.RUNNING and previous == TrainingState.PAUSED:
            self._set(self._epoch_text or "Training…", _Kind.STATE)
        elif state == TrainingState.IDLE and self._kind == _Kind.STATE:
            # A fit that ended said so itself (on_fit_end); here nothing ran or its end was never shown.
            self._set(NOT_STARTED if previous == TrainingState.PREPARING else READY, _Kind.PLAIN)

    def _set(self, text: str, kind: _Kind) -> None:
        self._kind = kind
        self.message.setText(text)

    def add_end_note(self, note: Callable[[FitEnd], str]) -> None:
        """Add ``note(event)`` (e.g. where the run was saved) after the message of every finished fit.

        The notes are asked when the end is shown, so a feature need not run after the status bar.
        """
        self._end_notes.append(note)

    def set_running(self, running: bool) -> None:
        """Progress widgets show only while a run is on screen."""
        for widget in (self.epochs, self.batches, self.speed, self.eta):
            widget.setVisible(running)

    # --- engine events -------------------------------------------------------------------------
    def on_fit_started(self, event) -> None:
        self._epoch_text = ""
        self._refresh.stop()
        self._pending_batch = self._pending_epoch = None
        self.set_running(True)
        self.epochs.setRange(0, event.total_epochs)
        self.epochs.setValue(event.start_epoch)
        self.batches.setRange(0, max(1, event.steps_per_epoch))
        self.batches.setValue(0)
        self._started = self._clock()
        self._first_step = event.start_epoch * event.steps_per_epoch
        self._total_steps = event.total_epochs * event.steps_per_epoch
        self.speed.setText("")
        self.eta.setText("")
        where = event.device.upper() + (f" × {event.processes} processes" if event.processes > 1 else "")
        precision = "" if event.precision == Precision.FP32 else f" · {event.precision}"
        self._set(f"Training on {where}{precision} · {event.n_train:,} samples · {event.param_count:,} weights",
                  _Kind.STATE)

    def on_batches(self, events: Sequence) -> None:
        if events:
            self._pending_batch = events[-1]
            self._schedule()

    def on_epochs(self, events: Sequence) -> None:
        if events:
            self._pending_epoch = events[-1]
            self._schedule()

    def on_fit_end(self, event: FitEnd) -> None:
        self.flush()
        self.eta.setText("done")
        notes = (note(event) for note in self._end_notes)
        self.show_message(" ".join(text for text in (event.message, *notes) if text))

    def flush(self) -> None:
        """Show the latest pending batch and epoch now (the timer calls this; so does the end of a fit)."""
        self._refresh.stop()
        self._shown_at = self._clock()
        batch, epoch = self._pending_batch, self._pending_epoch
        self._pending_batch = self._pending_epoch = None
        # Apply them in the order they happened, so the result equals showing every event in turn.
        if epoch is not None and (batch is None or epoch.epoch < batch.epoch):
            self._show_epoch(epoch)
            epoch = None
        if batch is not None:
            self._show_batch(batch)
        if epoch is not None:
            self._show_epoch(epoch)

    def _schedule(self) -> None:
        """Show at once after a quiet spell, else when ``REFRESH_MS`` have passed since the last update."""
        if self._refresh.isActive():
            return
        wait_ms = REFRESH_MS - 1000 * (self._clock() - self._shown_at)
        if wait_ms <= 0:
            self.flush()
        else:
            self._refresh.start(int(wait_ms) + 1)

    def _show_batch(self, last) -> None:
        self.epochs.setValue(last.epoch - 1)
        self.batches.setValue(min(last.batch, self.batches.maximum()))
        self.speed.setText(f"{last.samples_per_s:,.0f} samples/s")
        done = last.step - self._first_step
        elapsed = self._clock() - self._started
        if done > 0 and elapsed > 0:
            remaining = (self._total_steps - last.step) * elapsed / done
            self.eta.setText(f"{format_duration(remaining)} left" if remaining >= 1 else "under 1 s left")

    def _show_epoch(self, event) -> None:
        self.epochs.setValue(event.epoch)
        parts = [f"Epoch {event.epoch}: loss {event.train_loss:.4g}"]
        if event.val_loss is not None:
            parts.append(f"validation loss {event.val_loss:.4g}")
        if event.val_acc is not None:
            parts.append(f"validation accuracy {event.val_acc:.1%}")
        self._epoch_text = ", ".join(parts)
        if self._state != TrainingState.PAUSED:  # paused says so until Resume; the progress bars still move
            self._set(self._epoch_text, _Kind.STATE)


def _label(object_name: str, accessible: str) -> QLabel:
    label = QLabel()
    label.setObjectName(object_name)
    label.setAccessibleName(accessible)
    label.setMinimumWidth(90)
    return label


