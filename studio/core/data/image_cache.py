"""The decode-once cache of an image folder: every picture decoded and resized once, kept memory-mapped.

Decoding a JPEG costs far more than training on its pixels, so the first read decodes every picture
once (in several processes, with progress and cancel) into one file of uint8 rows ``(N, C, S, S)``,
and later runs open that file in milliseconds. Reading goes through ``numpy.memmap``: batches are
copied out of the operating system's page cache, so a folder larger than the memory stays bounded
(the kernel evicts pages; nothing holds the whole folder).

**Key.** The cache is named by a hash of the folder's file list (relative paths, classes, sizes and
modification times), the target size and the channels: adding, removing, replacing or touching a
picture gives a new key and the next read rebuilds; older caches of the same size are deleted then.

**Where.** Beside the data, in ``FOLDER/.studio-cache/`` (hidden, so it is never taken for a class),
when that folder is writable; otherwise in the user's cache folder
(``$XDG_CACHE_HOME/training-studio/images/<hash of the folder's path>``, ``~/Library/Caches`` on
macOS, ``%LOCALAPPDATA%`` on Windows). A file appears under its final name only when complete.

Pictures that cannot be read (0-byte files, corrupt or truncated files, unknown formats) are listed
with their reason and left out; grayscale, palette and CMYK pictures are converted.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.decode import Row, decode_into, decode_rows
from studio.core.errors import DatasetError
from studio.core.io import atomic_write_text
from studio.core.progress import Progress

CACHE_VERSION = 1
CACHE_FOLDER = ".studio-cache"
# Below this many pictures, starting decoding processes costs more than it saves.
POOL_THRESHOLD = 256
MAX_WORKERS = 8


@dataclass(frozen=True)
class Listing:
    """The pictures of a folder in a fixed order: paths relative to ``root``, their class, size and mtime."""

    root: Path
    paths: tuple[str, ...]
    labels: np.ndarray
    sizes: tuple[int, ...]
    mtimes: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.paths)

    def key(self, size: int, channels: int) -> str:
        """The cache key: any added, removed, moved, resized or touched picture changes it."""
        digest = hashlib.sha256(f"{CACHE_VERSION}|{size}|{channels}\n".encode())
        for path, label, nbytes, mtime in zip(self.paths, self.labels.tolist(), self.sizes, self.mtimes, strict=True):
            digest.update(f"{path}\0{label}\0{nbytes}\0{mtime}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()[:24]


def scan(root: Path, classes: Sequence[str], extensions: tuple[str, ...]) -> Listing:
    """Every picture under each class folder (sorted, hidden entries left out, links followed), with its stat."""
    paths: list[str] = []
    labels: list[int] = []
    sizes: list[int] = []
    mtimes: list[int] = []
    for label, name in enumerate(classes):
        for folder, dirs, files in sorted(os.walk(root / name, followlinks=True)):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for file in sorted(files):
                if file.startswith(".") or not file.lower().endswith(extensions):
                    continue
                full = os.path.join(folder, file)
                try:
                    stat = os.stat(full)
                except OSError:  # a dangling link: not a picture we can read, and not worth a failure
                    continue
                paths.append(os.path.relpath(full, root))
                labels.append(label)
                sizes.append(stat.st_size)
                mtimes.append(stat.st_mtime_ns)
    return Listing(root, tuple(paths), np.asarray(labels, dtype=np.int64), tuple(sizes), tuple(mtimes))


def user_cache_root() -> Path:
    """The per-user cache folder of Training Studio (the platform's usual place)."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".cache"
    return base / "training-studio"


def cache_folder(root: Path) -> Path:
    """``root/.studio-cache`` when it can be written, else a folder of its own in the user's cache."""
    beside = root / CACHE_FOLDER
    try:
        beside.mkdir(exist_ok=True)
        with tempfile.TemporaryFile(dir=beside):
            pass
        return beside
    except OSError:
        digest = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        folder = user_cache_root() / "images" / digest
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatasetError(f"cannot create a cache for {root}: neither {beside} nor {folder} can be written"
                               f" ({exc.strerror or exc})") from None
        return folder


@dataclass(frozen=True)
class ImageCache:
    """A complete cache: ``path`` holds uint8 rows ``shape`` (one per listed file); ``rows`` are the readable
    ones and ``labels`` their classes; ``skipped`` lists ``(file, reason)`` of the others; ``built`` is True
    when this read decoded the pictures (the first read), False when an earlier cache was reused.
    """

    path: Path
    shape: tuple[int, int, int, int]
    rows: np.ndarray
    labels: np.ndarray
    skipped: tuple[tuple[str, str], ...]
    built: bool
    seconds: float = 0.0

    def pixels(self) -> np.memmap:
        """The cache file, memory-mapped read-only (pages are read on demand and can be evicted)."""
        return np.memmap(self.path, dtype=np.uint8, mode="r", shape=self.shape)


def open_cache(listing: Listing, size: int, channels: int, progress: Progress,
               workers: int | None = None) -> ImageCache:
    """The cache of ``listing`` at ``size`` and ``channels``: reused when its key matches, else built now."""
    folder = cache_folder(listing.root)
    stem = f"img-{size}-{channels}-{listing.key(size, channels)}"
    shape = (len(listing), channels, size, size)
    meta = _read_meta(folder / f"{stem}.json", shape)
    pixels = folder / f"{stem}.u8"
    built, seconds = False, 0.0
    if meta is None or not _complete(pixels, shape):
        started = time.perf_counter()
        meta = _build(listing, folder, stem, shape, progress, workers)
        built, seconds = True, time.perf_counter() - started
        _remove_stale(folder, f"img-{size}-{channels}-", stem)
    failed = {int(row): str(why) for row, why in meta["failed"]}
    rows = np.asarray([i for i in range(len(listing)) if i not in failed], dtype=np.int64)
    skipped = tuple((listing.paths[row], why) for row, why in sorted(failed.items()))
    return ImageCache(pixels, shape, rows, listing.labels[rows], skipped, built, seconds)


def _complete(pixels: Path, shape: tuple[int, ...]) -> bool:
    try:
        return pixels.stat().st_size == int(np.prod(shape))
    except OSError:
        return False


def _read_meta(path: Path, shape: tuple[int, ...]) -> dict[str, Any] | None:
    """The record of a finished cache, or None when absent, unreadable or for another shape."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(meta, dict) and meta.get("version") == CACHE_VERSION and meta.get("shape") == list(shape)
    return meta if ok and isinstance(meta.get("failed"), list) else None


def _build(listing: Listing, folder: Path, stem: str, shape: tuple[int, int, int, int], progress: Progress,
           workers: int | None) -> dict[str, Any]:
    """Decode every picture into a new cache file; its record (written last: a cache without one is unfinished)."""
    nbytes = int(np.prod(shape))
    free = shutil.disk_usage(folder).free
    if nbytes > free:
        raise DatasetError(f"the decoded pictures need {nbytes / 1e9:.1f} GB in {folder}, but only {free / 1e9:.1f} GB"
                           " are free; choose a smaller image size or free some space")
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=folder)
    tmp = Path(name)
    try:
        os.ftruncate(fd, nbytes)
        os.close(fd)
        fd = -1
        empty = [(i, "empty file (0 bytes)") for i, n in enumerate(listing.sizes) if n == 0]
        rows = [(i, str(listing.root / p)) for i, (p, n) in enumerate(zip(listing.paths, listing.sizes, strict=True))
                if n > 0]
        failed = empty + _decode(tmp, shape, rows, progress, workers)
        os.replace(tmp, folder / f"{stem}.u8")
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    meta = {"version": CACHE_VERSION, "shape": list(shape), "root": str(listing.root), "failed": sorted(failed)}
    atomic_write_text(folder / f"{stem}.json", json.dumps(meta) + "\n")
    return meta


def _decode(path: Path, shape: tuple[int, int, int, int], rows: list[Row], progress: Progress,
            workers: int | None) -> list[tuple[int, str]]:
    """Fill ``path``'s rows, reporting progress after each chunk; ``progress`` may raise to cancel."""
    n, size, channels = len(rows), shape[2], shape[1]
    count = workers if workers is not None else min(MAX_WORKERS, os.cpu_count() or 1)
    chunk = max(8, min(256, n // max(1, 8 * count)))
    chunks = [rows[i : i + chunk] for i in range(0, n, chunk)]
    started = time.perf_counter()

    def report(done: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        progress(done / max(n, 1), f"Reading pictures once into the cache: {done:,} of {n:,} ({rate:,.0f}/s)")

    report(0)
    if count <= 1 or n < POOL_THRESHOLD:
        pixels = np.memmap(path, dtype=np.uint8, mode="r+", shape=shape)
        failed: list[tuple[int, str]] = []
        done = 0
        for part in chunks:
            failed += decode_rows(pixels, part, size, channels)
            done += len(part)
            report(done)
        pixels.flush()
        del pixels
        return failed
    return _decode_in_pool(path, shape, chunks, count, report)


def _decode_in_pool(path: Path, shape: tuple[int, int, int, int], chunks: list[list[Row]], count: int,
                    report: Callable[[int], None]) -> list[tuple[int, str]]:
    """Decode ``chunks`` in ``count`` processes (forkserver: the GUI calls this from a thread)."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    failed: list[tuple[int, str]] = []
    done = 0
    pool = ProcessPoolExecutor(max_workers=count, mp_context=context)
    try:
        sizes: dict[Future[list[tuple[int, str]]], int] = {
            pool.submit(decode_into, str(path), shape, part, shape[2], shape[1]): len(part) for part in chunks
        }
        pending = set(sizes)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                failed += future.result()
                done += sizes[future]
            report(done)  # every half second at least, so a cancel gets through while chunks run
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return failed


def _remove_stale(folder: Path, prefix: str, keep: str) -> None:
    """Delete the earlier caches of this size and channels (the folder changed since they were made)."""
    for entry in folder.glob(f"{prefix}*"):
        if entry.stem != keep and entry.suffix in (".u8", ".json"):
            entry.unlink(missing_ok=True)
