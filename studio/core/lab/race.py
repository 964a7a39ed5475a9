"""Optimizer race: several optimizers train the same network from the same weights on the same batches.

Each contestant is an ordinary :class:`~studio.core.engine.Trainer` (a lane), and the race drives them in
turn, one ``Trainer.step`` each per batch: every lane is fed the very same batch, and each lane draws its
random numbers (dropout masks) from its own copy of torch's generators, seeded as a plain ``fit`` seeds them.
So the only difference between the curves is the optimizer, and one lane's run is exactly the run
``Trainer.fit`` would give with that optimizer (target loss, early stopping, log interval, non-finite
handling included). Every lane reports the engine's own events tagged with its label, so a GUI can overlay
the curves live with the code that draws an ordinary run.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from studio.core.data import PreparedData, prepare_data
from studio.core.device import pick_device
from studio.core.engine import Trainer
from studio.core.engine.state import preserved_rng, rng_state, set_rng_state
from studio.core.engine.threads import intra_op_threads
from studio.core.errors import ConfigError
from studio.core.lab.common import EventSink, LabRun, RunCallback, StopFlag, format_choice, never_stop, parse_choice
from studio.core.memory import check_memory, state_per_weight
from studio.core.optim.optimizers import OPTIMIZERS
from studio.core.params import resolve
from studio.core.progress import Progress, no_progress
from studio.core.project import Choice, Project


@dataclass(frozen=True)
class Contestant:
    """One lane of the race: a label for legends and an optimizer choice."""

    label: str
    optimizer: Choice


DEFAULT_LINEUP: tuple[Contestant, ...] = (
    Contestant("SGD", Choice("sgd", {"lr": 0.05})),
    Contestant("Momentum 0.8", Choice("sgd", {"lr": 0.05, "momentum": 0.8})),
    Contestant("RMSprop α=0.9", Choice("rmsprop", {"lr": 0.001, "alpha": 0.9})),
    Contestant("Adam β=(0.9, 0.99)", Choice("adam", {"lr": 0.001, "beta1": 0.9, "beta2": 0.99})),
)


def parse_contestant(text: str) -> Contestant:
    """``"adam:lr=0.01"`` (label = the text) or ``"Fast Adam=adam:lr=0.01"`` (explicit label)."""
    label, sep, spec = text.partition("=")
    if not sep or ":" in label or "," in label:
        label, spec = text, text
    choice = parse_choice(spec, "contestant")
    kind = OPTIMIZERS.get(choice.name)
    resolve(kind.params, choice.params, f"optimizer {kind.name}")
    return Contestant(label.strip(), choice)


@dataclass
class ContestantResult:
    """A contestant's curves and outcome."""

    contestant: Contestant
    run: LabRun

    @property
    def label(self) -> str:
        return self.contestant.label

    @property
    def diverged(self) -> bool:
        return self.run.diverged

    @property
    def final_train_loss(self) -> float:
        return self.run.final.train_loss if self.run.final else math.nan

    @property
    def final_val_loss(self) -> float | None:
        return self.run.final.val_loss if self.run.final else None

    @property
    def final_val_acc(self) -> float | None:
        return self.run.final.val_acc if self.run.final else None


@dataclass
class RaceResult:
    """All contestants, in line-up order."""

    contestants: list[ContestantResult]

    @property
    def winner(self) -> ContestantResult | None:
        """The contestant with the lowest final validation loss (training loss without validation)."""
        scored = [(c.final_val_loss if c.final_val_loss is not None else c.final_train_loss, i)
                  for i, c in enumerate(self.contestants) if not c.diverged]
        scored = [(s, i) for s, i in scored if math.isfinite(s)]
        return self.contestants[min(scored)[1]] if scored else None


@dataclass
class _Lane:
    contestant: Contestant
    trainer: Trainer
    callback: RunCallback
    rng: dict[str, Any] = field(default_factory=dict)  # this lane's generators between its steps
    done: bool = False

    @property
    def run(self) -> LabRun:
        return self.callback.run


