"""Diagnostics: rules checked while a network trains, turned into hints with evidence and a suggested action.

Add :class:`Diagnostics` to a fit's callbacks. Each rule of :data:`RULES` looks at what the fit has reported
so far (a :class:`Watch`) at the moments it names (after logged batches, layer statistics, epochs, the end)
and may return a :class:`Hint`. A hint fires once per rule and layer; ``on_hint`` receives it at once (the GUI
forwards it to its thread) and ``hints`` keeps them all. Layer rules need ``training.stats_every`` > 0.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from studio.core.callbacks import Callback, FitContext
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats
from studio.core.layers import LAYERS, LayerRole, has_role
from studio.core.registry import Registry
from studio.core.units import Unit
from studio.core.vocab import EndReason, Severity

WHEN = ("batch", "stats", "epoch", "end")

RISE_FACTOR = 1.5  # latest loss above this multiple of the starting (or best epoch) loss: rising
FLAT_SHARE = 0.97  # after FLAT_EPOCHS the loss is still within 1 - this share of where it started: flat
FLAT_EPOCHS = 2
OVERFIT_GAP = 0.10  # training accuracy this far above validation accuracy
LOW_ACC = 0.70  # both accuracies below this after UNDERFIT_EPOCHS: underfitting
UNDERFIT_EPOCHS = 5
SCALE_LIMIT = 100.0  # activation variance changing by more than this factor from first to last layer
DEAD_SHARE = 0.5  # more than this share of a ReLU layer's units never active on a probe batch
UPDATE_RANGE = (1e-4, 1e-2)  # healthy ‖Δw‖/‖w‖ per step
UPDATE_SAMPLES = 3  # median over this many statistics samples
PROBE_SAMPLES = 256
PROBE_SHARE = 0.01  # the dead-unit probe may take this share of the training time (tiny models: not every epoch)
ENDS = 3  # batch losses averaged at the start and at the end of the run so far


@dataclass(frozen=True)
class Hint:
    """One finding. ``epoch`` is when it was seen (1-based, None before the first epoch ended); ``layer`` the
    stack row (0-based) it is about; ``best_epoch`` marks the epoch to go back to (overfitting)."""

    rule: str
    severity: Severity
    message: str
    evidence: str
    action: str
    epoch: int | None
    layer: int | None = None
    best_epoch: int | None = None


@dataclass
class BatchLosses:
    """What the rules need of the batch losses, kept in constant time and memory per batch."""

    first: float | None = None
    bad: float | None = None  # the first loss that was not finite
    head: list[float] = field(default_factory=list)  # the first ``ENDS`` finite losses
    tail: deque[float] = field(default_factory=lambda: deque(maxlen=ENDS))  # the latest finite ones
    finite: int = 0

    def add(self, loss: float) -> None:
        if self.first is None:
            self.first = loss
        if not math.isfinite(loss):
            self.bad = loss if self.bad is None else self.bad
            return
        self.finite += 1
        if len(self.head) < ENDS:
            self.head.append(loss)
        self.tail.append(loss)


@dataclass
class Watch:
    """What the rules can see: the fit's reports so far, as plain numbers."""

    layer_types: tuple[str, ...] = ()
    layer_names: tuple[str, ...] = ()
    total_epochs: int = 0
    losses: BatchLosses = field(default_factory=BatchLosses)
    scale_rows: list[int] = field(default_factory=list)  # see _scale_rows
    fired: set[tuple[str, int | None]] = field(default_factory=set)  # (rule, layer) of the hints given
    epochs: list[EpochEnd] = field(default_factory=list)
    stats: list[LayerStats] = field(default_factory=list)
    dead: np.ndarray | None = None  # per row: share of units never active (NaN for non-ReLU rows)
    end: FitEnd | None = None

    @property
    def epoch(self) -> int | None:
        return self.epochs[-1].epoch if self.epochs else None


