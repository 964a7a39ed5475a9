"""Does a training step gain from more than one CPU thread? Steps per second on 1 and on all threads.

Sets ``SMALL_STEP_FLOPS`` in ``studio/core/engine/threads.py``: below it one thread was as fast.

    .venv/bin/python benchmarks/threads.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.core.engine.threads import SMALL_STEP_FLOPS, forward_flops


def mlp(inputs: int, hidden: tuple[int, ...]) -> nn.Module:
    sizes = (inputs, *hidden)
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b in zip(sizes, sizes[1:], strict=False):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], 10))


def lenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


CASES: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], int]] = {
    "digits MLP, batch 32": (lambda: mlp(64, (128, 64)), (64,), 32),
    "digits MLP, batch 512": (lambda: mlp(64, (128, 64)), (64,), 512),
    "28x28 MLP, batch 8": (lambda: mlp(784, (256, 128)), (1, 28, 28), 8),
    "28x28 MLP, batch 64": (lambda: mlp(784, (256, 128)), (1, 28, 28), 64),
    "LeNet, batch 16": (lenet, (1, 28, 28), 16),
    "LeNet, batch 64": (lenet, (1, 28, 28), 64),
}


def steps_per_second(make: Callable[[], nn.Module], shape: tuple[int, ...], batch: int, seconds: float) -> float:
    torch.manual_seed(0)
    model = make()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    x, y = torch.randn(batch, *shape), torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    for _ in range(5):
        step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="timing per case and thread count")
    args = parser.parse_args()
    most = torch.get_num_threads()
    print(f"torch {torch.__version__}, {most} threads, load average {os.getloadavg()[0]:.2f}")
    print(f"{'case':24s} {'MFLOP/batch':>11s} {'1 thread':>9s} {f'{most} threads':>10s}  gain   auto")
    for name, (make, shape, batch) in CASES.items():
        best: dict[int, float] = {}
        for threads in (1, most, 1, most):  # alternate; keep the best of two
            torch.set_num_threads(threads)
            best[threads] = max(best.get(threads, 0.0), steps_per_second(make, shape, batch, args.seconds))
        torch.set_num_threads(most)
        flops = forward_flops(make(), shape, batch, torch.device("cpu"))
        auto = 1 if flops < SMALL_STEP_FLOPS else most
        gain = best[most] / best[1]
        print(f"{name:24s} {flops / 1e6:11.1f} {best[1]:8.0f}/s {best[most]:9.0f}/s  {gain:.2f}   {auto}")


if __name__ == "__main__":
    main()
