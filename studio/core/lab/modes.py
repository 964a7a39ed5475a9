"""Train vs eval mode: the same weights measured both ways, and what dropout's scaling does.

Dropout and batch norm behave differently while training: dropout zeroes random values and scales the
kept ones by 1/(1-p) ("inverted dropout", so the expected output equals the input and evaluation needs no
rescaling); batch norm normalises with the batch's own statistics instead of its running averages. This
module measures loss and accuracy on both splits in both modes (on a copy, so running statistics of the
real model never change) and the actual scaling of every dropout layer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from studio.core.build import build_model
from studio.core.data import PreparedData, prepare_data
from studio.core.engine.evaluate import EVAL_BATCH, evaluate, split_batches
from studio.core.layers import LayerRole, has_role
from studio.core.optim import LossFn, build_loss
from studio.core.project import LayerSpec, Project
from studio.core.tree import iter_rows
from studio.core.units import model_units
from studio.core.vocab import Task

_TWO_MODES = (LayerRole.DROPOUT, LayerRole.BATCH_NORM)  # layers that differ between the modes
SPLITS = ("train", "val")
MODES = ("train", "eval")


@dataclass(frozen=True)
class ModeMetrics:
    """Loss and accuracy (None for regression) of one split in one mode."""

    split: str
    mode: str
    loss: float
    acc: float | None


@dataclass(frozen=True)
class DropoutScaling:
    """One dropout layer measured on a batch in training mode: what share it kept and by what it scaled."""

    layer: int
    name: str
    p: float
    expected_scale: float
    measured_scale: float
    kept_fraction: float
    mean_in: float
    mean_out_train: float


@dataclass(frozen=True)
class ModesResult:
    """Metrics of both splits in both modes, the dropout measurements and the explanation in sentences."""

    has_dropout: bool
    has_batchnorm: bool
    metrics: tuple[ModeMetrics, ...]
    dropout: tuple[DropoutScaling, ...]
    explanation: tuple[str, ...]

    def get(self, split: str, mode: str) -> ModeMetrics:
        return next(m for m in self.metrics if m.split == split and m.mode == mode)


def needs_modes(project: Project) -> bool:
    """True when the network has a layer that behaves differently in training and evaluation."""
    return any(has_role(spec.type, role) for _, spec in iter_rows(project.model.layers) for role in _TWO_MODES)


def compare_modes(project: Project, model: nn.Module | None = None, data: PreparedData | None = None) -> ModesResult:
    """Measure ``model`` (a trained one; by default freshly built from ``project``) in both modes."""
    data = data if data is not None else prepare_data(project.data)
    model = model if model is not None else build_model(project.model, data.input_shape, project.training.seed)
    loss_fn = build_loss(project.loss, data.task, data.num_classes or None)
    device = next(model.parameters(), torch.empty(0)).device
    metrics = []
    for split in SPLITS if data.n_val else SPLITS[:1]:
        loss, acc = evaluate(model, data, loss_fn, split)
        metrics.append(ModeMetrics(split, "eval", loss, acc))
        loss, acc = _train_mode(model, data, loss_fn, split, device, project.training.seed)
        metrics.append(ModeMetrics(split, "train", loss, acc))
    layers = project.model.layers
    x = next(iter(split_batches(data, "train", EVAL_BATCH, device)))[0]
    scaling = _dropout_scaling(model, layers, x, project.training.seed)
    rows = [s for _, s in iter_rows(layers)]
    has_dropout = any(has_role(s.type, LayerRole.DROPOUT) for s in rows)
    has_norm = any(has_role(s.type, LayerRole.BATCH_NORM) for s in rows)
    return ModesResult(has_dropout, has_norm, tuple(metrics), scaling, _explain(has_dropout, has_norm, scaling))


@torch.no_grad()
def _train_mode(model: nn.Module, data: PreparedData, loss_fn: LossFn, split: str, device: torch.device,
                seed: int) -> tuple[float, float | None]:
    """Loss and accuracy with dropout active and batch norm on batch statistics, on a throw-away copy."""
    twin = copy.deepcopy(model).train()
    n = data.n_train if split == "train" else data.n_val
    size = EVAL_BATCH + 1 if n % EVAL_BATCH == 1 else EVAL_BATCH  # batch norm cannot train on a batch of 1
    total, correct, seen = 0.0, 0, 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for x, y in split_batches(data, split, size, device):
            out = twin(x)
            total += float(loss_fn(out, y)) * len(y)
            if loss_fn.task == Task.CLASSIFICATION:
                correct += int((loss_fn.predict(out) == y).sum())
            seen += len(y)
    return total / max(seen, 1), (correct / max(seen, 1) if loss_fn.task == Task.CLASSIFICATION else None)


@torch.no_grad()
def _dropout_scaling(model: nn.Module, layers: list[LayerSpec], x: torch.Tensor, seed: int
                     ) -> tuple[DropoutScaling, ...]:
    """What each dropout row (inside blocks too) does to its input in training mode, on a throw-away copy."""
    twin = copy.deepcopy(model).train()
    units = [u for u in model_units(twin, layers) if isinstance(u.module, nn.modules.dropout._DropoutNd)]
    seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def keep(i: int) -> Any:
        return lambda _module, inputs, output: seen.__setitem__(i, (inputs[0], output))

    handles = [unit.module.register_forward_hook(keep(i)) for i, unit in enumerate(units)]
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            twin(x)
    finally:
        for handle in handles:
            handle.remove()
    return tuple(_measure(unit.path[0], unit.label, _dropout_p(unit.module), *seen[i]) for i, unit in enumerate(units))


def _dropout_p(module: nn.Module) -> float:
    assert isinstance(module, nn.modules.dropout._DropoutNd)
    return module.p


def _measure(index: int, name: str, p: float, x: torch.Tensor, out: torch.Tensor) -> DropoutScaling:
    live = x != 0
    kept = live & (out != 0)
    scale = float((out[kept] / x[kept]).mean()) if kept.any() else float("nan")
    kept_fraction = float(kept.sum() / live.sum()) if live.any() else float("nan")
    expected = 1.0 / (1.0 - p) if p < 1 else float("inf")
    return DropoutScaling(index, name, p, expected, scale, kept_fraction, float(x.mean()), float(out.mean()))


def _explain(has_dropout: bool, has_norm: bool, scaling: tuple[DropoutScaling, ...]) -> tuple[str, ...]:
    lines = []
    for s in scaling:
        lines.append(
            f"{s.name}: in training mode each value is dropped with probability {s.p:g} (kept here: "
            f"{s.kept_fraction:.0%}) and the kept ones are multiplied by 1/(1-p) = {s.expected_scale:.3g} "
            f"(measured {s.measured_scale:.3g}), so the mean stays about the same ({s.mean_in:.3g} in, "
            f"{s.mean_out_train:.3g} out). In evaluation mode nothing is dropped or scaled.")
    if has_norm:
        lines.append("Batch norm: in training mode each batch is normalised with its own mean and variance; in "
                     "evaluation mode with running averages collected during training. Early in training, or with "
                     "small batches, the two differ, and so do the metrics.")
    if not (has_dropout or has_norm):
        lines.append("This network has no dropout or batch norm, so both modes give the same results.")
    else:
        lines.append("Metrics measured in training mode are noisier and usually worse: report evaluation-mode "
                     "metrics, which is what the training curves' validation numbers use.")
    return tuple(lines)
