"""GPU speed: the engine against a hand-written loop, and one GPU against all of them under torchrun.

(a) A ResNet-18-sized CNN (ResNet-18's 17 convolutions, batch norms and final layer as a plain
stack, without its shortcuts: 11.2 M parameters, 0.56 GFLOP per 32×32 picture) on CIFAR-10-shaped
random data that sits on the GPU, for fp32, bf16 and bf16 + channels_last. The engine
(``Trainer.fit``, per-layer statistics every 10 steps) against the loop a practitioner writes by
hand for the same model, data, precision, layout and steps (data on the GPU, a fresh permutation
per epoch, autocast, SGD). Runs alternate; the ratio is of the medians of samples/s. Goal ≥ 0.95.
(b) Weak scaling under torchrun: the engine on 1 GPU and on all GPUs of this machine, with the
same batch *per GPU* (the global batch grows with the GPUs); efficiency = samples/s on N GPUs ÷
(N × samples/s on one). Goal ≥ 0.9.

    python benchmarks/gpu.py [--repeats 3] [--epochs 2] [--samples 50000] [--batch 256]
    python benchmarks/gpu.py --dry-run     # on the CPU with tiny sizes: runs every path once, measures nothing

The dry run uses a narrow network, 16×16 pictures and 2 CPU processes (gloo) for (b).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from studio.core.build import build_model
from studio.core.data import PreparedData, Preprocessing
from studio.core.engine import Trainer
from studio.core.engine.distributed import Group, Launch, check_launch, rank_device
from studio.core.engine.precision import PRECISIONS, autocast
from studio.core.project import Choice, LayerSpec, ModelSpec, Project, TrainingSpec

ROOT = Path(__file__).resolve().parents[1]

SETTINGS = (("fp32", False), ("bf16", False), ("bf16", True))  # (precision, channels_last)


@dataclass(frozen=True)
class Size:
    """How big everything is: the real benchmark, or the dry run's toy."""

    widths: tuple[int, ...]
    image: int
    samples: int
    batch: int
    epochs: int
    repeats: int


def resnet18_sized(widths: tuple[int, ...]) -> list[LayerSpec]:
    """ResNet-18's weight layers as a plain stack: a stem, then 4 convolutions per width (stride 2 from the second)."""
    def conv(width: int, stride: int = 1) -> list[LayerSpec]:
        return [LayerSpec("Conv2d", {"out_channels": width, "kernel_size": 3, "stride": stride, "padding": 1,
                                     "bias": False}), LayerSpec("BatchNorm2d"), LayerSpec("ReLU")]

    layers = conv(widths[0])
    for stage, width in enumerate(widths):
        for i in range(4):
            layers += conv(width, 2 if stage and not i else 1)
    return [*layers, LayerSpec("AdaptiveAvgPool2d", {"output_size": 1}), LayerSpec("Flatten"),
            LayerSpec("Linear", {"out_features": 10})]


