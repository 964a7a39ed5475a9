"""A copy of the weights that last gave a finite loss, to fall back on when training blows up.

Two buffers on the device: ``take()`` copies the current weights into the pending buffer (just
before the optimizer step whose loss will be checked at the next fetch); ``commit()`` makes the
pending copy the good one once its loss proved finite; ``restore()`` writes the good copy back.
One ``_foreach_copy_`` per fetch window, no host synchronisation.
"""

from __future__ import annotations

import torch
from torch import nn


class WeightSnapshot:
    """The last weights (parameters and buffers) known to give a finite loss."""

    def __init__(self, model: nn.Module, step: int = 0) -> None:
        self._live = [*model.parameters(), *model.buffers()]
        self._good = [t.detach().clone() for t in self._live]
        self._pending = [torch.empty_like(t) for t in self._live]
        self.good_step = step
        self.pending_step: int | None = None

    @torch.no_grad()
    def take(self, step: int) -> None:
        torch._foreach_copy_(self._pending, self._live)
        self.pending_step = step

    def commit(self) -> None:
        """The pending copy gave a finite loss: it becomes the one to restore."""
        if self.pending_step is not None:
            self._good, self._pending = self._pending, self._good
            self.good_step, self.pending_step = self.pending_step, None

    @torch.no_grad()
    def restore(self) -> None:
        torch._foreach_copy_(self._live, self._good)
