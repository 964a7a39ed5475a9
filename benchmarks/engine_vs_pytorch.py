"""Engine speed against a plain PyTorch loop: same model, same data, same number of steps.

(a) a hand-written loop over ``DataLoader(TensorDataset)`` (no metrics, no statistics: the
fastest thing a learner would write), (b) ``Trainer.fit`` with layer statistics on, no
validation split. Runs alternate (a, b, a, b, ...) so machine noise hits both alike; the
script prints the median of the per-pair ratios of samples/s (engine / plain; above 1 means
the engine is faster). Goals: ≥ 1.0 for the MLPs, ≥ 0.95 for LeNet.

    python benchmarks/engine_vs_pytorch.py [--repeats 5] [--epochs 1] [--samples 60000] [--only lenet]

The residual case trains on a tenth of ``--samples`` (its convolutions are the slowest per sample).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from studio.core.build import build_model
from studio.core.data import PreparedData, Preprocessing, prepare_data
from studio.core.engine import Trainer
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec


@dataclass
class Case:
    name: str
    layers: list[LayerSpec]
    data: PreparedData
    batch_size: int
    epochs: int
    hand_written: Callable[[], nn.Module] | None = None  # the plain loop's model; default: build_model's


class BasicBlock(nn.Module):
    """ResNet's basic block as one writes it by hand: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class HandResNet(nn.Module):
    """The residual case's network written by hand (the same layers as ``residual_rows``)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 16), BasicBlock(16, 32, stride=2),
                                    BasicBlock(32, 32))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


def residual_rows() -> list[LayerSpec]:
    """HandResNet as a layer stack: Residual blocks (a Repeat for the pair at each width), ReLU after each sum."""
    def conv(c: int, stride: int = 1) -> LayerSpec:
        return LayerSpec("Conv2d", {"out_channels": c, "kernel_size": 3, "padding": 1, "stride": stride, "bias": False})

    def block(c: int, stride: int = 1) -> LayerSpec:
        return LayerSpec("Residual", layers=[conv(c, stride), LayerSpec("BatchNorm2d"), LayerSpec("ReLU"), conv(c),
                                             LayerSpec("BatchNorm2d")])

    return [conv(16), LayerSpec("BatchNorm2d"), LayerSpec("ReLU"),
            LayerSpec("Repeat", {"times": 2}, layers=[block(16), LayerSpec("ReLU")]),
            block(32, 2), LayerSpec("ReLU"), block(32), LayerSpec("ReLU"),
            LayerSpec("AdaptiveAvgPool2d"), LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 10})]


def _layers(*rows: tuple) -> list[LayerSpec]:
    return [LayerSpec(kind, params) for kind, params in rows]


def digits_data() -> PreparedData:
    """scikit-learn's digits, all of it for training (no validation: only training speed is compared)."""
    return prepare_data(DataSpec("digits", preprocessing="standardize", val_fraction=0.0))


def synthetic_28x28(n: int = 60_000, seed: int = 0) -> PreparedData:
    """MNIST-sized random data (speed only depends on the shapes)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return PreparedData(
        x, y, x[:0], y[:0], (1, 28, 28), "classification", 10, tuple(map(str, range(10))), 0, Preprocessing("none")
    )


def cases(epochs: int, samples: int = 60_000) -> list[Case]:
    mnist = synthetic_28x28(samples)
    mlp = [("Flatten", {}), ("Linear", {"out_features": 128}), ("ReLU", {}), ("Linear", {"out_features": 10})]
    lenet = [
        ("Conv2d", {"out_channels": 6, "kernel_size": 5, "padding": 2}), ("ReLU", {}),
        ("MaxPool2d", {"kernel_size": 2}),
        ("Conv2d", {"out_channels": 16, "kernel_size": 5}), ("ReLU", {}),
        ("MaxPool2d", {"kernel_size": 2}),
        ("Flatten", {}), ("Linear", {"out_features": 120}), ("ReLU", {}), ("Linear", {"out_features": 84}),
        ("ReLU", {}), ("Linear", {"out_features": 10}),
    ]
    digits = [("Linear", {"out_features": 128}), ("ReLU", {}), ("Linear", {"out_features": 64}), ("ReLU", {}),
              ("Linear", {"out_features": 10})]
    return [
        Case("mlp-digits", _layers(*digits), digits_data(), 32, 5 * epochs),
        Case(f"mlp-{samples // 1000}k-28x28", _layers(*mlp), mnist, 64, epochs),
        Case(f"lenet-{samples // 1000}k-28x28", _layers(*lenet), mnist, 64, epochs),
        Case(f"resnet-{samples // 10_000}k-28x28", residual_rows(), synthetic_28x28(samples // 10), 64, epochs,
             HandResNet),
    ]


def project_for(case: Case) -> Project:
    training = TrainingSpec(epochs=case.epochs, batch_size=case.batch_size, seed=0, device="cpu", stats_every=10)
    return Project(model=ModelSpec(case.layers), optimizer=Choice("adam", {"lr": 1e-3}), training=training)


def plain_loop(case: Case) -> float:
    """Samples/s of the hand-written loop."""
    if case.hand_written is not None:
        torch.manual_seed(0)
        model = case.hand_written()
        built = build_model(ModelSpec(case.layers), case.data.input_shape, seed=0)
        assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in built.parameters())
    else:
        model = build_model(ModelSpec(case.layers), case.data.input_shape, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(case.data.x_train, case.data.y_train), batch_size=case.batch_size, shuffle=True)
    model.train()
    start = time.perf_counter()
    for _ in range(case.epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
    return case.epochs * case.data.n_train / (time.perf_counter() - start)


def engine(case: Case) -> float:
    """Samples/s of ``Trainer.fit`` with statistics every 10 steps."""
    trainer = Trainer(project_for(case), data=case.data)
    start = time.perf_counter()
    result = trainer.fit()
    seconds = time.perf_counter() - start
    assert result.reason == "completed", result.message
    return case.epochs * case.data.n_train / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="pairs of runs per model")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run (digits runs 5× this)")
    parser.add_argument("--samples", type=int, default=60_000, help="size of the 28×28 training set")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    # Other processes on the machine distort every number: the load average says how quiet it was.
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f}")
    for case in cases(args.epochs, args.samples):
        if args.only and args.only not in case.name:
            continue
        plain_loop(case), engine(case)  # warm-up: allocator, kernels, first-call imports
        ratios, plain_speeds, engine_speeds = [], [], []
        for _ in range(args.repeats):
            plain_speeds.append(plain_loop(case))
            engine_speeds.append(engine(case))
            ratios.append(engine_speeds[-1] / plain_speeds[-1])
        print(
            f"{case.name:16s} median ratio {statistics.median(ratios):.2f}"
            f"  (engine {statistics.median(engine_speeds):,.0f} samples/s,"
            f" plain DataLoader loop {statistics.median(plain_speeds):,.0f} samples/s;"
            f" ratios {', '.join(f'{r:.2f}' for r in ratios)})",
            flush=True,
        )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
