"""A trained network's weights and biases as numbers, to compare with a hand calculation.

Small tensors (up to :data:`MAX_VALUES` numbers: a perceptron, a tiny layer) are listed in full, row
by row; larger ones as their shape and summary statistics, which is what can be read of thousands of
numbers. ``python main.py weights`` prints these; the GUI's inspect tab shows the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from studio.core.errors import ConfigError

MAX_VALUES = 100


@dataclass(frozen=True)
class TensorView:
    """One parameter: its values when small (nested lists), else summary statistics."""

    name: str
    shape: tuple[int, ...]
    values: list[Any] | float | None = None
    stats: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        shape = "×".join(str(d) for d in self.shape) or "1"
        if isinstance(self.values, list) and len(self.shape) >= 2 and self.shape[0] > 1:
            rows = "\n".join(f"    {_format(row)}" for row in self.values)  # one output per line, as on paper
            return f"{self.name} {shape}:\n{rows}"
        if self.values is not None:
            return f"{self.name} {shape}: {_format(self.values)}"
        s = self.stats
        return (f"{self.name} {shape} ({int(s['count']):,} values): mean {s['mean']:.4g}, std {s['std']:.4g}, "
                f"min {s['min']:.4g}, max {s['max']:.4g}")

    def record(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "shape": list(self.shape)}
        out.update({"values": self.values} if self.values is not None else {"stats": self.stats})
        return out


@dataclass(frozen=True)
class LayerWeights:
    """The parameters of one row of the stack; ``row`` counts from 1 like the stack's labels."""

    row: int
    label: str
    tensors: tuple[TensorView, ...]

    def text(self) -> str:
        lines = [self.label] + [f"  {tensor.text()}" for tensor in self.tensors]
        return "\n".join(lines if self.tensors else [f"{self.label}: no weights"])

    def record(self) -> dict[str, object]:
        return {"layer": self.row, "label": self.label, "tensors": [t.record() for t in self.tensors]}


def view(name: str, tensor: torch.Tensor, max_values: int = MAX_VALUES) -> TensorView:
    """A parameter as values (up to ``max_values`` numbers) or statistics."""
    t = tensor.detach().float().cpu()
    shape = tuple(t.shape)
    if t.numel() <= max_values:
        return TensorView(name, shape, t.tolist())
    stats = {"count": float(t.numel()), "mean": t.mean().item(), "std": t.std().item(),
             "min": t.min().item(), "max": t.max().item()}
    return TensorView(name, shape, stats=stats)


def layer_weights(model: nn.Module, labels: Sequence[str], layer: int | None = None,
                  max_values: int = MAX_VALUES) -> list[LayerWeights]:
    """Every row with parameters (or just row ``layer``, counted from 1) as :class:`LayerWeights`."""
    children = list(model.children())
    if layer is not None and not 1 <= layer <= len(children):
        raise ConfigError(f"there is no layer {layer}; the network has {len(children)} layers (counted from 1)",
                          field="layer")
    rows = range(len(children)) if layer is None else [layer - 1]
    out = []
    for index in rows:
        tensors = tuple(view(name, p, max_values) for name, p in children[index].named_parameters())
        if tensors or layer is not None:
            out.append(LayerWeights(index + 1, labels[index] if index < len(labels) else str(index + 1), tensors))
    return out


def _format(values: list[Any] | float) -> str:
    """``[[1, -0.5], [2, 0]]``: compact numbers (6 significant digits), rows as nested brackets."""
    if isinstance(values, list):
        return "[" + ", ".join(_format(v) for v in values) + "]"
    return f"{values:.6g}"