Check = Callable[[Watch], list[Hint]]


@dataclass(frozen=True)
class Rule:
    """A named check run at the moments in ``when`` (any of ``batch``, ``stats``, ``epoch``, ``end``)."""

    name: str
    title: str
    when: tuple[str, ...]
    check: Check


RULES: Registry[Rule] = Registry("diagnostic rule")


def _rule(name: str, title: str, when: tuple[str, ...]) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.register(name, Rule(name, title, when, check))
        return check

    return register


def _hint(watch: Watch, rule: str, severity: Severity, message: str, evidence: str, action: str, **extra: Any) -> Hint:
    return Hint(rule, severity, message, evidence, action, watch.epoch, **extra)


@_rule("non_finite", "Loss not a number", ("batch", "end"))
def _non_finite(w: Watch) -> list[Hint]:
    bad = w.losses.bad
    if bad is None and (w.end is None or w.end.reason != EndReason.NON_FINITE):
        return []
    evidence = f"a batch loss was {bad}" if w.end is None or w.end.reason != EndReason.NON_FINITE else w.end.message
    return [_hint(w, "non_finite", Severity.ERROR, "The loss became NaN or infinite: the learning rate is too high.",
                  evidence, "Lower the learning rate 10×, or use the learning-rate finder.")]


@_rule("loss_rising", "Loss rising", ("batch", "epoch"))
def _rising(w: Watch) -> list[Hint]:
    losses = w.losses
    evidence = None
    if losses.finite >= 2 * ENDS:
        start, recent = sum(losses.head) / ENDS, sum(losses.tail) / ENDS
        if recent > RISE_FACTOR * start:
            evidence = f"recent batch loss {recent:.3g} vs {start:.3g} at the start"
    train = [e.train_loss for e in w.epochs]
    if len(train) >= 2 and train[-1] > RISE_FACTOR * min(train):
        evidence = f"training loss {train[-1]:.3g} in epoch {len(train)} vs its best {min(train):.3g}"
    if evidence is None:
        return []
    return [_hint(w, "loss_rising", Severity.WARNING,
                  "The training loss is rising: the learning rate is probably too high.",
                  evidence, "Lower the learning rate 3-10×, or add a schedule that lowers it over time.")]


@_rule("loss_flat", "Loss flat", ("epoch",))
def _flat(w: Watch) -> list[Hint]:
    start = w.losses.first
    if len(w.epochs) < FLAT_EPOCHS or start is None or not math.isfinite(start):
        return []
    now = w.epochs[-1].train_loss
    if not abs(now - start) <= (1 - FLAT_SHARE) * abs(start):
        return []
    dead = ""
    if w.dead is not None and not np.isnan(w.dead).all():
        dead = f"; up to {np.nanmax(w.dead):.0%} of a layer's units dead"
    return [_hint(w, "loss_flat", Severity.WARNING,
                  "The loss is not going down: the learning rate may be too low, or units "
                  "are dead.", f"loss {start:.3g} at the start, {now:.3g} after {len(w.epochs)} epoch(s){dead}",
                  "Raise the learning rate (try the learning-rate finder); with ReLUs try He initialisation.")]


@_rule("overfitting", "Overfitting", ("epoch",))
def _overfitting(w: Watch) -> list[Hint]:
    e = w.epochs[-1] if w.epochs else None
    if e is None or e.train_acc is None or e.val_acc is None or e.train_acc - e.val_acc < OVERFIT_GAP:
        return []
    vals = [x.val_loss if x.val_loss is not None else math.inf for x in w.epochs]
    best = int(np.argmin(vals)) + 1
    return [_hint(w, "overfitting", Severity.WARNING,
                  "Training accuracy is far above validation accuracy: the network is "
                  "memorising the training data (overfitting).",
                  f"training {e.train_acc:.1%} vs validation {e.val_acc:.1%} in epoch {e.epoch}; "
                  f"best validation loss in epoch {best}",
                  f"Add dropout or L2 weight decay, get more data, or stop earlier (epoch {best} was best).",
                  best_epoch=best)]


