"""How many CPU threads a training step uses: several only when the model is big enough to gain.

Measured on 2 cores (``benchmarks/threads.py``): a step of a model under about 8 MFLOP per
batch forward (the digits MLP: 1 MFLOP at batch 32) is no faster on two threads than on one,
while LeNet at batch 64 (53 MFLOP) gains 1.4x. Extra threads on a model too small to split
still cost: OpenMP threads wait for each other at every op, so anything else that takes a core
for a moment (the GUI thread painting, another process) stalls all of them. Measured with the
GUI on 2 cores, one thread made the tiny model's throughput steadier and about 5% faster.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

SMALL_STEP_FLOPS = 8e6  # forward FLOPs per batch below which one thread is as fast as several


def forward_flops(model: nn.Module, input_shape: Sequence[int], batch_size: int, device: torch.device) -> float:
    """Forward FLOPs of one batch, counted on one sample (eval mode, no gradient: nothing in the model changes)."""
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with counter, torch.no_grad():
            model(torch.zeros((1, *input_shape), device=device))
    finally:
        model.train(was_training)
    return float(counter.get_total_flops()) * batch_size


def step_threads(flops: float, available: int) -> int:
    """The intra-op threads for a training step of ``flops`` forward FLOPs per batch."""
    return 1 if flops < SMALL_STEP_FLOPS else available


@contextmanager
def intra_op_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch threads in this thread, then restore the previous count."""
    before = torch.get_num_threads()
    if count == before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
