"""An image folder: one sub-folder per class, read by torchvision's ImageFolder, streamed.

Images are resized to ``image_size``×``image_size`` (aspect ratio not kept) and converted to
grey or RGB, so every sample has the shape (channels, size, size). Folders can be large, so
the data stays on disk: the engine reads it through a DataLoader with workers.

A wrong folder is refused before the disk is walked: a drive's root, or a folder one of whose
sub-folders shows no image among its first entries (``/etc``, a home folder). Empty files are
refused when the folder is scanned, and a picture that cannot be decoded while training stops
the run with one line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

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


class UnreadableImageError(DatasetError):
    """A picture cannot be decoded; the message names the file.

    A DataLoader worker re-raises an error by calling its class with the worker's whole traceback as
    the message ("Caught ... in DataLoader worker process 0 ..."); this keeps only the line we wrote.
    """

    def __init__(self, message: str) -> None:
        lines = [line for line in message.splitlines() if line.strip()]
        if len(lines) > 1 and lines[0].startswith("Caught "):
            message = lines[-1].split(": ", 1)[-1]
        super().__init__(message)


class _Images(Dataset[tuple[torch.Tensor, int]]):
    """ImageFolder samples as (float32 (C, H, W) in [0, 1], class); an unreadable image names its file."""

    def __init__(self, folder: Any) -> None:
        self.folder = folder

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        try:
            sample: tuple[torch.Tensor, int] = self.folder[index]
            return sample
        except (OSError, ValueError) as exc:
            path = self.folder.samples[index][0]
            raise UnreadableImageError(f"cannot read image {path} ({exc}); remove or replace it") from None


def _folder(params: dict[str, Any]) -> Path:
    if not params["root"]:
        raise DatasetError("choose an image folder (one sub-folder of images per class)")
    folder = Path(os.path.expanduser(params["root"]))
    if not folder.is_dir():
        raise DatasetError(f"image folder not found: {folder}")
    if folder.resolve() == Path(folder.resolve().anchor):
        raise DatasetError(f"{folder} is the root of a drive, not an image folder; choose the folder whose"
                           " sub-folders (one per class) hold the pictures")
    return folder


def _classes(folder: Path) -> list[str]:
    from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes

    try:
        classes: list[str] = find_classes(str(folder))[0]
    except FileNotFoundError:
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


def _transform(params: dict[str, Any]) -> Any:
    from torchvision import transforms

    size = params["image_size"]
    steps = [transforms.Resize((size, size))]
    if CHANNELS[params["channels"]] == 1:
        steps.append(transforms.Grayscale(num_output_channels=1))
    return transforms.Compose([*steps, transforms.ToTensor()])


def load_image_folder(params: dict[str, Any], progress: Progress) -> RawStream:
    """Scan the folder (cheap: no image is opened) and return a stream of resized images."""
    from torchvision.datasets import ImageFolder

    folder = _folder(params)
    classes = _classes(folder)
    progress(0.0, f"Scanning {folder}")
    images = ImageFolder(str(folder), transform=_transform(params), allow_empty=True)
    hollow = [path for path, _ in images.samples if os.path.getsize(path) == 0]
    if hollow:
        more = f" and {len(hollow) - 1} more" if len(hollow) > 1 else ""
        raise DatasetError(f"{hollow[0]}{more} is an empty file (0 bytes), not a picture; remove or replace it")
    size = params["image_size"]
    return RawStream(
        dataset=_Images(images),
        targets=np.asarray(images.targets, dtype=np.int64),
        input_shape=(CHANNELS[params["channels"]], size, size),
        class_names=tuple(classes),
    )


def _info(params: dict[str, Any]) -> StaticInfo:
    size = params["image_size"]
    return StaticInfo((CHANNELS[params["channels"]], size, size), Task.CLASSIFICATION, tuple(_classes(_folder(params))))


DATASET_TYPES = (
    DatasetType(
        name="image_folder",
        label="Image folder",
        description="Your own pictures: one sub-folder per class. Resized to a square; read from disk while training.",
        task=Task.CLASSIFICATION,
        params=PARAMS,
        load=load_image_folder,
        info=_info,
    ),
)