@_rule("underfitting", "Underfitting", ("epoch",))
def _underfitting(w: Watch) -> list[Hint]:
    e = w.epochs[-1] if w.epochs else None
    if e is None or e.train_acc is None or e.epoch < max(2, min(UNDERFIT_EPOCHS, w.total_epochs or UNDERFIT_EPOCHS)):
        return []
    val = e.val_acc if e.val_acc is not None else e.train_acc
    if e.train_acc >= LOW_ACC or val >= LOW_ACC:
        return []
    return [_hint(w, "underfitting", Severity.WARNING, "Both training and validation accuracy are low: the network is "
                  "underfitting.", f"training {e.train_acc:.1%}, validation {val:.1%} after {e.epoch} epoch(s)",
                  "Make the network bigger (wider or deeper, with non-linear activations), train longer or raise "
                  "the learning rate.")]


def _scale_rows(layer_types: Sequence[str]) -> list[int]:
    """Rows whose activation variance is compared across depth: activation layers, else weight layers."""
    acts = [i for i, t in enumerate(layer_types) if t in LAYERS and LAYERS.get(t).group == "activation"]
    return acts if len(acts) >= 2 else [i for i, t in enumerate(layer_types) if has_role(t, LayerRole.WEIGHTED)]


@_rule("activation_scale", "Activations collapse or explode with depth", ("stats",))
def _activation_scale(w: Watch) -> list[Hint]:
    rows = w.scale_rows
    if not w.stats or len(rows) < 2:
        return []
    var = w.stats[-1].act_var[rows]
    first, last = float(var[0]), float(var[-1])
    if not (math.isfinite(first) and first > 0):
        return []
    ratio = last / first if math.isfinite(last) else math.inf
    if 1 / SCALE_LIMIT <= ratio <= SCALE_LIMIT:
        return []
    way = "collapses towards zero" if ratio < 1 else "explodes"
    return [_hint(w, "activation_scale", Severity.WARNING, f"The activation variance {way} with depth.",
                  f"variance {first:.3g} at {w.layer_names[rows[0]]}, {last:.3g} at {w.layer_names[rows[-1]]}",
                  "Use Xavier initialisation for tanh/sigmoid or He for ReLU, or add batch norm.", layer=rows[-1])]


@_rule("dead_relu", "Dead ReLU units", ("epoch",))
def _dead_relu(w: Watch) -> list[Hint]:
    if w.dead is None:
        return []
    return [_hint(w, "dead_relu", Severity.WARNING,
                  f"More than half of layer {w.layer_names[i]}'s units are dead: they "
                  "output 0 for every input, so they get no gradient and never recover.",
                  f"{share:.0%} of its units were never active on {PROBE_SAMPLES} training samples",
                  "Lower the learning rate, use He initialisation or a small positive bias, or LeakyReLU.", layer=i)
            for i, share in enumerate(w.dead) if share > DEAD_SHARE]


@_rule("update_ratio", "Update size", ("stats",))
def _update_ratio(w: Watch) -> list[Hint]:
    recent = w.stats[-UPDATE_SAMPLES:]
    # In the first epoch every optimizer moves the weights fast away from their initial values (Adam's
    # first steps are a full learning rate each): only the settled ratio says whether the rate is right.
    if len(recent) < UPDATE_SAMPLES or recent[0].epoch < 2:
        return []
    low, high = UPDATE_RANGE
    hints = []
    # Plain Python over a handful of numbers: numpy's per-call overhead would dominate, and this runs in training.
    for i in range(len(recent[-1].update_ratio)):
        if ("update_ratio", i) in w.fired:
            continue
        measured = [float(v) for v in (s.update_ratio[i] for s in recent) if math.isfinite(v)]
        r = statistics.median(measured) if measured else math.nan
        if not math.isfinite(r) or low <= r <= high:
            continue
        small = r < low
        hints.append(_hint(
            w, "update_ratio", Severity.INFO,
            f"Layer {w.layer_names[i]}'s weights change by {'very little' if small else 'a lot'} each step.",
            f"update/weight ratio {r:.1e} (healthy: {low:g} to {high:g})",
            "Raise the learning rate." if small else "Lower the learning rate.", layer=i))
    return hints