class Race:
    """Sets up the contestants (same start weights, same batches); :meth:`run` races them.

    After construction ``models`` holds one network per contestant with identical weights, so a caller can
    inspect (or hook) them before the race starts.
    """

    def __init__(self, project: Project, contestants: Sequence[Contestant] = DEFAULT_LINEUP,
                 data: PreparedData | None = None) -> None:
        if not contestants:
            raise ConfigError("a race needs at least one contestant", field="contestants")
        labels = [c.label for c in contestants]
        if len(set(labels)) != len(labels):
            raise ConfigError("every contestant needs its own label", field="contestants")
        self.project = project.copy()
        self.training = self.project.training
        data = data if data is not None else prepare_data(self.project.data)
        device = pick_device(self.training.device)
        hungriest = max(contestants, key=lambda c: state_per_weight(c.optimizer)).optimizer
        check_memory(self.project.model, data.input_shape, min(self.training.batch_size, data.n_train), hungriest,
                     device, copies=len(contestants))  # the lanes train side by side
        shared = _on_device(data, device)  # one copy for all lanes
        with preserved_rng():  # building a trainer seeds torch; the race leaves the caller's generators alone
            self.lanes = [self._lane(c, shared) for c in contestants]

    @property
    def models(self) -> list[nn.Module]:
        return [lane.trainer.model for lane in self.lanes]

    def _lane(self, contestant: Contestant, data: PreparedData) -> _Lane:
        project = self.project.copy()
        project.optimizer = Choice(contestant.optimizer.name, dict(contestant.optimizer.params))
        project.training.stats_every = 0  # the race shows curves only: layer statistics would cost every lane
        run = LabRun(contestant.label, contestant.label, project)
        callback = RunCallback(run)
        return _Lane(contestant, Trainer(project, data=data, callbacks=[callback]), callback)

    def run(self, progress: Progress | None = None, stop: StopFlag | None = None,
            on_event: EventSink | None = None) -> RaceResult:
        """Race for the project's number of epochs (or until every lane has ended); every contestant's curves."""
        for lane in self.lanes:
            if on_event is not None:
                lane.callback.on_event = on_event
        with preserved_rng(), intra_op_threads(self.lanes[0].trainer.threads):
            self._race(progress or no_progress, stop or never_stop)
        return RaceResult([ContestantResult(lane.contestant, lane.run) for lane in self.lanes])

    def _race(self, progress: Progress, stop: StopFlag) -> None:
        for lane in self.lanes:
            lane.trainer.begin()
            lane.rng = rng_state()
        # Every lane's own order is the same function of (seed, epoch): read it once and feed it to all.
        source = self.lanes[0].trainer.batches
        epochs, steps = self.training.epochs, len(source)
        live = list(self.lanes)
        for epoch in range(epochs):
            for batch, xy in enumerate(source.epoch(epoch), start=1):
                if stop():
                    for lane in live:
                        lane.trainer.request_stop()
                for lane in live:
                    set_rng_state(lane.rng)
                    lane.done = lane.trainer.step(xy) is not None
                    lane.rng = rng_state()
                live = [lane for lane in live if not lane.done]
                if not live:
                    return
                progress((epoch + batch / steps) / epochs, f"Epoch {epoch + 1}/{epochs}")


def _on_device(data: PreparedData, device: torch.device) -> PreparedData:
    """``data`` with its tensors moved to ``device`` once, so that no lane makes its own copy there."""
    if data.streaming:
        return data

    def moved(tensor: torch.Tensor | None) -> torch.Tensor | None:
        return None if tensor is None else tensor.to(device)

    return dataclasses.replace(data, x_train=moved(data.x_train), y_train=moved(data.y_train),
                               x_val=moved(data.x_val), y_val=moved(data.y_val))


def race(project: Project, contestants: Sequence[Contestant] = DEFAULT_LINEUP, data: PreparedData | None = None,
         progress: Progress | None = None, stop: StopFlag | None = None,
         on_event: EventSink | None = None) -> RaceResult:
    """Race ``contestants`` on ``project`` (its network, data, loss, schedule, training settings and seed)."""
    return Race(project, contestants, data).run(progress, stop, on_event)


def lineup_labels(contestants: Sequence[Contestant]) -> list[str]:
    """``label (optimizer:settings)`` for each contestant, for text reports."""
    return [f"{c.label} ({format_choice(c.optimizer)})" for c in contestants]
