"""Learning-rate schedules as a registry, wrapped in one :class:`Schedule` interface for the engine.

Each schedule scales every parameter group's own learning rate (so per-layer multipliers keep
their ratio), steps per ``"batch"`` or per ``"epoch"`` as its type says, and saves its position
with ``state_dict`` for exact resume. Schedules whose length is fixed (one-cycle) hold their last
learning rate if training runs past the planned end instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)

from studio.core.errors import ConfigError
from studio.core.params import Param, resolve
from studio.core.project import Choice
from studio.core.registry import Registry
from studio.core.vocab import Interval

# make(optimizer, values, epochs, steps_per_epoch) -> torch scheduler, or None for a constant lr
MakeSchedule = Callable[[torch.optim.Optimizer, dict[str, Any], int, int], "LRScheduler | None"]


@dataclass(frozen=True)
class ScheduleType:
    """A registered schedule: settings, builder, when it steps and whether it needs the validation loss.

    ``code`` is the exported ``train.py``'s expression building it from ``(optimizer, EPOCHS,
    steps_per_epoch)``, formatted with the settings plus ``values`` (all of them), ``cycle`` (epochs of
    a cycle) and ``milestone_list``; ``"None"`` for a constant rate, None when PyTorch has no match.
    """

    name: str
    label: str
    description: str
    params: tuple[Param, ...]
    make: MakeSchedule
    interval: Interval
    needs_metric: bool = False
    code: str | None = None


class Schedule:
    """A built schedule. Call :meth:`step` after every batch or every epoch, as :attr:`interval` says.

    For exact resume build the optimizer and the schedule first, then load the optimizer's state
    and then this schedule's state (the optimizer's groups hold the current learning rates).
    """

    def __init__(self, kind: ScheduleType, scheduler: LRScheduler | None) -> None:
        self.kind = kind
        self._scheduler = scheduler

    @property
    def interval(self) -> Interval:
        return self.kind.interval

    @property
    def needs_metric(self) -> bool:
        return self.kind.needs_metric

    def step(self, metric: float | None = None) -> None:
        """Advance one batch or epoch; reduce-on-plateau needs ``metric`` (the validation loss)."""
        if self._scheduler is None:
            return
        if self.kind.needs_metric:
            if metric is None:
                raise ValueError(f"schedule {self.kind.name} needs the validation loss at every step")
            self._scheduler.step(metric)  # type: ignore[arg-type]  # ReduceLROnPlateau takes the metric
        elif not self._finished():
            self._scheduler.step()

    def _finished(self) -> bool:
        # OneCycleLR raises after total_steps and its cosine climbs again past the last batch.
        total = getattr(self._scheduler, "total_steps", None)
        return total is not None and self._scheduler is not None and self._scheduler.last_epoch >= total - 1

    def state_dict(self) -> dict[str, Any]:
        return {} if self._scheduler is None else self._scheduler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self._scheduler is not None:
            self._scheduler.load_state_dict(state)


SCHEDULES: Registry[ScheduleType] = Registry("schedule")


def parse_milestones(text: str) -> list[int]:
    """``"10, 20"`` -> ``[10, 20]``: increasing whole epochs, at least one; anything else is a ConfigError."""
    parts = [part.strip() for part in text.split(",")]
    try:
        milestones = [int(part) for part in parts]
    except ValueError:
        raise ConfigError(
            f"schedule multistep: milestones must be whole epochs separated by commas, like 10,20; got {text!r}",
            field="milestones",
        ) from None
    if any(m < 1 for m in milestones) or any(b <= a for a, b in zip(milestones, milestones[1:], strict=False)):
        raise ConfigError(
            f"schedule multistep: milestones must be increasing epochs of 1 or more, like 10,20; got {text!r}",
            field="milestones",
        )
    return milestones


def _none(optimizer: torch.optim.Optimizer, values: dict[str, Any], epochs: int, steps: int) -> None:
    return None


def _step(optimizer: torch.optim.Optimizer, values: dict[str, Any], epochs: int, steps: int) -> LRScheduler:
    return StepLR(optimizer, step_size=values["step_size"], gamma=values["gamma"])


def _multistep(optimizer: torch.optim.Optimizer, values: dict[str, Any], epochs: int, steps: int) -> LRScheduler:
    return MultiStepLR(optimizer, milestones=parse_milestones(values["milestones"]), gamma=values["gamma"])


def _exponential(optimizer: torch.optim.Optimizer, values: dict[str, Any], epochs: int, steps: int) -> LRScheduler:
    return ExponentialLR(optimizer, gamma=values["gamma"])


def _cosine(optimizer: torch.optim.Optimizer, values: dict[str, Any], epochs: int, steps: int) -> LRScheduler:
    cycle = values["cycle_epochs"] or epochs
    return CosineAnnealingLR(optimizer, T_max=cycle * steps, eta_min=values["eta_min"])


def _one_cycle(optimizer: torch.optim.Optimizer, values: dict[str, Any], epochs: int, steps: int) -> LRScheduler:
    if values["base_momentum"] > values["max_momentum"]:
        raise ConfigError("schedule one_cycle: base momentum must not exceed max momentum", field="base_momentum")
    if values["cycle_momentum"] and not {"momentum", "betas"} & set(optimizer.defaults):
        raise ConfigError("schedule one_cycle: this optimizer has no momentum to cycle; switch cycle momentum off",
                          field="cycle_momentum")
    return OneCycleLR(
        optimizer,
        max_lr=[group["lr"] for group in optimizer.param_groups],
        total_steps=epochs * steps,
        **values,
    )


def _warmup(optimizer: torch.optim.Optimizer, values: dict[str, Any], epochs: int, steps: int) -> LRScheduler:
    start, length = values["start_factor"], values["warmup_steps"]

    # Batch k (from 0) trains at lr × (start + (1 − start)·(k + 1)/length): no batch is wasted at lr 0
    # and batch length − 1 is the first at the full learning rate.
    def factor(step: int) -> float:
        return float(start + (1.0 - start) * min(step + 1, length) / length)

    return LambdaLR(optimizer, factor)


def _reduce_on_plateau(optimizer: torch.optim.Optimizer, values: dict[str, Any], epochs: int, steps: int
                       ) -> LRScheduler:
    return ReduceLROnPlateau(optimizer, mode="min", **values)


def _gamma(default: float, help: str) -> Param:
    return Param("gamma", "float", default, help, min=1e-3, max=1.0)


def _register(name: str, label: str, description: str, params: Sequence[Param], make: MakeSchedule,
              interval: Interval, code: str, needs_metric: bool = False) -> None:
    SCHEDULES.register(name, ScheduleType(name, label, description, tuple(params), make, interval, needs_metric, code))


_register("none", "Constant", "The learning rate stays where the optimizer sets it.", (), _none, Interval.EPOCH,
          "None")
_register(
    "step", "Step decay", "Multiply the learning rate by gamma every step_size epochs.",
    (
        Param("step_size", "int", 10, "Epochs between decays (PyTorch has no default; 10 suits short runs).",
              min=1, max=10_000, label="step size"),
        _gamma(0.1, "Factor applied at each decay (0.5 halves the learning rate)."),
    ),
    _step, Interval.EPOCH, "lr_scheduler.StepLR(optimizer, step_size={step_size!r}, gamma={gamma!r})",
)
_register(
    "multistep", "Multi-step decay", "Multiply the learning rate by gamma at each listed epoch.",
    (
        Param("milestones", "str", "10,15", "Epochs at which to decay, separated by commas (e.g. 10,15)."),
        _gamma(0.1, "Factor applied at each milestone."),
    ),
    _multistep, Interval.EPOCH,
    "lr_scheduler.MultiStepLR(optimizer, milestones={milestone_list!r}, gamma={gamma!r})",
)
_register(
    "exponential", "Exponential decay", "Multiply the learning rate by gamma after every epoch.",
    (_gamma(0.95, "Factor per epoch (PyTorch has no default; 0.95 halves the rate in about 14 epochs)."),),
    _exponential, Interval.EPOCH, "lr_scheduler.ExponentialLR(optimizer, gamma={gamma!r})",
)
_register(
    "cosine", "Cosine annealing",
    "Lower the learning rate along half a cosine, batch by batch, from its value to eta_min by the end of "
    "training (or of each cycle).",
    (
        Param("eta_min", "float", 0.0, "Learning rate at the bottom of the cosine.", min=0.0, max=10.0,
              label="minimum lr"),
        Param("cycle_epochs", "int", None, "Length of the half cosine in epochs; off = the whole run (PyTorch's "
              "T_max, counted here in epochs).", min=1, max=10_000, optional=True, label="cycle epochs"),
    ),
    _cosine, Interval.BATCH,
    "lr_scheduler.CosineAnnealingLR(optimizer, T_max={cycle} * steps_per_epoch, eta_min={eta_min!r})",
)
_register(
    "one_cycle", "One-cycle",
    "Warm the learning rate up to the optimizer's lr (the peak, per layer) and anneal it far below, once over "
    "the whole run (Smith's super-convergence policy). Steps every batch.",
    (
        Param("pct_start", "float", 0.3, "Fraction of the run spent increasing the learning rate.", min=0.01,
              max=0.99, label="warm-up fraction"),
        Param("anneal_strategy", "choice", "cos", "Shape of the rise and fall.", choices=("cos", "linear"),
              label="shape"),
        Param("div_factor", "float", 25.0, "Start at peak / div_factor.", min=1.0, max=1e4, log=True),
        Param("final_div_factor", "float", 1e4, "End at start / final_div_factor.", min=1.0, max=1e8, log=True),
        Param("three_phase", "bool", False, "Add a third phase that anneals to the end after a symmetric cycle."),
        Param("cycle_momentum", "bool", False, "Cycle momentum (or Adam's beta1) opposite to the learning rate. "
              "Off by default (PyTorch: on) so the optimizer's momentum stays what you chose; on, it would "
              "silently give plain SGD momentum."),
        Param("base_momentum", "float", 0.85, "Lowest momentum, at the peak learning rate.", min=0.0, max=0.999),
        Param("max_momentum", "float", 0.95, "Highest momentum, at the lowest learning rate.", min=0.0, max=0.999),
    ),
    _one_cycle, Interval.BATCH,
    "lr_scheduler.OneCycleLR(optimizer, max_lr=[group['lr'] for group in optimizer.param_groups], "
    "total_steps=EPOCHS * steps_per_epoch, **{values!r})",
)
_register(
    "reduce_on_plateau", "Reduce on plateau",
    "Multiply the learning rate by factor when the validation loss has not improved for patience epochs.",
    (
        Param("factor", "float", 0.1, "Factor applied at each reduction.", min=1e-3, max=0.999),
        Param("patience", "int", 5, "Epochs without improvement before reducing (PyTorch: 10; 5 suits the "
              "short runs of a lab).", min=0, max=1000),
        Param("threshold", "float", 1e-4, "Relative improvement that counts as better.", min=0.0, max=1.0),
        Param("cooldown", "int", 0, "Epochs to wait after a reduction before watching again.", min=0, max=1000),
        Param("min_lr", "float", 0.0, "The learning rate never goes below this.", min=0.0, max=10.0,
              label="minimum lr"),
    ),
    _reduce_on_plateau, Interval.EPOCH, "lr_scheduler.ReduceLROnPlateau(optimizer, mode='min', **{values!r})",
    needs_metric=True,
)
_register(
    "warmup", "Linear warm-up",
    "Raise the learning rate linearly from start_factor × lr towards lr, reaching it at batch warmup_steps, then "
    "keep it constant. Avoids large, destabilising steps while the weights are still random.",
    (
        Param("warmup_steps", "int", 100, "Number of batches of the ramp.", min=1, max=1_000_000,
              label="warm-up batches"),
        Param("start_factor", "float", 0.0, "Fraction of the learning rate to start from (0 = from zero).",
              min=0.0, max=1.0, label="start factor"),
    ),
    _warmup, Interval.BATCH,
    "lr_scheduler.LambdaLR(optimizer, lambda step: {start_factor!r} + (1 - {start_factor!r}) * "
    "min(step + 1, {warmup_steps!r}) / {warmup_steps!r})",
)


def build_schedule(choice: Choice, optimizer: torch.optim.Optimizer, epochs: int, steps_per_epoch: int) -> Schedule:
    """Validate the choice and build its schedule for a run of ``epochs`` × ``steps_per_epoch`` batches."""
    if epochs < 1 or steps_per_epoch < 1:
        raise ValueError(f"a schedule needs at least one epoch and one batch, got {epochs} × {steps_per_epoch}")
    kind = SCHEDULES.get(choice.name)
    values = resolve(kind.params, choice.params, f"schedule {kind.name}")
    return Schedule(kind, kind.make(optimizer, values, epochs, steps_per_epoch))
