"""Image folders: the first read (decode + resize every picture into the cache) and a cached epoch, in images/s.

Generates ``--count`` random 256×256 JPEGs in ``--classes`` class folders (the issue asks for 20,000;
on a loaded 2-core machine use fewer and say so), then:

- first read: ``prepare_data`` on the folder with no cache (decoding in ``--workers`` processes);
- second read: the same call, the cache reused (seconds, not images/s: nothing is decoded);
- cached epoch: every training batch of one epoch copied out of the memory map and made floats
  (``PixelBatches``), images/s.

    python benchmarks/image_folder.py [--count 2000] [--size 64] [--workers N] [--keep DIR]

Run ``uptime`` first: on a loaded machine the figures mean little. Decoding processes import the
main script again (multiprocessing does), so this script imports torch and the studio only inside
``main()``, as ``main.py`` does: a heavy main module would add its import time to every process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def write_folder(root: Path, count: int, classes: int, side: int = 256) -> None:
    """``count`` smooth random JPEGs (a coarse noise image scaled up: JPEG-like content, not pure noise)."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        coarse = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
        picture = Image.fromarray(coarse).resize((side, side), Image.Resampling.BILINEAR)
        picture.save(root / f"class{i % classes}" / f"{i:06d}.jpg", quality=90)


def main() -> None:
    import torch
    import torchvision.datasets.folder  # noqa: F401 - imported once by any first read: not timed here

    from studio.core.data import image_cache, prepare_data
    from studio.core.engine.batching import stream_batches
    from studio.core.project import DataSpec

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="pictures to generate (the issue's size: 20000)")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--size", type=int, default=64, help="the image size the cache holds")
    parser.add_argument("--workers", type=int, default=None, help="decoding processes (default: one per core, max 8)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--keep", type=Path, default=None, help="generate into (and keep) this folder")
    args = parser.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    root = args.keep or Path(tempfile.mkdtemp(prefix="studio-images-"))
    try:
        if not any(root.glob("class*/*.jpg")):
            started = time.perf_counter()
            write_folder(root, args.count, args.classes)
            print(f"generated {args.count:,} 256×256 JPEGs in {time.perf_counter() - started:.1f} s")
        shutil.rmtree(root / image_cache.CACHE_FOLDER, ignore_errors=True)
        if args.workers is not None:
            image_cache.MAX_WORKERS = args.workers
        spec = DataSpec("image_folder", {"root": str(root), "image_size": args.size}, preprocessing="none",
                        val_fraction=0.0)
        started = time.perf_counter()
        data = prepare_data(spec)
        first = time.perf_counter() - started
        workers = min(image_cache.MAX_WORKERS, os.cpu_count() or 1)
        print(f"first read ({workers} processes, {args.size}×{args.size}): {data.n_train / first:,.0f} images/s "
              f"({first:.1f} s)")
        started = time.perf_counter()
        data = prepare_data(spec)
        print(f"second read (cache reused): {time.perf_counter() - started:.2f} s")
        batches = stream_batches(data.train_set, args.batch, True, 0, torch.device("cpu"))
        started = time.perf_counter()
        seen = sum(len(x) for x, _ in batches.epoch(0))
        epoch = time.perf_counter() - started
        print(f"cached epoch (batches of {args.batch}, floats on the CPU): {seen / epoch:,.0f} images/s "
              f"({epoch:.2f} s)")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
