"""One process against two (torchrun, gloo) on this machine's CPU: what does a second process buy?

Each case trains the same project with the same global batch, as a user runs it, three ways:
``python main.py train P --json`` (one process; the engine picks its torch threads: all cores
for these models), the same with ``OMP_NUM_THREADS=1`` (one process, one thread), and
``python main.py train P --nproc-per-node 2 --json`` (two processes, the cores shared out: one
thread each on 2 cores). The figure is the training throughput the engine reports (samples/s of
the epochs after the first, median) and the wall time of the whole command (start-up included).
Runs rotate; the ratios are two processes ÷ each one-process way (above 1: two are faster).

    python benchmarks/scale_cpu.py [--repeats 3] [--epochs 4] [--only cnn]

Two processes compute the same updates as one (the test suite checks it), so only speed differs.
On 2 cores shared with other work, expect no gain: the gradient exchange and a second copy of
the data and the model cost what a second process could add.
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.core.events import EpochEnd
from studio.core.eventstream import decode
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec, save_project

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Case:
    name: str
    project: Project


def write_mnist(root: Path, per_class: int) -> None:
    """MNIST files in the real IDX format with random pixels (speed depends only on the shapes)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", per_class), ("t10k", 1)):
        labels = np.tile(np.arange(10), n).astype(np.uint8)
        images = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", d) for d in array.shape)
            (raw / f"{prefix}-{kind}-ubyte").write_bytes(header + array.tobytes())


def cases(root: Path, epochs: int) -> list[Case]:
    write_mnist(root, per_class=2000)  # 20,000 pictures, 10% for validation
    mnist = DataSpec("mnist", {"root": str(root)}, preprocessing="standardize", val_fraction=0.1)
    lenet = [
        LayerSpec("Conv2d", {"out_channels": 6, "kernel_size": 5, "padding": 2}), LayerSpec("BatchNorm2d"),
        LayerSpec("ReLU"), LayerSpec("MaxPool2d", {"kernel_size": 2}),
        LayerSpec("Conv2d", {"out_channels": 16, "kernel_size": 5}), LayerSpec("ReLU"),
        LayerSpec("MaxPool2d", {"kernel_size": 2}), LayerSpec("Flatten"),
        LayerSpec("Linear", {"out_features": 120}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 10}),
    ]
    mlp = [LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 512}), LayerSpec("ReLU"),
           LayerSpec("Linear", {"out_features": 512}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 10})]
    training = TrainingSpec(epochs=epochs, batch_size=128, seed=0, device="cpu", stats_every=10)
    return [
        Case("mlp-512x2 on 20k 28×28", Project(name="mlp", model=ModelSpec(mlp), data=mnist,
                                               optimizer=Choice("sgd", {"lr": 0.05, "momentum": 0.9}),
                                               training=training)),
        Case("lenet+bn on 20k 28×28", Project(name="lenet", model=ModelSpec(lenet), data=mnist,
                                              optimizer=Choice("sgd", {"lr": 0.05, "momentum": 0.9}),
                                              training=training)),
    ]


# The three ways: (label, processes, OMP_NUM_THREADS or None for the machine's default).
WAYS = (("1 process", 1, None), ("1 process, 1 thread", 1, "1"), ("2 processes", 2, None))


def train(project_file: Path, processes: int, threads: str | None) -> tuple[float, float]:
    """(median training samples/s of the epochs after the first, wall seconds of the whole command)."""
    command = [sys.executable, str(ROOT / "main.py"), "train", str(project_file), "--json"]
    if processes > 1:
        command += ["--nproc-per-node", str(processes)]
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if threads is not None:
        env["OMP_NUM_THREADS"] = threads
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([*command, "--out", str(Path(out) / "run")], capture_output=True, text=True,
                              cwd=ROOT, check=False, env=env)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"training failed:\n{proc.stderr[-2000:]}")
    epochs = [e for e in map(decode, proc.stdout.splitlines()) if isinstance(e, EpochEnd)]
    return statistics.median(e.samples_per_s for e in epochs[1:] or epochs), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="pairs of runs per case")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (figures mean little on a busy machine)")
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases(Path(tmp) / "data", args.epochs):
            if args.only and args.only not in case.name:
                continue
            project_file = Path(tmp) / f"{case.project.name}.json"
            save_project(project_file, case.project)
            speeds: dict[str, list[float]] = {label: [] for label, _, _ in WAYS}
            walls: dict[str, list[float]] = {label: [] for label, _, _ in WAYS}
            for repeat in range(args.repeats):
                for label, processes, threads in WAYS[repeat % 3 :] + WAYS[: repeat % 3]:  # rotate who goes first
                    speed, wall = train(project_file, processes, threads)
                    speeds[label].append(speed)
                    walls[label].append(wall)
            median = {label: statistics.median(values) for label, values in speeds.items()}
            two = median["2 processes"]
            print(f"{case.name}:", flush=True)
            for label, _, _ in WAYS:
                ratio = "" if label == "2 processes" else f"  2 processes ÷ this: {two / median[label]:.2f}"
                print(f"  {label:20s} {median[label]:8,.0f} samples/s, wall {statistics.median(walls[label]):4.0f} s"
                      f"  (runs {', '.join(f'{v:,.0f}' for v in speeds[label])}){ratio}", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
