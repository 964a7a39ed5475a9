"""Sanity check: can the network learn a tiny subset by heart? If not, something is wrong before any tuning.

The project is copied with a tiny training set (by default 10 samples per class; the first 100 samples
for regression), no validation split and every regulariser off (dropout removed, weight decay and label
smoothing 0, no early stopping), then trained until it memorises the subset or the epochs run out. A
healthy setup reaches 100% training accuracy with a loss near zero; otherwise the result names the most
likely causes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from studio.core.callbacks import Callback, FitContext
from studio.core.data import DATASETS, PreparedData, prepare_data
from studio.core.engine import Trainer, evaluate
from studio.core.events import EpochEnd
from studio.core.lab.common import EpochProgress, EventSink, LabRun, RunCallback, StopFlag
from studio.core.layers import LayerRole, has_role
from studio.core.optim import LOSSES, OPTIMIZERS
from studio.core.optim.losses import LossFn
from studio.core.progress import Progress, no_progress
from studio.core.project import Project
from studio.core.vocab import Task

DEFAULT_PER_CLASS = 10
DEFAULT_REGRESSION_SAMPLES = 100
DEFAULT_EPOCHS = 150
# "Near zero": a classification loss below this, or a regression loss below this share of its start.
LOSS_NEAR_ZERO = 0.05
REGRESSION_SHARE = 0.05


@dataclass
class SanityResult:
    """Pass or fail, the evidence, and the likely causes of a failure (empty when it passed)."""

    passed: bool
    verdict: str
    train_loss: float
    train_acc: float | None
    initial_loss: float
    epochs: int
    n_samples: int
    run: LabRun
    causes: list[str] = field(default_factory=list)
    # (epoch, loss, accuracy) measured on the subset in eval mode, from epoch 0 (before training) to the
    # end: the one source of the verdict's numbers and of the panel's plot (the per-batch training losses
    # in train mode are different numbers).
    curve: list[tuple[int, float, float | None]] = field(default_factory=list)


def sanity_project(project: Project, per_class: int = DEFAULT_PER_CLASS, epochs: int = DEFAULT_EPOCHS) -> Project:
    """A copy of ``project`` set up for the check: tiny subset, no validation, regularisation off."""
    tiny = project.copy()
    tiny.model.layers = [spec for spec in tiny.model.layers if not has_role(spec.type, LayerRole.DROPOUT)]
    _zero_if_known(tiny.optimizer.params, OPTIMIZERS.get(tiny.optimizer.name).params, "weight_decay")
    _zero_if_known(tiny.loss.params, LOSSES.get(tiny.loss.name).params, "label_smoothing")
    tiny.data.subset_per_class = per_class
    tiny.data.val_fraction = 0.0
    t = tiny.training
    t.epochs, t.early_stopping_patience, t.target_loss = epochs, None, None
    t.stats_every, t.checkpoint_every = 0, 0
    return tiny


def _zero_if_known(values: dict[str, Any], params: Any, name: str) -> None:
    if any(p.name == name for p in params):
        values[name] = 0.0


def _tiny_data(project: Project) -> PreparedData:
    """The subset: ``subset_per_class`` for classification, the first samples for regression.

    The dataset type's task decides which (a CSV file may declare another task; then the data tells).
    """
    spec = project.data
    if DATASETS.get(spec.dataset).task == Task.CLASSIFICATION:
        return prepare_data(spec)
    # prepare_data cannot reshape empty regression targets, so split off a validation part and drop it.
    data = prepare_data(replace(spec, subset_per_class=None, val_fraction=0.2))
    if data.task == Task.CLASSIFICATION:
        return prepare_data(spec)
    project.data.subset_per_class = None
    n = DEFAULT_REGRESSION_SAMPLES
    x, y = data.tensors("train")
    x_val, y_val = data.tensors("val")
    return replace(data, x_train=x[:n], y_train=y[:n], x_val=x_val[:0], y_val=y_val[:0])


class _Measure(Callback):
    """Measures the subset in eval mode after every epoch; ends the fit as soon as it passes the check."""

    def __init__(self, data: PreparedData, loss_fn: LossFn, passes: Callable[[float, float | None], bool],
                 curve: list[tuple[int, float, float | None]]) -> None:
        self.data = data
        self.loss_fn = loss_fn
        self.passes = passes
        self.curve = curve

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        loss, acc = evaluate(trainer.model, self.data, self.loss_fn, "train")
        self.curve.append((event.epoch, loss, acc))
        if self.passes(loss, acc):
            trainer.request_stop()


def sanity_check(project: Project, per_class: int = DEFAULT_PER_CLASS, epochs: int = DEFAULT_EPOCHS,
                 progress: Progress | None = None, stop: StopFlag | None = None,
                 on_event: EventSink | None = None) -> SanityResult:
    """Train ``project``'s network on a tiny subset with regularisation off and judge whether it memorised it."""
    progress = progress or no_progress
    tiny = sanity_project(project, per_class, epochs)
    progress(0.0, "Preparing the tiny subset")
    data = _tiny_data(tiny)
    tiny.training.batch_size = min(tiny.training.batch_size, data.n_train)
    run = LabRun("sanity", "Sanity check", tiny)
    trainer = Trainer(tiny, data=data, callbacks=[RunCallback(run, on_event, stop),
                                                  EpochProgress(progress, 0.0, 1.0, "Sanity check")])
    initial_loss, initial_acc = evaluate(trainer.model, data, trainer.loss_fn, "train")
    curve: list[tuple[int, float, float | None]] = [(0, initial_loss, initial_acc)]
    threshold = LOSS_NEAR_ZERO if data.task == Task.CLASSIFICATION else REGRESSION_SHARE * initial_loss
    passes = _criterion(data.task, threshold)
    trainer.callbacks.callbacks.append(_Measure(data, trainer.loss_fn, passes, curve))
    trainer.fit()
    _epoch, loss, acc = curve[-1]
    passed = passes(loss, acc) and not run.diverged
    result = SanityResult(passed, "", loss, acc, initial_loss, len(run.epochs), data.n_train, run, curve=curve)
    result.causes = [] if passed else likely_causes(tiny, result, threshold)
    result.verdict = _verdict(result, threshold)
    progress(1.0, "Sanity check done")
    return result


