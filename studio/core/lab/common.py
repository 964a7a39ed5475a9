"""What every lab experiment shares: progress and stop hooks, tagged engine events, run curves, choice parsing.

Experiments are plain functions ``f(project, ..., progress=None, stop=None, on_event=None) -> result``.
They run in the GUI's worker thread (or the command line), so they take hooks instead of signals:

* ``progress(fraction, message)``: how far a long job has got (the worker's ``progress=`` argument).
* ``stop()``: returns True when the user asked to stop (pass ``threading.Event().is_set``); checked
  between steps, after which the experiment returns what it has.
* ``on_event(tag, event)``: every engine event (``FitStart``, ``BatchEnd``, ``EpochEnd``, ``LayerStats``,
  ``FitEnd``) of the run called ``tag`` (a contestant's label, ``"A"``/``"B"`` of a pair), for live overlays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.core.callbacks import Callback, FitContext
from studio.core.errors import ConfigError
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats
from studio.core.history import RunRecord, epoch_position
from studio.core.progress import Progress
from studio.core.project import Choice, Project
from studio.core.vocab import EndReason

StopFlag = Callable[[], bool]
EventSink = Callable[[str, object], None]


def never_stop() -> bool:
    """The stop flag used when the caller passes none."""
    return False


def ignore_event(tag: str, event: object) -> None:
    """The event sink used when the caller passes none."""


@dataclass
class LabRun:
    """The curves of one training run inside an experiment, as plain numbers.

    ``batch_x`` positions each logged training loss on an epoch axis (``epoch_position``), so runs with
    different batch sizes line up; ``epochs`` are the engine's ``EpochEnd`` records.
    """

    tag: str
    label: str
    project: Project
    batch_x: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    batch_acc: list[float | None] = field(default_factory=list)
    epochs: list[EpochEnd] = field(default_factory=list)
    reason: str = ""  # an EndReason once the run has ended
    message: str = ""
    steps_per_epoch: int = 1

    @property
    def final(self) -> EpochEnd | None:
        """The last finished epoch (None when the run ended before one)."""
        return self.epochs[-1] if self.epochs else None

    @property
    def diverged(self) -> bool:
        """True when the loss became NaN or infinite."""
        return self.reason == EndReason.NON_FINITE or any(not math.isfinite(v) for v in self.batch_loss)

    def add_batch(self, event: BatchEnd) -> None:
        self.batch_x.append(epoch_position(event.epoch, event.batch, self.steps_per_epoch))
        self.batch_loss.append(event.loss)
        self.batch_acc.append(event.acc)

    def to_record(self, run_id: int) -> RunRecord:
        """This run as a run-history record (the GUI's run list and overlays)."""
        return RunRecord(run_id, self.label, self.project.copy(), list(self.batch_x), list(self.batch_loss),
                         list(self.epochs), self.reason, self.message)


class RunCallback(Callback):
    """Fills a :class:`LabRun`, forwards every event to ``on_event`` under its tag and honours ``stop``."""

    def __init__(self, run: LabRun, on_event: EventSink | None = None, stop: StopFlag | None = None) -> None:
        self.run = run
        self.on_event = on_event or ignore_event
        self.stop = stop or never_stop

    def _check_stop(self, trainer: FitContext) -> None:
        if self.stop():
            trainer.request_stop()

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        self.run.steps_per_epoch = event.steps_per_epoch
        self.on_event(self.run.tag, event)
        self._check_stop(trainer)

    def on_train_batch_end(self, trainer: FitContext, event: BatchEnd) -> None:
        self.run.add_batch(event)
        self.on_event(self.run.tag, event)
        self._check_stop(trainer)

    def on_layer_stats(self, trainer: FitContext, event: LayerStats) -> None:
        self.on_event(self.run.tag, event)

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        self.run.epochs.append(event)
        self.on_event(self.run.tag, event)
        self._check_stop(trainer)

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        self.run.reason, self.run.message = event.reason, event.message
        self.on_event(self.run.tag, event)


def parse_choice(text: str, what: str = "setting") -> Choice:
    """``"adam:lr=0.01,beta2=0.99"`` -> ``Choice("adam", {"lr": 0.01, "beta2": 0.99})`` (command line, GUI text).

    Values are read as JSON-ish scalars (numbers, true/false, none), otherwise kept as text; the registry
    entry validates them later.
    """
    name, _, rest = text.strip().partition(":")
    if not name:
        raise ConfigError(f"{what}: expected NAME or NAME:key=value,... but got {text!r}", field=what)
    params: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what}: {item!r} in {text!r} is not key=value", field=what)
        params[key.strip()] = parse_scalar(value.strip())
    return Choice(name.strip(), params)


def parse_scalar(text: str) -> Any:
    """A number, a bool or None from text; anything else stays text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null", "off"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def format_choice(choice: Choice) -> str:
    """The inverse of :func:`parse_choice`, for labels: ``"adam:lr=0.01"``."""
    if not choice.params:
        return choice.name
    return choice.name + ":" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                        for k, v in choice.params.items())


class EpochProgress(Callback):
    """Reports a fit's epochs as a slice ``[start, start + span]`` of a longer job's progress."""

    def __init__(self, progress: Progress, start: float, span: float, label: str) -> None:
        self.progress, self.start, self.span, self.label = progress, start, span, label
        self.total = 1

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        self.total = max(event.total_epochs, 1)
        self.progress(self.start, f"{self.label}: starting")

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        self.progress(self.start + self.span * event.epoch / self.total, f"{self.label}: epoch {event.epoch}")
