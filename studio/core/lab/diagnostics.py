"""Diagnostics: rules checked while a network trains, turned into hints with evidence and a suggested action.

Add :class:`Diagnostics` to a fit's callbacks. Each rule of :data:`RULES` (``studio.core.lab.rules``) looks at
what the fit has reported so far (a :class:`Watch`) at the moments it names (the start, after logged batches,
layer statistics, epochs, the end) and may return a :class:`Hint`. A hint fires once per rule and layer;
``on_hint`` receives it at once (the GUI forwards it to its thread) and ``hints`` keeps them all. Statistics
rules need ``training.stats_every`` > 0; the start and dead-unit probes need data in memory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from studio.core.callbacks import Callback, FitContext
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats
from studio.core.lab.rules import (
    ENDS,
    PROBE_SAMPLES,
    RULES,
    UPDATE_SAMPLES,
    WHEN,
    BatchLosses,
    Hint,
    Rule,
    Watch,
    scale_rows,
)
from studio.core.units import Unit

__all__ = ["ENDS", "PROBE_SHARE", "RULES", "WHEN", "BatchLosses", "Diagnostics", "Hint", "Rule", "Watch",
           "dead_units", "start_probe"]

PROBE_SHARE = 0.01  # the dead-unit probe may take this share of the training time (tiny models: not every epoch)

Reduce = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def _probe(model: nn.Module, x: torch.Tensor, units: Sequence[Unit], rows: Sequence[int],
           reduce: Reduce) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """One forward pass in eval mode: the model's output and ``reduce`` of each of ``rows``' outputs, taken in
    the hook (before a later in-place layer could change them)."""
    found: dict[int, torch.Tensor] = {}

    def keep(i: int) -> Callable[[nn.Module, object, object], None]:
        def hook(_module: nn.Module, _inputs: object, output: object) -> None:
            if isinstance(output, torch.Tensor):
                found[i] = reduce(output)
        return hook

    handles = [units[i].module.register_forward_hook(keep(i)) for i in rows]
    was_training = model.training
    model.eval()
    try:
        out = model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return out, found


def _never_active(h: torch.Tensor) -> torch.Tensor:
    active = (h != 0).reshape(h.shape[0], h.shape[1], -1).any(dim=2).any(dim=0)
    return 1.0 - active.float().mean()


def dead_units(model: nn.Module, x: torch.Tensor, units: Sequence[Unit]) -> np.ndarray:
    """Per row (``units``: rows inside blocks too), the share of ReLU units (features or channels) that are zero
    for every sample of ``x``; NaN for other rows.
    """
    out = np.full(len(units), np.nan)
    relus = [i for i, unit in enumerate(units) if unit.type == "ReLU"]
    if relus:
        for i, share in _probe(model, x, units, relus, _never_active)[1].items():
            out[i] = float(share)
    return out


def start_probe(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Callable[[torch.Tensor, torch.Tensor],
                torch.Tensor], units: Sequence[Unit]) -> tuple[float, np.ndarray]:
    """The untrained network's loss on ``(x, y)`` and each row's output variance: what "where it started"
    means for the loss rules, and the activation scale across depth before training moved anything."""
    out, found = _probe(model, x, units, range(len(units)), lambda h: h.detach().float().var())
    variance = np.full(len(units), np.nan)
    for i, v in found.items():
        variance[i] = float(v)
    return float(loss_fn(out, y)), variance


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
        found = [(rule, hint) for rule in self.rules if when in rule.when for hint in rule.check(self.watch)]
        # A finding of this moment outranks advice of the same moment, whatever the rules' order.
        blocking = {rule for rule, _layer in self.watch.fired} | {rule.name for rule, _hint in found}
        for rule, hint in found:
            key = (hint.rule, hint.layer)
            if key in self.watch.fired or blocking & set(rule.unless):
                continue
            self.watch.fired.add(key)
            self.hints.append(hint)
            if self.on_hint is not None:
                self.on_hint(hint)

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        types = tuple(unit.type for unit in trainer.units)
        self.watch = Watch(types, event.layer_names, event.total_epochs, scale_rows=scale_rows(types))
        self.hints.clear()
        data = trainer.data
        self._probe = None
        self._probe_cost, self._probed_at = 0.0, time.perf_counter()
        if data.streaming or not data.n_train:
            return
        x, y = (t[:PROBE_SAMPLES].to(trainer.device) for t in data.tensors("train"))
        loss, variance = start_probe(trainer.model, x, y, trainer.loss_fn, trainer.units)
        self.watch.start_loss, self.watch.start_var = (loss if math.isfinite(loss) else None), variance
        self._probe = x if "ReLU" in types else None
        self._run("start")

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