def _criterion(task: Task, threshold: float) -> Callable[[float, float | None], bool]:
    if task == Task.CLASSIFICATION:
        return lambda loss, acc: acc is not None and acc >= 1.0 and loss <= threshold
    return lambda loss, acc: math.isfinite(loss) and loss <= threshold


def _verdict(result: SanityResult, threshold: float) -> str:
    acc = "" if result.train_acc is None else f", training accuracy {result.train_acc:.0%}"
    evidence = f"loss {result.initial_loss:.3g} → {result.train_loss:.3g}{acc} on {result.n_samples} samples " \
               f"after {result.epochs} epoch(s)"
    if result.passed:
        return f"Pass: the network memorised the tiny subset ({evidence}). It can learn; now tune it on all the data."
    return (f"Fail: the network could not memorise {result.n_samples} samples ({evidence}, "
            f"target loss ≤ {threshold:.3g}).")


Check = Callable[[Project, SanityResult, float], str | None]


def _diverged(project: Project, r: SanityResult, threshold: float) -> str | None:
    if not r.run.diverged and math.isfinite(r.train_loss):
        return None
    return "The loss became NaN or infinite: the learning rate is too high. Try 10 times lower."


def _symmetric(project: Project, r: SanityResult, threshold: float) -> str | None:
    if project.model.init not in ("zeros", "constant"):
        return None
    return (f"The weights start {project.model.init}: all units of a layer are identical and stay identical "
            "(symmetry). Use a random initialisation such as He or Xavier.")


def _frozen(project: Project, r: SanityResult, threshold: float) -> str | None:
    frozen = [i + 1 for i, spec in enumerate(project.model.layers) if spec.frozen]
    return f"Layers {frozen} are frozen and cannot learn; unfreeze them." if frozen else None


def _flat(project: Project, r: SanityResult, threshold: float) -> str | None:
    if not r.train_loss > 0.9 * r.initial_loss:
        return None
    return ("The loss barely moved: the learning rate is probably too low, or units are dead (try He "
            "initialisation, a small positive bias, or LeakyReLU).")


def _bouncing(project: Project, r: SanityResult, threshold: float) -> str | None:
    losses = [e.train_loss for e in r.run.epochs]
    if len(losses) < 3 or losses[-1] <= 1.5 * min(losses):
        return None
    return "The loss went down and back up: the learning rate is probably too high. Try 3 to 10 times lower."


def _slow(project: Project, r: SanityResult, threshold: float) -> str | None:
    if r.train_loss > 0.9 * r.initial_loss:
        return None
    return ("The loss is falling but not to zero yet: train for more epochs, raise the learning rate a little, "
            "or give the network more capacity (wider or deeper layers).")


# In order of how much they explain; every cause that applies is reported.
CAUSES: tuple[Check, ...] = (_diverged, _symmetric, _frozen, _flat, _bouncing, _slow)


def likely_causes(project: Project, result: SanityResult, threshold: float) -> list[str]:
    """The causes that fit a failed check, most likely first."""
    return [text for check in CAUSES if (text := check(project, result, threshold)) is not None]
