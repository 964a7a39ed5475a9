"""An image folder: one sub-folder per class, read by torchvision's ImageFolder, streamed.

Images are resized to ``image_size``×``image_size`` (aspect ratio not kept) and converted to
grey or RGB, so every sample has the shape (channels, size, size). Folders can be large, so
the data stays on disk: the engine reads it through a DataLoader with workers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from studio.core.data.types import DatasetType, Progress, RawStream, StaticInfo
from studio.core.errors import DatasetError
from studio.core.params import Param

CHANNELS = {"grayscale": 1, "rgb": 3}

PARAMS = (
    Param("root", "path", "", "Folder with one sub-folder of images per class (e.g. cats/, dogs/).", label="folder"),
    Param("image_size", "int", 32, "Every image is resized to this many pixels square.", min=4, max=512),
    Param("channels", "choice", "rgb", "Read images as grey (1 channel) or colour (3 channels).",
          choices=tuple(CHANNELS)),
)


class _Images(Dataset):
    """ImageFolder samples as (float32 (C, H, W) in [0, 1], class); an unreadable image names its file."""

    def __init__(self, folder: Any) -> None:
        self.folder = folder

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        try:
            return self.folder[index]
        except (OSError, ValueError) as exc:
            path = self.folder.samples[index][0]
            raise DatasetError(f"cannot read image {path} ({exc}); remove or replace it") from None


def _folder(params: dict[str, Any]) -> Path:
    if not params["root"]:
        raise DatasetError("choose an image folder (one sub-folder of images per class)")
    folder = Path(os.path.expanduser(params["root"]))
    if not folder.is_dir():
        raise DatasetError(f"image folder not found: {folder}")
    return folder


def _classes(folder: Path) -> list[str]:
    from torchvision.datasets.folder import find_classes

    try:
        classes, _ = find_classes(str(folder))
    except FileNotFoundError:
        classes = []
    if len(classes) < 2:
        raise DatasetError(
            f"{folder} needs at least two class sub-folders (found {len(classes)}); put each class's images in"
            f" its own sub-folder, e.g. {folder / 'cats'} and {folder / 'dogs'}"
        )
    return classes


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
    from torchvision.datasets.folder import IMG_EXTENSIONS

    folder = _folder(params)
    classes = _classes(folder)
    progress(0.0, f"Scanning {folder}")
    images = ImageFolder(str(folder), transform=_transform(params), allow_empty=True)
    counts = np.bincount(np.asarray(images.targets, dtype=np.int64), minlength=len(classes))
    empty = [name for name, count in zip(classes, counts, strict=True) if count == 0]
    if empty:
        kinds = ", ".join(IMG_EXTENSIONS)
        raise DatasetError(f"class folder(s) {', '.join(empty)} in {folder} hold no images (readable types: {kinds})")
    size = params["image_size"]
    return RawStream(
        dataset=_Images(images),
        targets=np.asarray(images.targets, dtype=np.int64),
        input_shape=(CHANNELS[params["channels"]], size, size),
        class_names=tuple(classes),
    )


def _info(params: dict[str, Any]) -> StaticInfo:
    size = params["image_size"]
    return StaticInfo((CHANNELS[params["channels"]], size, size), "classification", tuple(_classes(_folder(params))))


DATASET_TYPES = (
    DatasetType(
        name="image_folder",
        label="Image folder",
        description="Your own pictures: one sub-folder per class. Resized to a square; read from disk while training.",
        task="classification",
        params=PARAMS,
        load=load_image_folder,
        info=_info,
    ),
)
