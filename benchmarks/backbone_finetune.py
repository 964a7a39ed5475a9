"""Fine-tuning a frozen resnet18 plus a Linear head on a cached image folder: the engine against a hand loop.

Both train on the same decoded pictures (the folder's memory-mapped cache at 224×224): (a) a hand-written
loop that slices a permutation of the cached uint8 tensor, normalises with ImageNet's mean and std and
runs a frozen torchvision resnet18 (eval mode, no gradients) and a Linear head with Adam; (b)
``Trainer.fit`` on a project whose first row is a ``Backbone`` (resnet18, trainable none) followed by
a Linear. Runs alternate (a, b, a, b, ...); the script prints the median ratio of samples/s (engine /
hand; the goal is ≥ 0.95).

    python benchmarks/backbone_finetune.py [--count 256] [--epochs 1] [--repeats 3] [--threads 2]

Random weights stand in for pretrained ones (the cost is the same). Run ``uptime`` first.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image

from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec

SIZE = 224
CLASSES = 4
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def write_folder(root: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    for c in range(CLASSES):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        coarse = Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8))
        coarse.resize((256, 256), Image.Resampling.BILINEAR).save(root / f"class{i % CLASSES}" / f"{i:05d}.jpg")


def project(root: Path, batch: int, epochs: int) -> Project:
    layers = [LayerSpec("Backbone", {"model": "resnet18", "trainable": "none"}),
              LayerSpec("Linear", {"out_features": CLASSES})]
    return Project(model=ModelSpec(layers),
                   data=DataSpec("image_folder", {"root": str(root), "image_size": SIZE}, preprocessing="none",
                                 val_fraction=0.0),
                   optimizer=Choice("adam", {"lr": 0.001}),
                   training=TrainingSpec(epochs=epochs, batch_size=batch, seed=0, device="cpu"))


def hand_loop(pixels: torch.Tensor, labels: torch.Tensor, batch: int, epochs: int) -> float:
    """Samples/s of the plain loop over the cached uint8 pictures."""
    net = torchvision.models.resnet18(weights=None)
    net.fc = torch.nn.Identity()
    net.requires_grad_(False)
    net.eval()
    head = torch.nn.Linear(512, CLASSES)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.001)
    n = len(labels)
    started = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(epoch))
        for start in range(0, n, batch):
            index = order[start : start + batch]
            x = (pixels[index].float().div_(255) - MEAN) / STD
            loss = torch.nn.functional.cross_entropy(head(net(x)), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return n * epochs / (time.perf_counter() - started)


def engine(spec: Project, data: object) -> float:
    trainer = Trainer(spec, data)
    started = time.perf_counter()
    trainer.fit()
    return trainer.data.n_train * spec.training.epochs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=256, help="pictures in the generated folder")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="pairs of runs")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for both loops")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    root = Path(tempfile.mkdtemp(prefix="studio-finetune-"))
    try:
        write_folder(root, args.count)
        spec = project(root, args.batch, args.epochs)
        data = prepare_data(spec.data)  # the first read fills the cache; both loops read the same pictures
        cache = data.train_set.base.cache
        rows = torch.from_numpy(np.asarray(cache.pixels()[cache.rows]))
        labels = torch.from_numpy(cache.labels)
        ratios = []
        for repeat in range(args.repeats):
            plain = hand_loop(rows, labels, args.batch, args.epochs)
            studio = engine(spec, data)
            ratios.append(studio / plain)
            print(f"pair {repeat + 1}: hand {plain:.1f} samples/s, engine {studio:.1f} samples/s, "
                  f"ratio {studio / plain:.3f}")
        print(f"frozen resnet18 + head, {args.count} pictures at {SIZE}×{SIZE}: median engine/hand "
              f"{statistics.median(ratios):.3f} (goal ≥ 0.95)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
