"""Optimizer race: several optimizers train the same network from the same weights on the same batches.

The contestants run interleaved, step by step, inside one call: at every step each one sees the very same
batch (and the same dropout masks), so the only difference between their curves is the optimizer. Every
contestant reports the engine's own events (``BatchEnd``, ``EpochEnd``...) tagged with its label, so a GUI
can overlay the curves live with the code that draws an ordinary run.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from studio.core.build import build_model, layer_label
from studio.core.data import PreparedData, prepare_data
from studio.core.device import pick_device
from studio.core.engine.batching import LoaderBatches, TensorBatches
from studio.core.engine.evaluate import EVAL_BATCH, evaluate_batches, split_batches
from studio.core.engine.metrics import BatchWindow, EpochTotals
from studio.core.errors import ConfigError
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart
from studio.core.lab.common import (
    EventSink,
    LabRun,
    Progress,
    StopFlag,
    format_choice,
    ignore_event,
    never_stop,
    no_progress,
    parse_choice,
)
from studio.core.optim import CLASSIFICATION, build_loss, build_optimizer, build_schedule, current_lr, param_groups
from studio.core.optim.optimizers import OPTIMIZERS
from studio.core.params import resolve
from studio.core.project import Choice, Project

DEFAULT_LOG_EVERY = 5


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
    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: object
    run: LabRun
    window: BatchWindow
    totals: EpochTotals
    done: bool = False


class Race:
    """Sets up the contestants (same start weights, same batches); :meth:`run` races them.

    After construction ``models`` holds one network per contestant with identical weights, so a caller can
    inspect (or hook) them before the race starts.
    """

    def __init__(self, project: Project, contestants: Sequence[Contestant] = DEFAULT_LINEUP,
                 data: PreparedData | None = None, log_every: int = DEFAULT_LOG_EVERY) -> None:
        if not contestants:
            raise ConfigError("a race needs at least one contestant", field="contestants")
        labels = [c.label for c in contestants]
        if len(set(labels)) != len(labels):
            raise ConfigError("every contestant needs its own label", field="contestants")
        self.project = project.copy()
        self.training = self.project.training
        self.data = data if data is not None else prepare_data(self.project.data)
        self.device = pick_device(self.training.device)
        self.log_every = max(1, log_every)
        start = build_model(self.project.model, self.data.input_shape, self.training.seed).to(self.device)
        self.loss_fn = build_loss(self.project.loss, self.data.task, self.data.num_classes or None)
        self.batches = self._batches()
        self.lanes = [self._lane(c, copy.deepcopy(start)) for c in contestants]
        self.layer_names = tuple(layer_label(s, i) for i, s in enumerate(self.project.model.layers))

    @property
    def models(self) -> list[nn.Module]:
        return [lane.model for lane in self.lanes]

    def _batches(self) -> TensorBatches | LoaderBatches:
        t, data = self.training, self.data
        if data.streaming:
            return LoaderBatches(data.train_set, t.batch_size, t.shuffle, t.seed, self.device)
        return TensorBatches(data.x_train.to(self.device), data.y_train.to(self.device), t.batch_size, t.shuffle,
                             t.seed)

    def _lane(self, contestant: Contestant, model: nn.Module) -> _Lane:
        kind = OPTIMIZERS.get(contestant.optimizer.name)
        lr = resolve(kind.params, contestant.optimizer.params, f"optimizer {kind.name}")["lr"]
        optimizer = build_optimizer(contestant.optimizer, param_groups(model, self.project.model.layers, lr))
        schedule = build_schedule(self.project.schedule, optimizer, self.training.epochs, len(self.batches))
        project = self.project.copy()
        project.optimizer = copy.deepcopy(contestant.optimizer)
        run = LabRun(contestant.label, contestant.label, project, steps_per_epoch=len(self.batches))
        predict = self.loss_fn.predict if self.loss_fn.task == CLASSIFICATION else None
        return _Lane(contestant, model, optimizer, schedule, run, BatchWindow(predict), EpochTotals())

    def run(self, progress: Progress | None = None, stop: StopFlag | None = None,
            on_event: EventSink | None = None) -> RaceResult:
        """Race for the project's number of epochs; returns every contestant's curves."""
        progress, stop, on_event = progress or no_progress, stop or never_stop, on_event or ignore_event
        epochs, steps = self.training.epochs, len(self.batches)
        for lane in self.lanes:
            lane.model.train()
            on_event(lane.run.tag, self._fit_start(lane))
        step, stopped = 0, False
        with torch.random.fork_rng(devices=[]):
            for epoch in range(epochs):
                clock = time.perf_counter()
                for batch, (x, y) in enumerate(self.batches.epoch(epoch), start=1):
                    if stop() or all(lane.done for lane in self.lanes):
                        stopped = True
                        break
                    step += 1
                    for lane in self.lanes:
                        if not lane.done:
                            self._step(lane, x, y, step)
                    if step % self.log_every == 0 or batch == steps:
                        self._flush(epoch, batch, step, on_event, clock)
                    progress((epoch + batch / steps) / epochs, f"Epoch {epoch + 1}/{epochs}")
                if stopped:
                    break
                self._end_epoch(epoch, clock, on_event)
        for lane in self.lanes:
            self._finish(lane, step, stopped, on_event)
        return RaceResult([ContestantResult(lane.contestant, lane.run) for lane in self.lanes])

    def _fit_start(self, lane: _Lane) -> FitStart:
        return FitStart(self.training.epochs, len(self.batches), self.data.n_train, self.data.n_val,
                        str(self.device), self.layer_names, sum(p.numel() for p in lane.model.parameters()), 0)

    def _step(self, lane: _Lane, x: torch.Tensor, y: torch.Tensor, step: int) -> None:
        # Every contestant draws the same dropout masks at the same step.
        torch.manual_seed(self.training.seed * 1_000_003 + step)
        out = lane.model(x)
        loss = self.loss_fn(out, y)
        lane.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        lane.optimizer.step()
        if lane.schedule.interval == "batch":
            lane.schedule.step()
        lane.window.add(loss, out, y)

    def _flush(self, epoch: int, batch: int, step: int, on_event: EventSink, clock: float) -> None:
        classify = self.loss_fn.task == CLASSIFICATION
        for lane in self.lanes:
            if lane.done or not len(lane.window):
                continue
            result = lane.window.fetch()
            if result.first_non_finite is not None:
                lane.done = True
                lane.run.reason = "non_finite"
                lane.run.message = (f"{lane.contestant.label}: the loss became {result.losses[result.first_non_finite]}"
                                    f" near step {step}; its learning rate is too high for this network.")
                continue
            lane.totals.add(result)
            speed = lane.totals.seen / max(time.perf_counter() - clock, 1e-9)
            event = BatchEnd(epoch + 1, step, batch, result.mean_loss, lane.totals.accuracy(classify),
                             current_lr(lane.optimizer), speed)
            lane.run.add_batch(event)
            on_event(lane.run.tag, event)

    def _end_epoch(self, epoch: int, clock: float, on_event: EventSink) -> None:
        classify = self.loss_fn.task == CLASSIFICATION
        for lane in self.lanes:
            if lane.done:
                continue
            val_loss, val_acc = self._validate(lane.model)
            totals, seconds = lane.totals, time.perf_counter() - clock
            event = EpochEnd(epoch + 1, totals.loss, totals.accuracy(classify), val_loss, val_acc, seconds,
                             current_lr(lane.optimizer), totals.seen / max(seconds, 1e-9))
            lane.totals = EpochTotals()
            if lane.schedule.interval == "epoch":
                metric = val_loss if val_loss is not None else event.train_loss
                lane.schedule.step(metric if lane.schedule.needs_metric else None)
            lane.run.epochs.append(event)
            on_event(lane.run.tag, event)

    def _validate(self, model: nn.Module) -> tuple[float | None, float | None]:
        if not self.data.n_val:
            return None, None
        size = max(self.training.batch_size, EVAL_BATCH)
        return evaluate_batches(model, split_batches(self.data, "val", size, self.device), self.loss_fn)

    def _finish(self, lane: _Lane, step: int, stopped: bool, on_event: EventSink) -> None:
        run = lane.run
        if not run.reason:
            run.reason = "stopped" if stopped else "completed"
            run.message = f"{lane.contestant.label}: {'stopped' if stopped else 'finished'} after {step} step(s)."
        best = [e.val_loss if e.val_loss is not None else e.train_loss for e in run.epochs]
        best_epoch = int(np.nanargmin(best)) + 1 if best and np.isfinite(best).any() else None
        on_event(run.tag, FitEnd(run.reason, len(run.epochs), step, best_epoch,
                                 best[best_epoch - 1] if best_epoch else None, run.message, tuple(run.epochs)))


def race(project: Project, contestants: Sequence[Contestant] = DEFAULT_LINEUP, data: PreparedData | None = None,
         progress: Progress | None = None, stop: StopFlag | None = None, on_event: EventSink | None = None,
         log_every: int = DEFAULT_LOG_EVERY) -> RaceResult:
    """Race ``contestants`` on ``project`` (its network, data, loss, schedule, epochs, batch size and seed)."""
    return Race(project, contestants, data, log_every).run(progress, stop, on_event)


def lineup_labels(contestants: Sequence[Contestant]) -> list[str]:
    """``label (optimizer:settings)`` for each contestant, for text reports."""
    return [f"{c.label} ({format_choice(c.optimizer)})" for c in contestants]
