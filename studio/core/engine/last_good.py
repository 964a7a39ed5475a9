"""A copy of the weights and optimizer state that last gave a finite loss, to fall back on when training
blows up.

Two buffers on the device: ``take()`` copies the current weights (and the optimizer's state:
momentum, Adam's moments, step counts) into the pending buffer, just before the optimizer step
whose loss will be checked at the next fetch; ``commit()`` makes the pending copy the good one once
its loss proved finite; ``restore()`` writes the good copy back. Without the optimizer's part, a
run stopped for a non-finite loss kept good weights but NaN momentum, so resuming it diverged at
once. One ``_foreach_copy_`` per fetch window for each part, no host synchronisation.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import nn

# Where one optimizer state value lives: (index of its parameter, its key), and its shape/dtype or value.
Layout = tuple[tuple[int, str, Any], ...]


class _OptimizerCopy:
    """A copy of the optimizer's per-parameter state: tensors copied into buffers, plain values kept.

    Optimizers update their state in place once it exists, so the list of live values is compared by
    identity (cheap) on every fill, and the layout and buffers are rebuilt only when it changed.
    """

    def __init__(self) -> None:
        self.layout: Layout = ()
        self.tensors: list[torch.Tensor] = []
        self._values: list[Any] = []
        self._live: list[torch.Tensor] = []

    def fill(self, optimizer: torch.optim.Optimizer, params: list[torch.Tensor]) -> None:
        values = [value for state in optimizer.state.values() for value in state.values()]
        if len(values) != len(self._values) or not all(map(operator.is_, values, self._values)):
            self._rebuild(optimizer, params, values)
        if self._live:
            torch._foreach_copy_(self.tensors, self._live)

    def _rebuild(self, optimizer: torch.optim.Optimizer, params: list[torch.Tensor], values: list[Any]) -> None:
        index = {id(p): i for i, p in enumerate(params)}
        entries = [(index[id(p)], key, value) for p, state in optimizer.state.items() for key, value in state.items()]
        layout = tuple((i, key, (v.shape, v.dtype, v.device) if isinstance(v, torch.Tensor) else v)
                       for i, key, v in entries)
        self._values, self._live = values, [v for _, _, v in entries if isinstance(v, torch.Tensor)]
        if layout != self.layout:  # the state appears at the first step: new buffers
            self.layout, self.tensors = layout, [torch.empty_like(t) for t in self._live]

    def write_back(self, optimizer: torch.optim.Optimizer, params: list[torch.Tensor]) -> None:
        for p in params:
            optimizer.state.pop(p, None)  # a parameter without saved state had none yet
        tensors = iter(self.tensors)
        for i, key, described in self.layout:
            value = next(tensors).clone() if isinstance(described, tuple) else described
            optimizer.state[params[i]][key] = value


class LastGood:
    """The last weights (parameters and buffers) and optimizer state known to give a finite loss."""

    def __init__(self, model: nn.Module, step: int = 0, optimizer: torch.optim.Optimizer | None = None) -> None:
        self._live = [*model.parameters(), *model.buffers()]
        self._good = [t.detach().clone() for t in self._live]
        self._pending = [torch.empty_like(t) for t in self._live]
        self._optimizer = optimizer
        self._params = [p for group in optimizer.param_groups for p in group["params"]] if optimizer else []
        self._good_state, self._pending_state = _OptimizerCopy(), _OptimizerCopy()
        if optimizer is not None:
            self._good_state.fill(optimizer, self._params)
        self.good_step = step
        self.pending_step: int | None = None

    @torch.no_grad()
    def take(self, step: int) -> None:
        torch._foreach_copy_(self._pending, self._live)
        if self._optimizer is not None:
            self._pending_state.fill(self._optimizer, self._params)
        self.pending_step = step

    def commit(self) -> None:
        """The pending copy gave a finite loss: it becomes the one to restore."""
        if self.pending_step is not None:
            self._good, self._pending = self._pending, self._good
            self._good_state, self._pending_state = self._pending_state, self._good_state
            self.good_step, self.pending_step = self.pending_step, None

    @torch.no_grad()
    def restore(self) -> None:
        torch._foreach_copy_(self._live, self._good)
        if self._optimizer is not None:
            self._good_state.write_back(self._optimizer, self._params)
