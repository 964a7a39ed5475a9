"""Per-layer activation and gradient statistics of a ``nn.Sequential``, sampled every N steps.

Like fastai's ``ActivationStats``, forward hooks on each top-level layer read the outputs of a
training step; unlike it, the hooks exist only during a sampled step (a module with hooks takes
PyTorch's slower call path on every forward) and every number stays on the device until one
``.cpu()`` per sample (an ``.item()`` per number cost 8-21% of a small model's speed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from studio.core.events import LayerStats

# Output range (low, high) of squashing activations; an output within 1% of the range from either
# bound counts as saturated (its gradient is nearly zero). Looked up along the class hierarchy,
# so ReLU6 (a Hardtanh) is covered too.
BOUNDS: dict[type[nn.Module], Callable[[nn.Module], tuple[float, float]]] = {
    nn.Tanh: lambda m: (-1.0, 1.0),
    nn.Sigmoid: lambda m: (0.0, 1.0),
    nn.Softsign: lambda m: (-1.0, 1.0),
    nn.Hardsigmoid: lambda m: (0.0, 1.0),
    nn.Hardtanh: lambda m: (float(m.min_val), float(m.max_val)),
}
SATURATION_MARGIN = 0.01


def output_bounds(module: nn.Module) -> tuple[float, float] | None:
    """The output range of a squashing activation, or ``None`` when the layer has none."""
    for cls in type(module).__mro__:
        if cls in BOUNDS:
            return BOUNDS[cls](module)
    return None


class LayerStatsCollector:
    """Collects :class:`LayerStats` for one sampled step: ``begin``, ``after_backward``, ``finish``.

    Call ``begin()`` before the forward pass, ``after_backward()`` between ``backward()`` and
    ``optimizer.step()``, then ``finish(step, epoch)`` after the step. ``remove()`` drops any
    hook left behind (an exception mid-step); the trainer calls it when a fit ends.
    """

    def __init__(self, model: nn.Sequential, names: Sequence[str]) -> None:
        self.layers = list(model.children())
        self.names = tuple(names)
        if len(self.names) != len(self.layers):
            raise ValueError("one name per top-level layer is needed")
        self._bounds = [output_bounds(layer) for layer in self.layers]
        self._params: list[torch.Tensor] = []
        owner: list[int] = []
        for index, layer in enumerate(self.layers):
            for param in layer.parameters():
                if param.requires_grad:
                    self._params.append(param)
                    owner.append(index)
        self._owner = np.asarray(owner, dtype=np.int64)
        self._before = [torch.empty_like(p, memory_format=torch.preserve_format) for p in self._params]
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._act: list[torch.Tensor] = []
        self._act_rows: list[tuple[int, int, bool]] = []  # (layer, numel, has saturation)
        self._grad: list[torch.Tensor] = []
        self._grad_owner: np.ndarray = self._owner[:0]
        self._w_norm: list[torch.Tensor] = []

    def begin(self) -> None:
        """Hook every layer for the coming forward pass."""
        self._act, self._act_rows = [], []
        for index, layer in enumerate(self.layers):
            self._handles.append(layer.register_forward_hook(self._hook(index)))

    def _hook(self, index: int) -> Callable[[nn.Module, object, object], None]:
        bounds = self._bounds[index]

        def hook(_module: nn.Module, _inputs: object, output: object) -> None:
            if not isinstance(output, torch.Tensor) or output.numel() == 0:
                return
            a = output.detach()
            # Sum and L2 norm give mean and variance (faster than var_mean); nonzeros give dead units.
            self._act += [a.sum(), torch.linalg.vector_norm(a), torch.count_nonzero(a)]
            if bounds is not None:
                low, high = bounds
                mid, half = (low + high) / 2, (high - low) / 2
                self._act.append(torch.count_nonzero((a - mid).abs() > (1 - SATURATION_MARGIN) * half))
            self._act_rows.append((index, a.numel(), bounds is not None))

        return hook

    @torch.no_grad()
    def after_backward(self) -> None:
        """Remove the hooks; take gradient norms and a copy of the weights before the update."""
        self.remove()
        with_grad = [i for i, p in enumerate(self._params) if p.grad is not None]
        self._grad = torch._foreach_norm([self._params[i].grad for i in with_grad]) if with_grad else []
        self._grad_owner = self._owner[with_grad]
        if self._params:
            torch._foreach_copy_(self._before, self._params)
            self._w_norm = list(torch._foreach_norm(self._before))

    @torch.no_grad()
    def finish(self, step: int, epoch: int) -> LayerStats:
        """Norms of this step's updates, then one device-to-host copy of everything."""
        parts = self._act + list(self._grad) + self._w_norm
        if self._params:
            torch._foreach_sub_(self._before, self._params)
            parts += list(torch._foreach_norm(self._before))
        values = torch.stack(parts).cpu().numpy().astype(np.float64) if parts else np.zeros(0)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # a diverged step gives inf/NaN
            return self._event(values, step, epoch)

    def _event(self, values: np.ndarray, step: int, epoch: int) -> LayerStats:
        n = len(self.layers)
        mean, var, zero, sat = (np.full(n, np.nan) for _ in range(4))
        pos = 0
        for index, numel, has_sat in self._act_rows:
            total, norm, nonzero = values[pos : pos + 3]
            mean[index] = total / numel
            var[index] = max(norm * norm / numel - mean[index] ** 2, 0.0)
            zero[index] = 1.0 - nonzero / numel
            pos += 3
            if has_sat:
                sat[index] = values[pos] / numel
                pos += 1
        n_grad, n_param = len(self._grad), len(self._params)
        grad_sq = values[pos : pos + n_grad] ** 2
        w_sq = values[pos + n_grad : pos + n_grad + n_param] ** 2
        d_sq = values[pos + n_grad + n_param :] ** 2
        grad_norm = self._per_layer(grad_sq, self._grad_owner, n_grad > 0)
        trained = np.bincount(self._grad_owner, minlength=n) > 0
        w_norm = self._per_layer(w_sq, self._owner, True)
        update = self._per_layer(d_sq, self._owner, True) / np.maximum(w_norm, 1e-12)
        update[~trained] = np.nan
        return LayerStats(step, epoch, self.names, mean, var, zero, sat, grad_norm, update)

    def _per_layer(self, squares: np.ndarray, owner: np.ndarray, present: bool) -> np.ndarray:
        """sqrt of the per-layer sum of squared norms; NaN for layers that own none of them."""
        n = len(self.layers)
        out = np.full(n, np.nan)
        if present and len(owner):
            has = np.bincount(owner, minlength=n) > 0
            out[has] = np.sqrt(np.bincount(owner, weights=squares, minlength=n))[has]
        return out

    def remove(self) -> None:
        """Remove all hooks (idempotent)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
