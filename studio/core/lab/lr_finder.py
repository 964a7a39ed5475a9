"""Learning-rate finder: a short run whose learning rate grows exponentially every step, loss against rate.

The loss first stays flat (rate too small), then falls (good rates), then shoots up (too large). The
suggestion is where the smoothed loss falls fastest per factor of learning rate (steepest descent on the
log axis); ``min_lr / 10`` (a tenth of the rate at the lowest loss) is offered too, a common rule of thumb.
The sweep trains a throw-away copy of the network: the project's own weights are never touched.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from studio.core.build import build_model
from studio.core.data import PreparedData, prepare_data
from studio.core.device import pick_device
from studio.core.engine.batching import Batch, StreamBatches, TensorBatches, stream_batches
from studio.core.errors import ConfigError
from studio.core.lab.common import StopFlag, never_stop
from studio.core.memory import check_memory
from studio.core.optim import OPTIMIZERS, build_loss, build_optimizer, param_groups
from studio.core.progress import Progress, no_progress
from studio.core.project import Project

DEFAULT_START = 1e-6
DEFAULT_END = 1.0
DEFAULT_STEPS = 100
SMOOTHING = 0.9  # exponential moving average of the loss, bias-corrected
MIN_FALL = 0.01  # the smoothed loss must fall by at least this share of its start for a suggestion
DIVERGE_FACTOR = 4.0  # stop once the smoothed loss exceeds this multiple of its best


@dataclass(frozen=True)
class LrFinderResult:
    """Rates tried, raw and smoothed losses; the suggestion and the alternatives it was chosen from.

    ``suggested_lr`` is None when the loss never fell (then the range or the network is the problem).
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested_lr: float | None
    steepest_lr: float | None
    min_loss_lr: float | None
    diverged: bool
    message: str

    @property
    def min_over_10(self) -> float | None:
        return None if self.min_loss_lr is None else self.min_loss_lr / 10


def lr_schedule(start: float, end: float, steps: int) -> np.ndarray:
    """``steps`` learning rates growing by the same factor from ``start`` to ``end``."""
    return np.geomspace(start, end, steps)


def find_lr(project: Project, start: float = DEFAULT_START, end: float = DEFAULT_END, steps: int = DEFAULT_STEPS,
            data: PreparedData | None = None, progress: Progress | None = None,
            stop: StopFlag | None = None) -> LrFinderResult:
    """Sweep the learning rate of ``project``'s optimizer from ``start`` to ``end`` over ``steps`` batches."""
    progress, stop = progress or no_progress, stop or never_stop
    _check_range(start, end, steps)
    if data is None:
        progress(0.0, "Preparing data")
        data = prepare_data(project.data)
    t = project.training
    device = pick_device(t.device)
    check_memory(project.model, data.input_shape, min(t.batch_size, data.n_train), project.optimizer, device)
    model = build_model(project.model, data.input_shape, t.seed).to(device)
    model.train()
    kind = OPTIMIZERS.get(project.optimizer.name)
    if not any(p.name == "lr" for p in kind.params):
        raise ConfigError(f"the {kind.label} optimizer has no learning rate to sweep", field="optimizer")
    groups = param_groups(model, project.model.layers, start)
    multipliers = [spec_lr / start for spec_lr in (g["lr"] for g in groups)]
    optimizer = build_optimizer(project.optimizer, groups)
    loss_fn = build_loss(project.loss, data.task, data.num_classes or None)
    batches: TensorBatches | StreamBatches
    if data.streaming:
        batches = stream_batches(data.dataset("train"), t.batch_size, t.shuffle, t.seed, device)
    else:
        x, y = data.tensors("train")
        batches = TensorBatches(x.to(device), y.to(device), t.batch_size, t.shuffle, t.seed)
    lrs = lr_schedule(start, end, steps)
    losses: list[float] = []
    smoothed: list[float] = []
    average, best, diverged = 0.0, math.inf, False
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(t.seed)
        for step, (lr, (x, y)) in enumerate(zip(lrs, _forever(batches), strict=False)):
            if stop():
                break
            for group, mult in zip(optimizer.param_groups, multipliers, strict=True):
                group["lr"] = lr * mult
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = float(loss.detach())
            losses.append(value)
            average = SMOOTHING * average + (1 - SMOOTHING) * value
            smoothed.append(average / (1 - SMOOTHING ** (step + 1)))
            progress((step + 1) / steps, f"learning rate {lr:.2g}")
            if not math.isfinite(smoothed[-1]) or smoothed[-1] > DIVERGE_FACTOR * best:
                diverged = True
                break
            best = min(best, smoothed[-1])
    return suggest(lrs[: len(losses)], np.asarray(losses), np.asarray(smoothed), diverged)


def _check_range(start: float, end: float, steps: int) -> None:
    if not (0 < start < end) or not math.isfinite(end):
        raise ConfigError(f"the sweep needs 0 < start < end; got start {start:g}, end {end:g}", field="start")
    if steps < 5:
        raise ConfigError("the sweep needs at least 5 steps", field="steps")


def _forever(batches: TensorBatches | StreamBatches) -> Iterator[Batch]:
    """The batches of epoch after epoch, for as many steps as the sweep takes."""
    epoch = 0
    while True:
        yield from batches.epoch(epoch)
        epoch += 1


def suggest(lrs: np.ndarray, losses: np.ndarray, smoothed: np.ndarray, diverged: bool) -> LrFinderResult:
    """Pick the rate where the smoothed loss falls fastest on the log-rate axis (ignoring the first steps)."""
    finite = np.isfinite(smoothed)
    steepest = min_lr = None
    if finite.sum() >= 5:
        idx = np.flatnonzero(finite)
        log_lr, values = np.log10(lrs[idx]), smoothed[idx]
        slopes = np.gradient(values, log_lr)
        skip = max(1, len(idx) // 10)  # the first smoothed values still carry the start-up transient
        steepest_i = skip + int(np.argmin(slopes[skip:])) if len(idx) > skip else int(np.argmin(slopes))
        fell = values.min() < (1 - MIN_FALL) * values[0]
        if fell and slopes[steepest_i] < 0:
            steepest = float(lrs[idx[steepest_i]])
        min_lr = float(lrs[idx[int(np.argmin(values))]])
        if not fell:
            min_lr = None
    suggested = steepest if steepest is not None else (min_lr / 10 if min_lr is not None else None)
    if suggested is None:
        message = "The loss never fell over this range: try a wider range, or check the network with a sanity check."
    else:
        message = (f"Suggested learning rate {suggested:.2g}: the loss falls fastest there"
                   + (f"; a tenth of the rate at the lowest loss is {min_lr / 10:.2g}." if min_lr else "."))
        if not diverged and min_lr is not None and min_lr >= lrs[-1]:
            message += " The loss was still falling at the end of the range: try a larger end rate."
    return LrFinderResult(lrs, losses, smoothed, suggested, steepest, min_lr, diverged, message)


def apply_lr(project: Project, lr: float) -> Project:
    """A copy of ``project`` with the optimizer's learning rate set to ``lr`` (the finder's "apply")."""
    if not (lr > 0 and math.isfinite(lr)):
        raise ConfigError(f"a learning rate must be a positive number, not {lr!r}", field="lr")
    changed = project.copy()
    changed.optimizer.params = {**changed.optimizer.params, "lr": float(lr)}
    return changed