@torch.no_grad()
def dead_units(model: nn.Module, x: torch.Tensor, units: Sequence[Unit]) -> np.ndarray:
    """Per row (``units``: rows inside blocks too), the share of ReLU units (features or channels) that are zero
    for every sample of ``x``; NaN for other rows.
    """
    out = np.full(len(units), np.nan)
    relus = [i for i, unit in enumerate(units) if unit.type == "ReLU"]
    if not relus:
        return out
    outputs: dict[int, torch.Tensor] = {}

    def keep(i: int) -> Callable[[nn.Module, object, torch.Tensor], None]:
        return lambda _module, _inputs, output: outputs.__setitem__(i, output)

    handles = [units[i].module.register_forward_hook(keep(i)) for i in relus]
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    for i, h in outputs.items():
        active = (h != 0).reshape(h.shape[0], h.shape[1], -1).any(dim=2).any(dim=0)
        out[i] = 1.0 - float(active.float().mean())
    return out


class Diagnostics(Callback):
    """Runs :data:`RULES` (or the named ``rules``) during a fit; see the module docstring."""

    def __init__(self, rules: Sequence[str] | None = None, on_hint: Callable[[Hint], None] | None = None) -> None:
        self.rules = [RULES.get(name) for name in (rules if rules is not None else RULES.names())]
        self.on_hint = on_hint
        self.hints: list[Hint] = []
        self.watch = Watch()
        self._probe: torch.Tensor | None = None
        self._probe_cost = 0.0  # seconds the last dead-unit probe took
        self._probed_at = 0.0  # when it ended (perf_counter)

    def _run(self, when: str) -> None:
        for rule in self.rules:
            if when not in rule.when:
                continue
            for hint in rule.check(self.watch):
                key = (hint.rule, hint.layer)
                if key in self.watch.fired:
                    continue
                self.watch.fired.add(key)
                self.hints.append(hint)
                if self.on_hint is not None:
                    self.on_hint(hint)

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        types = tuple(unit.type for unit in trainer.units)
        self.watch = Watch(types, event.layer_names, event.total_epochs, scale_rows=_scale_rows(types))
        self.hints.clear()
        data = trainer.data
        probing = not data.streaming and "ReLU" in types
        self._probe = data.tensors("train")[0][:PROBE_SAMPLES].to(trainer.device) if probing else None
        self._probe_cost, self._probed_at = 0.0, time.perf_counter()

    def on_train_batch_end(self, trainer: FitContext, event: BatchEnd) -> None:
        self.watch.losses.add(event.loss)
        self._run("batch")

    def on_layer_stats(self, trainer: FitContext, event: LayerStats) -> None:
        self.watch.stats = [*self.watch.stats[-(UPDATE_SAMPLES - 1):], event]
        self._run("stats")

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        self.watch.epochs.append(event)
        if self._probe is not None and (self._probe_due() or event.epoch == self.watch.total_epochs):
            start = time.perf_counter()
            self.watch.dead = dead_units(trainer.model, self._probe, trainer.units)
            self._probed_at = time.perf_counter()
            self._probe_cost = self._probed_at - start
        self._run("epoch")

    def _probe_due(self) -> bool:
        """Probe the first epoch, then only within ``PROBE_SHARE`` of the time since the last probe."""
        return self._probe_cost <= PROBE_SHARE * (time.perf_counter() - self._probed_at)

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        self.watch.end = event
        self._run("end")