def cifar_shaped(n: int, image: int, seed: int = 0) -> PreparedData:
    """Random 3×H×W pictures with 10 classes (speed depends only on the shapes); no validation split."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, image, image, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return PreparedData(x, y, x[:0], y[:0], (3, image, image), "classification", 10,
                        tuple(map(str, range(10))), 0, Preprocessing("none"))


def project(size: Size, device: str, precision: str, channels_last: bool, batch: int, epochs: int) -> Project:
    training = TrainingSpec(epochs=epochs, batch_size=batch, seed=0, device=device, stats_every=10,
                            precision=precision, channels_last=channels_last)
    return Project(model=ModelSpec(resnet18_sized(size.widths)),
                   optimizer=Choice("sgd", {"lr": 0.05, "momentum": 0.9}), training=training)


def engine(p: Project, data: PreparedData, group: Group | None = None) -> float:
    """Samples/s of ``Trainer.fit`` (after a warm-up epoch: kernels chosen, memory allocated)."""
    trainer = Trainer(p, data=data, group=group)
    epochs, trainer.training.epochs = trainer.training.epochs, 1
    trainer.fit()
    trainer.training.epochs = epochs
    _sync(trainer.device)
    start = time.perf_counter()
    end = trainer.fit()
    _sync(trainer.device)
    assert end.reason == "completed", end.message
    return epochs * data.n_train / (time.perf_counter() - start)


def hand_loop(p: Project, data: PreparedData, device: torch.device) -> float:
    """Samples/s of the loop written by hand: data on the device, a permutation per epoch, autocast."""
    t = p.training
    model = build_model(p.model, data.input_shape, seed=0).to(device)
    layout = torch.channels_last if t.channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = data.x_train.to(device).contiguous(memory_format=layout), data.y_train.to(device)
    precision = PRECISIONS.get(t.precision)

    def epoch() -> None:
        order = torch.randperm(len(x), device=device)
        for i in range(0, len(x), t.batch_size):
            index = order[i : i + t.batch_size]
            with autocast(precision, device):  # torch.autocast(device.type, dtype=...) for bf16, nothing for fp32
                loss = F.cross_entropy(model(x[index].contiguous(memory_format=layout)), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    model.train()
    epoch()  # warm-up, as for the engine
    _sync(device)
    start = time.perf_counter()
    for _ in range(t.epochs):
        epoch()
    _sync(device)
    return t.epochs * len(x) / (time.perf_counter() - start)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def single_device(size: Size, device: torch.device) -> list[tuple[str, float, float, float]]:
    """(setting, engine samples/s, hand-loop samples/s, ratio) per setting, medians of alternating runs."""
    data = cifar_shaped(size.samples, size.image)
    rows = []
    for precision, channels_last in SETTINGS:
        p = project(size, device.type, precision, channels_last, size.batch, size.epochs)
        engines, hands = [], []
        for _ in range(size.repeats):
            hands.append(hand_loop(p, data, device))
            engines.append(engine(p, data))
        name = precision + (" + channels_last" if channels_last else "")
        e, h = statistics.median(engines), statistics.median(hands)
        rows.append((name, e, h, e / h))
        print(f"  {name:24s} engine {e:10,.0f}  hand-written {h:10,.0f}  ratio {e / h:.3f}", flush=True)
    return rows


def scaling(size: Size, processes: int, device_kind: str) -> list[tuple[int, float]]:
    """Engine samples/s (bf16 + channels_last on GPUs, fp32 on the CPU) on 1 and on ``processes`` processes."""
    rows = []
    for n in sorted({1, processes}):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            worker = [str(Path(__file__).resolve()), "--worker", str(out), "--kind", device_kind,
                      *_size_args(size)]
            command = ([sys.executable, *worker] if n == 1 else
                       [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={n}",
                        *worker])
            threads = str(max(1, (os.cpu_count() or 1) // n))  # the cores shared out, as `train --nproc-per-node` does
            subprocess.run(command, check=True, cwd=ROOT, env={"OMP_NUM_THREADS": threads, **os.environ})
            rows.append((n, json.loads(out.read_text())["samples_per_s"]))
        print(f"  {n} process(es): {rows[-1][1]:,.0f} samples/s", flush=True)
    return rows


def worker(out: Path, kind: str, size: Size) -> None:
    """One process of the scaling run (torchrun starts N of them): the same batch per process."""
    launch = Launch.from_env()
    world = launch.world_size if launch else 1
    precision, channels_last = ("bf16", True) if kind == "cuda" else ("fp32", False)
    p = project(size, kind, precision, channels_last, size.batch * world, size.epochs)
    group = None
    if launch is not None:
        check_launch(kind, p.training.batch_size, world, launch.local_world_size)
        group = Group(launch, rank_device(kind, launch))
    speed = engine(p, cifar_shaped(size.samples * world, size.image), group)
    if launch is None or launch.writer:
        out.write_text(json.dumps({"samples_per_s": speed, "processes": world}))
    if group is not None:
        group.close()


def _size_args(size: Size) -> list[str]:
    return ["--widths", ",".join(map(str, size.widths)), "--image", str(size.image), "--samples", str(size.samples),
            "--batch", str(size.batch), "--epochs", str(size.epochs), "--repeats", str(size.repeats)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--samples", type=int, default=50_000, help="training pictures (per GPU when scaling)")
    parser.add_argument("--batch", type=int, default=256, help="batch size (per GPU when scaling)")
    parser.add_argument("--image", type=int, default=32)
    parser.add_argument("--widths", default="64,128,256,512")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU: check that every path runs")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="cuda", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dry_run:
        size = Size((4, 8), 16, 96, 16, 1, 1)
        os.environ["OMP_NUM_THREADS"] = "1"
        torch.set_num_threads(1)  # a toy on a shared CPU: two threads would only wait for each other
    else:
        size = Size(tuple(int(w) for w in args.widths.split(",")), args.image, args.samples, args.batch,
                    args.epochs, args.repeats)
    if args.worker is not None:
        worker(args.worker, args.kind, size)
        return
    if not args.dry_run and not torch.cuda.is_available():
        sys.exit("gpu.py needs a CUDA GPU (or --dry-run to check it on the CPU)")
    device = torch.device("cuda" if not args.dry_run else "cpu")
    gpus = torch.cuda.device_count() if not args.dry_run else 2
    name = torch.cuda.get_device_name(0) if not args.dry_run else "CPU (dry run: the numbers mean nothing)"
    print(f"torch {torch.__version__}, {name}, {gpus} device(s), load average {os.getloadavg()[0]:.2f}")
    print("(a) engine ÷ hand-written loop, ResNet-18-sized CNN, CIFAR-10-shaped data on the device:")
    rows = single_device(size, device)
    print("(b) weak scaling under torchrun (same batch per process):")
    scale = scaling(size, gpus, device.type)
    one, many = scale[0][1], scale[-1][1]
    efficiency = many / (scale[-1][0] * one)
    print("\n| setting | engine samples/s | hand-written samples/s | engine ÷ hand-written |")
    print("| --- | --- | --- | --- |")
    for setting, e, h, ratio in rows:
        print(f"| {setting} | {e:,.0f} | {h:,.0f} | {ratio:.2f} |")
    print(f"\nscaling 1 → {scale[-1][0]} processes: {one:,.0f} → {many:,.0f} samples/s, efficiency {efficiency:.2f}")


if __name__ == "__main__":
    main()
