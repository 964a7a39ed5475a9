"""The rules the diagnostics check while a network trains, each with the numbers that trigger it.

A rule looks at a :class:`Watch` (what the fit has reported so far, as plain numbers) and returns hints. A rule
names the rules whose findings make its own advice wrong (``unless``): a run whose loss blew up has chance
accuracy and barely moving weights too, and telling its learner to raise the learning rate would be the
opposite of the truth. :class:`~studio.core.lab.diagnostics.Diagnostics` drops such a hint when one of those
rules fired before or fires at the same moment.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core.events import EpochEnd, FitEnd, LayerStats
from studio.core.layers import LAYERS, LayerRole, has_role
from studio.core.registry import Registry
from studio.core.vocab import EndReason, Severity

WHEN = ("start", "batch", "stats", "epoch", "end")

RISE_FACTOR = 1.5  # the loss (mean of ENDS logged losses) above this multiple of the untrained loss: too high
FLAT_SHARE = 0.97  # after FLAT_EPOCHS the loss is still within 1 - this share of where it started: flat
FLAT_EPOCHS = 2
SLOW_SHARE = 0.5  # small updates are only a problem while the loss is above this share of where it started
OVERFIT_GAP = 0.10  # training accuracy this far above validation accuracy
OVERFIT_RISE = 0.20  # validation loss this share above its best while the training loss fell
OVERFIT_EPOCHS = 3  # ...in each of the last this many epochs
LOW_ACC = 0.70  # both accuracies below this after UNDERFIT_EPOCHS: underfitting
UNDERFIT_EPOCHS = 5
SCALE_LIMIT = 100.0  # activation variance changing by more than this factor from first to last layer
VANISH_RATIO = 1e-3  # gradient norm of the first weighted layer below this share of the last one's
SATURATED_SHARE = 0.5  # more than this share of a squashing layer's outputs within 1% of its bounds
DEAD_SHARE = 0.5  # more than this share of a ReLU layer's units never active on a probe batch
UPDATE_RANGE = (1e-4, 1e-2)  # healthy ‖Δw‖/‖w‖ per step
UPDATE_SAMPLES = 3  # median over this many statistics samples
PROBE_SAMPLES = 256
ENDS = 3  # batch losses averaged at the start and at the end of the run so far
TOO_HIGH = ("non_finite", "loss_rising")  # findings that say the learning rate is too high
# Findings that explain a stuck loss by the network itself: raising the learning rate does not fix them.
CAUSES = ("activation_scale", "vanishing_gradient", "saturation", "dead_relu")
NO_RAISE = (*TOO_HIGH, *CAUSES)  # findings after which "raise the learning rate" would be wrong


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
    peak: float | None = None  # the highest mean of ``ENDS`` consecutive finite losses

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
        if len(self.tail) == ENDS:
            mean = sum(self.tail) / ENDS
            self.peak = mean if self.peak is None else max(self.peak, mean)


@dataclass
class Watch:
    """What the rules can see: the fit's reports so far, as plain numbers.

    ``start_loss`` and ``start_var`` come from one forward pass of the untrained network on a probe batch of
    training samples (None for streaming data): the loss, and each row's output variance.
    """

    layer_types: tuple[str, ...] = ()
    layer_names: tuple[str, ...] = ()
    total_epochs: int = 0
    losses: BatchLosses = field(default_factory=BatchLosses)
    scale_rows: list[int] = field(default_factory=list)  # see scale_rows
    fired: set[tuple[str, int | None]] = field(default_factory=set)  # (rule, layer) of the hints given
    epochs: list[EpochEnd] = field(default_factory=list)
    stats: list[LayerStats] = field(default_factory=list)
    dead: np.ndarray | None = None  # per row: share of units never active (NaN for non-ReLU rows)
    end: FitEnd | None = None
    start_loss: float | None = None
    start_var: np.ndarray | None = None

    @property
    def epoch(self) -> int | None:
        return self.epochs[-1].epoch if self.epochs else None

    @property
    def start(self) -> float | None:
        """The loss before training (the probe's), else the first logged one; None when not finite."""
        start = self.start_loss if self.start_loss is not None else self.losses.first
        return start if start is not None and math.isfinite(start) else None


Check = Callable[[Watch], list[Hint]]


@dataclass(frozen=True)
class Rule:
    """A named check run at the moments in ``when`` (any of :data:`WHEN`); its hints are dropped once a rule
    named in ``unless`` has fired."""

    name: str
    title: str
    when: tuple[str, ...]
    check: Check
    unless: tuple[str, ...] = ()


RULES: Registry[Rule] = Registry("diagnostic rule")


def _rule(name: str, title: str, when: tuple[str, ...], unless: tuple[str, ...] = ()) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.register(name, Rule(name, title, when, check, unless))
        return check

    return register


def _hint(watch: Watch, rule: str, severity: Severity, message: str, evidence: str, action: str, **extra: Any) -> Hint:
    return Hint(rule, severity, message, evidence, action, watch.epoch, **extra)


def scale_rows(layer_types: Sequence[str]) -> list[int]:
    """Rows whose activation variance is compared across depth: activation layers, else weight layers."""
    acts = [i for i, t in enumerate(layer_types) if t in LAYERS and LAYERS.get(t).group == "activation"]
    return acts if len(acts) >= 2 else weighted_rows(layer_types)


def weighted_rows(layer_types: Sequence[str]) -> list[int]:
    return [i for i, t in enumerate(layer_types) if has_role(t, LayerRole.WEIGHTED)]


@_rule("non_finite", "Loss not a number", ("batch", "end"))
def _non_finite(w: Watch) -> list[Hint]:
    bad = w.losses.bad
    if bad is None and (w.end is None or w.end.reason != EndReason.NON_FINITE):
        return []
    evidence = f"a batch loss was {bad}" if w.end is None or w.end.reason != EndReason.NON_FINITE else w.end.message
    if any(rule == "activation_scale" for rule, _layer in w.fired):  # exploding from the start: the init's fault
        return [_hint(w, "non_finite", Severity.ERROR, "The loss became NaN or infinite: the activations were "
                      "already far too large before training (see the activation hint).", evidence,
                      "Fix the initialisation first (He for ReLU, Xavier for tanh) or add batch norm; lower the "
                      "learning rate only if it still happens.")]
    return [_hint(w, "non_finite", Severity.ERROR, "The loss became NaN or infinite: the learning rate is too high.",
                  evidence, "Lower the learning rate 10×, or use the learning-rate finder.")]


def _rise_evidence(w: Watch) -> str | None:
    losses, start = w.losses, w.start
    if start is not None and losses.peak is not None and losses.peak > RISE_FACTOR * start:
        before = "before training" if w.start_loss is not None else "at the start"
        return f"the batch loss rose to {losses.peak:.3g} (mean of {ENDS} logged losses) from {start:.3g} {before}"
    train = [e.train_loss for e in w.epochs]
    if len(train) >= 2 and train[-1] > RISE_FACTOR * min(train):
        return f"training loss {train[-1]:.3g} in epoch {len(train)} vs its best {min(train):.3g}"
    return None


@_rule("loss_rising", "Loss rising", ("batch", "epoch"), unless=("non_finite",))
def _rising(w: Watch) -> list[Hint]:
    evidence = _rise_evidence(w)
    if evidence is None:
        return []
    return [_hint(w, "loss_rising", Severity.WARNING,
                  "The training loss rose above where it was: the learning rate is too high.",
                  evidence, "Lower the learning rate 3-10× (try the learning-rate finder), or add a schedule that "
                  "lowers it over time.")]


@_rule("loss_flat", "Loss flat", ("epoch",), unless=NO_RAISE)
def _flat(w: Watch) -> list[Hint]:
    start = w.start
    if len(w.epochs) < FLAT_EPOCHS or start is None:
        return []
    now = w.epochs[-1].train_loss
    if not abs(now - start) <= (1 - FLAT_SHARE) * abs(start):
        return []
    return [_hint(w, "loss_flat", Severity.WARNING, "The loss is not going down: the learning rate is too low.",
                  f"loss {start:.3g} at the start, {now:.3g} after {len(w.epochs)} epoch(s) "
                  f"(within {1 - FLAT_SHARE:.0%})", "Raise the learning rate 10× (try the learning-rate finder).")]


def _loss_overfit(w: Watch) -> tuple[str, int] | None:
    """Evidence that the validation loss rose well above its best while the training loss kept falling."""
    vals = [e.val_loss if e.val_loss is not None else math.nan for e in w.epochs]
    if not vals or not all(math.isfinite(v) for v in vals):
        return None
    best = int(np.argmin(vals))
    now, at_best = w.epochs[-1], w.epochs[best]
    # Sustained: each of the last OVERFIT_EPOCHS epochs is that far above the best, so noise does not count.
    if len(vals) - 1 - best < OVERFIT_EPOCHS or now.train_loss >= at_best.train_loss:
        return None
    if min(vals[-OVERFIT_EPOCHS:]) < (1 + OVERFIT_RISE) * vals[best]:
        return None
    return (f"validation loss {vals[-1]:.3g} in epoch {now.epoch}, up from {vals[best]:.3g} in epoch "
            f"{at_best.epoch}, while the training loss fell from {at_best.train_loss:.3g} to {now.train_loss:.3g}",
            at_best.epoch)


@_rule("overfitting", "Overfitting", ("epoch",), unless=TOO_HIGH)
def _overfitting(w: Watch) -> list[Hint]:
    e = w.epochs[-1] if w.epochs else None
    if e is None:
        return []
    found = _loss_overfit(w)
    # Memorising means fitting the training data: a gap between two poor accuracies is noise, not overfitting.
    if (found is None and e.train_acc is not None and e.val_acc is not None and e.train_acc >= LOW_ACC
            and e.train_acc - e.val_acc >= OVERFIT_GAP):
        vals = [x.val_loss if x.val_loss is not None else math.inf for x in w.epochs]
        best = int(np.argmin(vals)) + 1
        found = (f"training accuracy {e.train_acc:.1%} vs validation {e.val_acc:.1%} in epoch {e.epoch}; "
                 f"best validation loss in epoch {best}", best)
    if found is None:
        return []
    evidence, best = found
    return [_hint(w, "overfitting", Severity.WARNING,
                  "The network is memorising the training data (overfitting): it gets better on it and worse on "
                  "data it has not seen.", evidence,
                  f"Add dropout or L2 weight decay, get more data, or stop earlier (epoch {best} was best).",
                  best_epoch=best)]


@_rule("underfitting", "Underfitting", ("epoch",), unless=NO_RAISE)
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


@_rule("activation_scale", "Activations collapse or explode with depth", ("start",))
def _activation_scale(w: Watch) -> list[Hint]:
    rows = w.scale_rows
    if w.start_var is None or len(rows) < 2:
        return []
    var = w.start_var[rows]
    first, last = float(var[0]), float(var[-1])
    if not (math.isfinite(first) and first > 0):
        return []
    ratio = last / first if math.isfinite(last) else math.inf
    if 1 / SCALE_LIMIT <= ratio <= SCALE_LIMIT:
        return []
    way = "collapses towards zero" if ratio < 1 else "explodes"
    return [_hint(w, "activation_scale", Severity.WARNING, f"The activation variance {way} with depth.",
                  f"before training: variance {first:.3g} at {w.layer_names[rows[0]]}, {last:.3g} at "
                  f"{w.layer_names[rows[-1]]} ({ratio:.1e}×)",
                  "Use Xavier initialisation for tanh/sigmoid or He for ReLU, or add batch norm.", layer=rows[-1])]


def _recent(w: Watch, values: Callable[[LayerStats], np.ndarray], i: int) -> float:
    """The median of row ``i``'s finite values over the last statistics samples (NaN when none)."""
    measured = [float(v) for v in (values(s)[i] for s in w.stats[-UPDATE_SAMPLES:]) if math.isfinite(v)]
    return statistics.median(measured) if measured else math.nan


@_rule("vanishing_gradient", "Vanishing gradient", ("stats",), unless=(*TOO_HIGH, "dead_relu"))
def _vanishing(w: Watch) -> list[Hint]:
    rows = weighted_rows(w.layer_types)
    if len(w.stats) < UPDATE_SAMPLES or len(rows) < 2:
        return []
    first, last = (_recent(w, lambda s: s.grad_norm, i) for i in (rows[0], rows[-1]))
    # Exactly zero is no gradient at all (dead units on the way), which the dead-unit rule explains.
    if not (first > 0 and last > 0) or first >= VANISH_RATIO * last:
        return []
    return [_hint(w, "vanishing_gradient", Severity.WARNING,
                  "The gradient vanishes on its way back through the layers: the first layers barely learn.",
                  f"gradient norm {first:.2g} at {w.layer_names[rows[0]]} vs {last:.2g} at {w.layer_names[rows[-1]]} "
                  f"({first / last:.1e}×)",
                  "Use Xavier (tanh, sigmoid) or He (ReLU) initialisation, ReLU instead of sigmoid, batch norm or "
                  "residual blocks.", layer=rows[0])]


@_rule("saturation", "Saturated activations", ("stats",), unless=TOO_HIGH)
def _saturation(w: Watch) -> list[Hint]:
    if len(w.stats) < UPDATE_SAMPLES:
        return []
    shares = [(i, _recent(w, lambda s: s.frac_saturated, i)) for i in range(len(w.stats[-1].frac_saturated))]
    found = [(i, share) for i, share in shares if math.isfinite(share) and share > SATURATED_SHARE]
    if not found:
        return []
    # One hint for the network: a deep tanh stack saturates everywhere, and ten cards would say the same ten times.
    i, share = found[0]
    others = f"; {len(found) - 1} more layer(s) above {SATURATED_SHARE:.0%}" if len(found) > 1 else ""
    return [_hint(w, "saturation", Severity.WARNING,
                  f"Layer {w.layer_names[i]} is saturated: most outputs sit at its limits, where its gradient is "
                  "almost zero.", f"{share:.0%} of its outputs within 1% of their bounds{others}",
                  "Use Xavier initialisation, standardise the inputs, or add batch norm before the activation.",
                  layer=i)]


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


def _still_slow(w: Watch) -> bool:
    """The loss has not yet fallen to half of where it started: small steps may be what holds it back."""
    start = w.start
    return start is None or not w.epochs or w.epochs[-1].train_loss > SLOW_SHARE * start


@_rule("update_ratio", "Update size", ("stats",), unless=NO_RAISE)
def _update_ratio(w: Watch) -> list[Hint]:
    recent = w.stats[-UPDATE_SAMPLES:]
    # In the first epoch every optimizer moves the weights fast away from their initial values (Adam's
    # first steps are a full learning rate each): only the settled ratio says whether the rate is right.
    if len(recent) < UPDATE_SAMPLES or recent[0].epoch < 2:
        return []
    low, high = UPDATE_RANGE
    slow = _still_slow(w)
    hints = []
    # Plain Python over a handful of numbers: numpy's per-call overhead would dominate, and this runs in training.
    for i in range(len(recent[-1].update_ratio)):
        if ("update_ratio", i) in w.fired:
            continue
        r = _recent(w, lambda s: s.update_ratio, i)
        # Small steps in a run whose loss already fell are convergence, not a learning rate too low.
        if not math.isfinite(r) or low <= r <= high or (r < low and not slow):
            continue
        small = r < low
        hints.append(_hint(
            w, "update_ratio", Severity.INFO,
            f"Layer {w.layer_names[i]}'s weights change by {'very little' if small else 'a lot'} each step.",
            f"update/weight ratio {r:.1e} (healthy: {low:g} to {high:g})",
            "Raise the learning rate." if small else "Lower the learning rate.", layer=i))
    return hints
