"""Batch norm over the global batch when several processes train together.

Under torchrun each process sees only its share of a batch, so a plain batch norm layer would
normalise with the statistics of that share. PyTorch's ``nn.SyncBatchNorm`` computes them over
all processes, but only for GPU tensors (DistributedDataParallel refuses it on the CPU), so on
the CPU (gloo) :class:`GlobalBatchNorm` does the same with two differentiable all-reduces: the
sums give the global mean, then the sums of squared deviations give the global variance (two
passes, as exact as one process's batch norm). The layers keep their parameter and buffer names,
so a checkpoint written by N processes loads into a plain network and back.
"""

from __future__ import annotations

from typing import cast

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


class _Sum(torch.autograd.Function):
    """The sum over all processes, differentiable: the gradient of a sum is the sum of the gradients."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, _Sum.apply(grad))


def all_sum(tensor: torch.Tensor) -> torch.Tensor:
    return cast(torch.Tensor, _Sum.apply(tensor))


def _synced() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class GlobalBatchNorm(_BatchNorm):
    """A batch norm layer of any dimension whose training statistics are those of the global batch."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2 dimensions (batch, channels), got {input.dim()}")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and _synced()):
            return super().forward(input)
        self._check_input_dim(input)
        channels = input.shape[1]
        shape = (1, channels) + (1,) * (input.dim() - 2)
        dims = [0, *range(2, input.dim())]
        x = input.float()  # statistics in float32 also under bf16/fp16 autocast
        count = x.new_full((1,), x.numel() / channels)
        total = all_sum(torch.cat([x.sum(dims), count]))
        n = total[channels]
        mean = total[:channels] / n
        centered = x - mean.view(shape)
        var = all_sum((centered * centered).sum(dims)) / n
        y = centered * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running(mean.detach(), var.detach(), n.detach())
        return y.to(input.dtype)

    @torch.no_grad()
    def _update_running(self, mean: torch.Tensor, var: torch.Tensor, n: torch.Tensor) -> None:
        """The same running averages as ``F.batch_norm``: unbiased variance, momentum or a cumulative mean."""
        assert self.num_batches_tracked is not None and self.running_mean is not None and self.running_var is not None
        self.num_batches_tracked.add_(1)
        factor = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
        unbiased = var * (n / (n - 1)) if float(n) > 1 else var
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), factor)


def convert(module: nn.Module) -> nn.Module:
    """Replace every batch norm layer of ``module`` (recursively) by a :class:`GlobalBatchNorm`.

    The new layer takes over the old one's parameter and buffer objects, so an optimizer built
    before still updates them and a frozen layer stays frozen.
    """
    if isinstance(module, _BatchNorm) and not isinstance(module, GlobalBatchNorm):
        layer = GlobalBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, device="meta")
        for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            setattr(layer, name, getattr(module, name))
        layer.train(module.training)
        return layer
    for name, child in module.named_children():
        module.add_module(name, convert(child))
    return module
