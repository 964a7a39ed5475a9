"""Training metrics kept on the device between fetches, so a step costs no host synchronisation.

Each step only appends the (detached) loss, outputs and targets to a window; every few steps
the window is reduced on the device and fetched with one ``.tolist()``. Epoch totals add the
fetched per-batch losses one by one in float64, so the totals do not depend on how the steps
were grouped into windows (a resumed fit gives bit-identical metrics).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

Predict = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class WindowResult:
    """What one fetch tells: per-batch losses, batch sizes and correct predictions (None for regression)."""

    losses: list[float]
    sizes: list[int]
    correct: int | None

    @property
    def first_non_finite(self) -> int | None:
        """Position in the window of the first batch whose loss is NaN or infinite."""
        return next((i for i, loss in enumerate(self.losses) if not math.isfinite(loss)), None)

    @property
    def mean_loss(self) -> float:
        return sum(loss * n for loss, n in zip(self.losses, self.sizes, strict=True)) / max(sum(self.sizes), 1)


class BatchWindow:
    """Losses, outputs and targets of the steps since the last fetch."""

    def __init__(self, predict: Predict | None) -> None:
        self.predict = predict
        self._losses: list[torch.Tensor] = []
        self._outputs: list[torch.Tensor] = []
        self._targets: list[torch.Tensor] = []
        self._sizes: list[int] = []

    def __len__(self) -> int:
        return len(self._losses)

    def add(self, loss: torch.Tensor, output: torch.Tensor, y: torch.Tensor) -> None:
        self._losses.append(loss.detach())
        self._sizes.append(len(y))
        if self.predict is not None:
            self._outputs.append(output.detach())
            self._targets.append(y)

    @torch.no_grad()
    def fetch(self, reduce: Callable[[torch.Tensor], torch.Tensor] | None = None) -> WindowResult:
        """Reduce the window on the device, copy it to the host once and start a new window.

        ``reduce`` sums over processes (torchrun): each batch's loss becomes the mean over the global batch,
        sizes and correct predictions global counts, the same numbers one process would have fetched.
        """
        values = torch.stack(self._losses).float()
        n = len(self._losses)
        if self.predict is not None:
            output = self._outputs[0] if len(self._outputs) == 1 else torch.cat(self._outputs)
            target = self._targets[0] if len(self._targets) == 1 else torch.cat(self._targets)
            correct = (self.predict(output) == target).sum().to(values.dtype).reshape(1)
        else:
            correct = values.new_zeros(1)
        if reduce is None:
            fetched, sizes = torch.cat([values, correct]).tolist(), self._sizes
        else:
            local = values.new_tensor(self._sizes)
            total = reduce(torch.cat([values * local, local, correct])).tolist()
            sizes = [round(size) for size in total[n : 2 * n]]
            fetched = [loss / max(size, 1) for loss, size in zip(total[:n], sizes, strict=True)] + total[2 * n :]
        result = WindowResult(fetched[:n], sizes, round(fetched[n]) if self.predict is not None else None)
        self._losses, self._outputs, self._targets, self._sizes = [], [], [], []
        return result


@dataclass
class EpochTotals:
    """Running sums of one epoch's training metrics (host side, exact)."""

    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0

    def add(self, window: WindowResult) -> None:
        for loss, n in zip(window.losses, window.sizes, strict=True):
            self.loss_sum += loss * n
            self.seen += n
        if window.correct is not None:
            self.correct += window.correct

    @property
    def loss(self) -> float:
        return self.loss_sum / self.seen if self.seen else math.nan

    def accuracy(self, classification: bool) -> float | None:
        if not classification:
            return None
        return self.correct / self.seen if self.seen else math.nan
