"""Models prepared for graph capture (tracing, ``torch.export``, ONNX): a copy in eval mode, on the CPU,
with training-only Python code swapped for plain tensor operations.

The straight-through ``Sign`` uses a custom autograd Function (its backward passes gradients
through); tracers cannot save Python functions, and an exported graph is for inference only,
where ``torch.where`` and ``torch.sign`` compute the very same forward values.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import cast

import torch
from torch import nn

from studio.core.layers import Sign


class InferenceSign(nn.Module):
    """Sign's forward for inference graphs (no custom gradient needed there): ``zero`` at exactly 0."""

    def __init__(self, zero: int) -> None:
        super().__init__()
        self.zero = float(zero)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x == 0, torch.full_like(x, self.zero), torch.sign(x))


# Module class -> factory of its graph-friendly stand-in (same forward values).
SUBSTITUTES: dict[type[nn.Module], Callable[[nn.Module], nn.Module]] = {
    Sign: lambda module: InferenceSign(cast(Sign, module).zero),
}


def inference_copy(model: nn.Module) -> nn.Module:
    """A CPU, eval-mode copy of ``model`` with every substitutable module replaced."""
    clone = copy.deepcopy(model).cpu().eval()
    _swap(clone)
    return clone


def _swap(parent: nn.Module) -> None:
    for name, child in parent.named_children():
        make = SUBSTITUTES.get(type(child))
        if make is not None:
            setattr(parent, name, make(child))
        else:
            _swap(child)
