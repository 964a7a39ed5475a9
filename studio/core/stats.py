"""Per-layer activation and gradient statistics of a ``nn.Sequential``, sampled every N steps.

Like fastai's ``ActivationStats``, forward hooks on each layer (each row of the stack, rows inside
blocks too) read the outputs of a training step. The hooks stay registered for the whole fit and
return at once on steps that are not sampled (about 0.3 µs per layer per step, less than
registering them anew for every sample), and every number stays on the device until one
``.cpu()`` per sample (an ``.item()`` per number cost 8-21% of a small model's speed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from studio.core.events import LayerStats
from studio.core.units import Unit

# Output range (low, high) of squashing activations; an output within 1% of the range from either
# bound counts as saturated (its gradient is nearly zero). Looked up along the class hierarchy,
# so ReLU6 (a Hardtanh) is covered too.
BOUNDS: dict[type[nn.Module], Callable[[nn.Module], tuple[float, float]]] = {
    nn.Tanh: lambda m: (-1.0, 1.0),
    nn.Sigmoid: lambda m: (0.0, 1.0),
    nn.Softsign: lambda m: (-1.0, 1.0),
    nn.Hardsigmoid: lambda m: (0.0, 1.0),
    nn.Hardtanh: lambda m: (float(cast(nn.Hardtanh, m).min_val), float(cast(nn.Hardtanh, m).max_val)),
}
SATURATION_MARGIN = 0.01


def output_bounds(module: nn.Module) -> tuple[float, float] | None:
    """The output range of a squashing activation, or ``None`` when the layer has none."""
    for cls in type(module).__mro__:
        if cls in BOUNDS:
            return BOUNDS[cls](module)
    return None


def _count(sign_norm: float) -> float:
    """The number of ones behind the L2 norm of a 0/1 tensor."""
    return float(round(sign_norm * sign_norm))


class LayerStatsCollector:
    """Collects :class:`LayerStats` for one sampled step: ``begin``, ``after_backward``, ``finish``.

    Call ``begin()`` before the forward pass, ``after_backward()`` between ``backward()`` and
    ``optimizer.step()``, then ``finish(step, epoch)`` after the step. The first ``begin()``
    registers the hooks; ``remove()`` removes them (the trainer calls it when a fit ends).

    Cost: a sum and a norm per layer in the hooks, then one ``_foreach_norm`` over all outputs,
    gradients and weights together, one stack and one copy to the host.
    """

    def __init__(self, model: nn.Sequential, names: Sequence[str], units: Sequence[Unit] | None = None) -> None:
        """One layer per top-level child of ``model``, or per unit (rows inside blocks too, each weight counted
        for the one row that owns it: ``studio.core.units``); ``names`` label them.
        """
        self.layers = [u.module for u in units] if units is not None else list(model.children())
        owned = [u.own for u in units] if units is not None else [tuple(m.parameters()) for m in self.layers]
        self.names = tuple(names)
        if len(self.names) != len(self.layers):
            raise ValueError("one name per layer is needed")
        self._bounds = [output_bounds(layer) for layer in self.layers]
        # An output that the next layer may overwrite in place (ReLU(inplace=True)) is copied first.
        self._copy = [bool(getattr(after, "inplace", False)) for after in self.layers[1:]] + [False]
        self._params: list[torch.Tensor] = [p for params in owned for p in params if p.requires_grad]
        self._owner = np.array([i for i, params in enumerate(owned) for p in params if p.requires_grad], dtype=np.int64)
        self._before = [torch.empty_like(p) for p in self._params]
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._outs: list[torch.Tensor] = []
        self._sums: list[torch.Tensor] = []
        self._nonzero: list[torch.Tensor] = []
        self._saturated: list[torch.Tensor] = []
        self._out_rows: list[tuple[int, int]] = []  # (layer, numel) per kept output
        self._sat_rows: list[tuple[int, int]] = []
        self._grads: list[torch.Tensor] = []
        self._grad_owner = self._owner[:0]
        self._active = False

    def begin(self) -> None:
        """Record the coming forward pass (hooking every layer the first time)."""
        if not self._handles:
            self._handles = [layer.register_forward_hook(self._hook(i)) for i, layer in enumerate(self.layers)]
        self._outs, self._sums, self._nonzero, self._saturated = [], [], [], []
        self._out_rows, self._sat_rows = [], []
        self._active = True

    def _hook(self, index: int) -> Callable[[nn.Module, object, object], None]:
        bounds, copy = self._bounds[index], self._copy[index]

        def hook(_module: nn.Module, _inputs: object, output: object) -> None:
            if not self._active or not isinstance(output, torch.Tensor) or output.numel() == 0:
                return
            a = output.detach()
            # 16-bit outputs (mixed precision) are summed in float32: a bf16 sum of thousands of values is off by %.
            a = a.float() if a.dtype in (torch.float16, torch.bfloat16) else (a.clone() if copy else a)
            # Counting with count_nonzero or comparisons is 5-20x slower on the CPU than a sum; the
            # squared L2 norm of sign(a) is the number of nonzero values. The L2 norm of ``a`` itself
            # (for the variance) is taken later, for all layers in one _foreach_norm.
            self._sums.append(a.sum())
            self._nonzero.append(torch.linalg.vector_norm(a.sign()))
            self._outs.append(a)
            self._out_rows.append((index, a.numel()))
            if bounds is not None:
                mid, half = (bounds[0] + bounds[1]) / 2, (bounds[1] - bounds[0]) / 2
                beyond = (a - mid if mid else a).abs().sub_((1 - SATURATION_MARGIN) * half).clamp_(min=0).sign_()
                self._saturated.append(torch.linalg.vector_norm(beyond))
                self._sat_rows.append((index, a.numel()))

        return hook

    @torch.no_grad()
    def after_backward(self) -> None:
        """Stop recording; keep the gradients and a copy of the weights before the update."""
        self._active = False
        with_grad = [i for i, p in enumerate(self._params) if p.grad is not None]
        self._grads = [cast(torch.Tensor, self._params[i].grad) for i in with_grad]
        self._grad_owner = self._owner[with_grad]
        if self._params:
            torch._foreach_copy_(self._before, self._params)

    @torch.no_grad()
    def finish(self, step: int, epoch: int) -> LayerStats:
        """Reduce everything on the device, copy it to the host once, and describe it per layer."""
        delta = list(torch._foreach_sub(self._params, self._before)) if self._params else []
        norm_of = [*self._outs, *self._grads, *self._before, *delta]
        l2 = torch._foreach_norm(norm_of) if norm_of else []
        parts = [*self._sums, *self._saturated, *l2, *self._nonzero]
        values = torch.stack(parts).cpu().numpy().astype(np.float64) if parts else np.zeros(0)
        self._outs, self._grads, self._nonzero = [], [], []  # release the activations and gradients
        return self._event(values, step, epoch)

    def _event(self, values: np.ndarray, step: int, epoch: int) -> LayerStats:
        # Plain Python over a dozen layers is several times faster here than small numpy operations.
        nan, n = math.nan, len(self.layers)
        it = iter(values.tolist())
        sums = [next(it) for _ in self._out_rows]
        saturated = [next(it) for _ in self._sat_rows]
        l2 = [next(it) for _ in self._out_rows]
        grad_sq, before_sq, delta_sq = ([None] * n for _ in range(3))
        for owners, acc in ((self._grad_owner, grad_sq), (self._owner, before_sq), (self._owner, delta_sq)):
            for layer in owners.tolist():
                acc[layer] = (acc[layer] or 0.0) + next(it) ** 2
        mean, var, zero, sat = ([nan] * n for _ in range(4))
        # sign(NaN) is 0, so an output with NaNs would look dead or unsaturated: report NaN instead.
        has_nan = {layer for (layer, _), norm in zip(self._out_rows, l2, strict=True) if math.isnan(norm)}
        for (layer, numel), total, norm, nonzero in zip(self._out_rows, sums, l2, it, strict=True):
            mean[layer] = total / numel
            var[layer] = max(norm * norm / numel - mean[layer] ** 2, 0.0)
            zero[layer] = nan if layer in has_nan else 1.0 - _count(nonzero) / numel
        for (layer, numel), norm in zip(self._sat_rows, saturated, strict=True):
            sat[layer] = nan if layer in has_nan else _count(norm) / numel
        grad = [nan if g is None else math.sqrt(g) for g in grad_sq]
        update = [
            nan if g is None else math.sqrt(d) / max(math.sqrt(b), 1e-12)
            for g, b, d in zip(grad_sq, before_sq, delta_sq, strict=True)
        ]
        arrays = (np.array(a, dtype=np.float64) for a in (mean, var, zero, sat, grad, update))
        return LayerStats(step, epoch, self.names, *arrays)

    def remove(self) -> None:
        """Remove all hooks (idempotent)."""
        self._active = False
        for handle in self._handles:
            handle.remove()
        self._handles = []
