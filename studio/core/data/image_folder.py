"""An image folder: one sub-folder per class, decoded once into a memory-mapped cache, then read in batches.

Images are resized to ``image_size``×``image_size`` (aspect ratio not kept) and converted to
grey or RGB, so every sample has the shape (channels, size, size). The first read decodes every
picture once, in several processes, into a cache (``image_cache.py`` says where and when it is
rebuilt); training then copies whole batches of uint8 pixels out of it and turns them into floats
on the training device, so a folder larger than the memory stays bounded and no epoch decodes a file.

A wrong folder is refused before the disk is walked: a drive's root, or a folder one of whose
sub-folders shows no image among its first entries (``/etc``, a home folder). Pictures that cannot
be read (empty, corrupt, unknown format) are listed in the data's warnings and left out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from studio.core.data.image_cache import ImageCache, open_cache, scan
from studio.core.data.types import DatasetType, RawStream, StaticInfo
from studio.core.errors import DatasetError
from studio.core.params import Param
from studio.core.progress import Progress
from studio.core.vocab import Task

CHANNELS = {"grayscale": 1, "rgb": 3}

PARAMS = (
    Param("root", "path", "", "Folder with one sub-folder of images per class (e.g. cats/, dogs/).", label="folder"),
    Param("image_size", "int", 32, "Every image is resized to this many pixels square.", min=4, max=512),
    Param("channels", "choice", "rgb", "Read images as grey (1 channel) or colour (3 channels).",
          choices=tuple(CHANNELS)),
)


LOOK_AHEAD = 2000  # entries of each class folder looked at for an image before the folder is scanned


class CachedImages(Dataset[tuple[torch.Tensor, int]]):
    """The readable pictures of a cache as ``(float32 (C, H, W) in [0, 1], class)``; :meth:`read` takes whole
    batches as uint8. Picklable for DataLoader workers: each process maps the cache file itself.
    """

    def __init__(self, cache: ImageCache) -> None:
        self.cache = cache
        self.targets = cache.labels
        self._pixels: np.memmap | None = None

    def __len__(self) -> int:
        return len(self.cache.rows)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x = self.read(np.asarray([index]))[0]
        return x.to(torch.float32).div_(255), int(self.targets[index])

    def read(self, indices: np.ndarray) -> torch.Tensor:
        """The samples ``indices`` as one uint8 tensor (n, C, H, W), copied out of the cache."""
        if self._pixels is None:
            self._pixels = self.cache.pixels()
        return torch.from_numpy(self._pixels[self.cache.rows[indices]])

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pixels": None}  # a memmap would pickle its whole contents


def skipped_warning(cache: ImageCache, shown: int = 5) -> str:
    """One line naming the pictures left out (the first few) and why, or "" when every one was read."""
    if not cache.skipped:
        return ""
    names = "; ".join(f"{path} ({why})" for path, why in cache.skipped[:shown])
    more = f"; and {len(cache.skipped) - shown} more" if len(cache.skipped) > shown else ""
    total = cache.shape[0]
    return f"skipped {len(cache.skipped)} of {total:,} pictures that cannot be read: {names}{more}"


def folder_of(root: str) -> Path:
    """The image folder ``root`` names, or a DatasetError (missing, empty setting, a drive's root)."""
    if not root:
        raise DatasetError("choose an image folder (one sub-folder of images per class)")
    folder = Path(os.path.expanduser(root))
    if not folder.is_dir():
        raise DatasetError(f"image folder not found: {folder}")
    if folder.resolve() == Path(folder.resolve().anchor):
        raise DatasetError(f"{folder} is the root of a drive, not an image folder; choose the folder whose"
                           " sub-folders (one per class) hold the pictures")
    return folder


def classes_of(folder: Path) -> list[str]:
    """The class sub-folders (sorted); a DatasetError when fewer than two, or one shows no picture."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    try:
        classes = sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        classes = []
    if len(classes) < 2:
        raise DatasetError(
            f"{folder} needs at least two class sub-folders (found {len(classes)}); put each class's images in"
            f" its own sub-folder, e.g. {folder / 'cats'} and {folder / 'dogs'}"
        )
    for name in classes:
        if not _shows_an_image(folder / name):
            raise DatasetError(f"the class folder {name!r} in {folder} holds no pictures (readable types:"
                               f" {', '.join(IMG_EXTENSIONS)}) among its first {LOOK_AHEAD:,} entries; is this an"
                               " image folder (one sub-folder of pictures per class)?")
    return classes


def _shows_an_image(folder: Path) -> bool:
    """Whether a breadth-first look at ``folder``'s first :data:`LOOK_AHEAD` entries finds a picture.

    Cheap and bounded, so ``/etc`` or a home folder is refused before ImageFolder walks all of it.
    Links to folders are not followed here.
    """
    from torchvision.datasets.folder import IMG_EXTENSIONS

    queue, seen = [folder], 0
    while queue and seen < LOOK_AHEAD:
        try:
            entries = list(os.scandir(queue.pop(0)))
        except OSError:
            continue
        for entry in entries[: LOOK_AHEAD - seen]:
            seen += 1
            if entry.name.lower().endswith(IMG_EXTENSIONS):
                return True
            if entry.is_dir(follow_symlinks=False):
                queue.append(Path(entry.path))
    return False


def load_image_folder(params: dict[str, Any], progress: Progress) -> RawStream:
    """Scan the folder, decode it into its cache the first time (or reuse the cache) and return the pictures."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    folder = folder_of(params["root"])
    classes = classes_of(folder)
    progress(0.0, f"Scanning {folder}")
    listing = scan(folder, classes, IMG_EXTENSIONS)
    if not len(listing):
        raise DatasetError(f"{folder} holds no pictures in its class folders")
    size, channels = params["image_size"], CHANNELS[params["channels"]]
    cache = open_cache(listing, size, channels, progress)
    if not len(cache.rows):
        path, why = cache.skipped[0]
        raise DatasetError(f"none of the {len(listing):,} pictures in {folder} can be read (the first, {path}: {why})")
    warning = skipped_warning(cache)
    return RawStream(
        dataset=CachedImages(cache),
        targets=cache.labels,
        input_shape=(channels, size, size),
        class_names=tuple(classes),
        warnings=(warning,) if warning else (),
    )


def _info(params: dict[str, Any]) -> StaticInfo:
    size, classes = params["image_size"], tuple(classes_of(folder_of(params["root"])))
    return StaticInfo((CHANNELS[params["channels"]], size, size), Task.CLASSIFICATION, classes)


DATASET_TYPES = (
    DatasetType(
        name="image_folder",
        label="Image folder",
        description="Your own pictures: one sub-folder per class. Resized to a square and decoded once into a cache.",
        task=Task.CLASSIFICATION,
        params=PARAMS,
        load=load_image_folder,
        info=_info,
    ),
)
