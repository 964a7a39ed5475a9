"""torchvision datasets (MNIST, Fashion-MNIST, KMNIST, CIFAR-10) read from a local root folder.

Files are read by the real torchvision classes; this module adds what a learner needs around
them: a list of the exact files expected in the exact folder when something is missing, an
explicit ``download`` switch whose failure (no internet) becomes the same clear message, and
validation of what was read.

Two decisions, both made after reading torchvision's source:

* MNIST-like sets: torchvision reads the uncompressed IDX files in ``<root>/<Class>/raw`` and
  checks only that they exist. Hand-downloaded ``.gz`` files are extracted there first (as
  torchvision's own download does): without that, torchvision reports them missing when
  download is off, and re-downloads any archive whose md5 is not the official one when it is on.
* CIFAR-10: the batch files are pickles, and unpickling can run code. torchvision's CIFAR10
  trusts them by the md5 sum of the official release, which also rules out any other
  well-formed batch (a tiny test batch, a learner's own batches). Here each file is read once
  into memory and unpickled exactly once, by a restricted unpickler that accepts only plain
  data and numpy arrays; the arrays are checked for shape and label range and used directly.
  torchvision never opens a batch file, so nothing can swap a file between a check and a
  second, unrestricted read. Downloading keeps torchvision's md5-checked archive.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.error import URLError

import numpy as np
import torch

from studio.core.data.types import DatasetType, RawData, StaticInfo
from studio.core.errors import DatasetError
from studio.core.io import MB, atomic_path, read_bounded
from studio.core.params import Param
from studio.core.progress import Progress
from studio.core.vocab import Task

DEFAULT_ROOT = "~/training-studio-data"
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST, CIFAR_META = "test_batch", "batches.meta"
CIFAR_FILES = (*CIFAR_TRAIN, CIFAR_TEST, CIFAR_META)
CIFAR_FILE_LIMIT = 256 * MB  # an official batch file is 31 MB
CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

PARAMS = (
    Param("root", "path", DEFAULT_ROOT, "Folder that holds (or will receive) the dataset files.", label="root folder"),
    Param("download", "bool", False, "Download the files into the root folder if they are missing (needs internet)."),
    Param(
        "validation",
        "choice",
        "split",
        "split: hold out the validation fraction of the training set; test_set: validate on the official"
        " test set (the validation fraction is then ignored).",
        choices=("split", "test_set"),
    ),
)


def _root(params: dict[str, Any]) -> Path:
    return Path(os.path.expanduser(params["root"]))


def _listing(names: Iterable[str]) -> str:
    return ", ".join(names)


# ---- MNIST, Fashion-MNIST, KMNIST -------------------------------------------------------------


def _extract_gz(raw: Path) -> None:
    """Unpack hand-downloaded ``<name>.gz`` files next to themselves when the plain file is missing."""
    for name in MNIST_FILES:
        packed, plain = raw / f"{name}.gz", raw / name
        if plain.exists() or not packed.exists():
            continue
        try:
            with gzip.open(packed, "rb") as src, atomic_path(plain) as tmp:
                tmp.write_bytes(src.read())
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{packed} is not a readable gzip file ({exc}); download it again") from None


def _missing_idx(raw: Path) -> list[str]:
    return [name for name in MNIST_FILES if not (raw / name).exists()]


def _idx_tensors(cls: type, root: Path, train: bool, raw: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 28, 28) uint8 and labels (N,) int64 of one split, read by torchvision's class."""
    try:
        dataset = cls(str(root), train=train, download=False)
    except (AssertionError, ValueError, TypeError, RuntimeError, OSError) as exc:
        reason = f" ({exc})" if str(exc) else ""
        raise DatasetError(f"the files in {raw} are not valid IDX (ubyte) files{reason}; download them again") from None
    images, labels = dataset.data, dataset.targets
    split = "training" if train else "test"
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DatasetError(
            f"the {split} files in {raw} hold {len(images)} images of size {tuple(images.shape[1:])} and"
            f" {len(labels)} labels; expected equally many 28×28 images and labels"
        )
    if len(labels) and int(labels.max()) >= 10:
        raise DatasetError(f"the {split} labels in {raw} go up to {int(labels.max())}; expected classes 0 to 9")
    return images.unsqueeze(1), labels.to(torch.int64)


def _download(make: Callable[[], object], folder: Path, files: tuple[str, ...], what: str) -> None:
    """Run torchvision's download; any failure becomes one message naming the folder and files."""
    try:
        make()
    except (RuntimeError, URLError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(
            f"could not download {what} into {folder} ({reason}). Without internet, copy these files there by"
            f" hand: {_listing(files)}"
        ) from None


def _mnist_loader(class_name: str, what: str) -> Callable[[dict[str, Any], Progress], RawData]:
    def load(params: dict[str, Any], progress: Progress) -> RawData:
        import torchvision.datasets as tvd

        cls, root = getattr(tvd, class_name), _root(params)
        raw = root / class_name / "raw"
        _extract_gz(raw)
        if params["download"] and _missing_idx(raw):
            progress(0.0, f"Downloading {what} into {raw}")
            _download(lambda: cls(str(root), train=True, download=True), raw, MNIST_FILES, what)
        missing = _missing_idx(raw)
        if missing:
            raise DatasetError(
                f"{what} files not found in {raw}: missing {_listing(missing)}. Expected"
                f" {_listing(MNIST_FILES)} (or the same names ending in .gz). Switch on 'download' or copy them there."
            )
        progress(0.1, f"Reading {what} training images")
        x, y = _idx_tensors(cls, root, True, raw)
        test = None
        if params["validation"] == "test_set":
            progress(0.7, f"Reading {what} test images")
            test = _idx_tensors(cls, root, False, raw)
        progress(1.0, f"{what}: {len(y)} training images")
        return RawData(x, y, Task.CLASSIFICATION, tuple(cls.classes), scale=1.0 / 255.0, test=test)

    return load


def _mnist_info(class_name: str) -> Callable[[dict[str, Any]], StaticInfo]:
    def info(params: dict[str, Any]) -> StaticInfo:
        import torchvision.datasets as tvd

        return StaticInfo((1, 28, 28), Task.CLASSIFICATION, tuple(getattr(tvd, class_name).classes))

    return info


# ---- CIFAR-10 ---------------------------------------------------------------------------------


class _PlainDataUnpickler(pickle.Unpickler):
    """Unpickles only containers, strings, numbers and numpy arrays: a file cannot make it run code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes; a pure function
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it refers to {module}.{name}, which a dataset file never needs")


def _read_batch(path: Path) -> dict[str, Any]:
    """One batch file: read once, unpickled once by the restricted unpickler (the only read of it)."""
    data = read_bounded(path, CIFAR_FILE_LIMIT, "CIFAR-10 batch file", DatasetError)
    try:
        batch = _PlainDataUnpickler(io.BytesIO(data), encoding="latin1").load()
    except Exception as exc:  # any failure to parse means: not a CIFAR batch we are willing to open
        raise DatasetError(f"{path} is not a valid CIFAR-10 batch file ({exc}); download it again") from None
    if not isinstance(batch, dict):
        raise DatasetError(f"{path} is not a valid CIFAR-10 batch file (it holds no dictionary); download it again")
    return batch


def _batch_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 of one batch file, as torchvision reads them."""
    batch = _read_batch(path)
    images, labels = batch.get("data"), batch.get("labels", batch.get("fine_labels"))
    try:
        images = np.asarray(images, dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{path} is not a valid CIFAR-10 batch file ({exc}); download it again") from None
    return images, labels


def _cifar_tensors(folder: Path, names: Iterable[str], progress: Progress, start: float, span: float
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels of the batch files ``names``, checked for consistency."""
    names = list(names)
    parts = []
    for i, name in enumerate(names):
        progress(start + span * i / len(names), f"Reading {name}")
        parts.append(_batch_arrays(folder / name))
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if len(labels) != len(images) or (len(labels) and (labels.min() < 0 or labels.max() >= 10)):
        raise DatasetError(
            f"the CIFAR-10 files in {folder} are inconsistent: {len(images)} images and {len(labels)} labels"
            f" ranging {labels.min() if len(labels) else '-'} to {labels.max() if len(labels) else '-'};"
            " expected one label from 0 to 9 per image"
        )
    return torch.from_numpy(images), torch.from_numpy(labels)


def _class_names(folder: Path) -> tuple[str, ...]:
    names = _read_batch(folder / CIFAR_META).get("label_names")
    if not isinstance(names, list) or len(names) != 10:
        raise DatasetError(f"the CIFAR-10 files in {folder} are inconsistent: batches.meta does not list 10 class"
                           " names; expected 10 classes")
    return tuple(str(name) for name in names)


def _download_cifar10(root: Path) -> None:
    """torchvision's md5-checked download and extraction, without letting torchvision read the batches."""
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.utils import download_and_extract_archive

    download_and_extract_archive(CIFAR10.url, str(root), filename=CIFAR10.filename, md5=CIFAR10.tgz_md5)


def _load_cifar10(params: dict[str, Any], progress: Progress) -> RawData:
    root = _root(params)
    folder = root / CIFAR_FOLDER
    missing = [name for name in CIFAR_FILES if not (folder / name).exists()]
    if missing and params["download"]:
        progress(0.0, f"Downloading CIFAR-10 into {root}")
        _download(lambda: _download_cifar10(root), folder, CIFAR_FILES, "CIFAR-10")
        missing = [name for name in CIFAR_FILES if not (folder / name).exists()]
    if missing:
        raise DatasetError(
            f"CIFAR-10 files not found in {folder}: missing {_listing(missing)}. Expected"
            f" {_listing(CIFAR_FILES)} (the 'python version' of CIFAR-10). Switch on 'download' or copy them there."
        )
    names = _class_names(folder)
    x, y = _cifar_tensors(folder, CIFAR_TRAIN, progress, 0.0, 0.8)
    test = None
    if params["validation"] == "test_set":
        test = _cifar_tensors(folder, (CIFAR_TEST,), progress, 0.8, 0.2)
    progress(1.0, f"CIFAR-10: {len(y)} training images")
    return RawData(x, y, Task.CLASSIFICATION, names, scale=1.0 / 255.0, test=test)


def _cifar_info(params: dict[str, Any]) -> StaticInfo:
    return StaticInfo((3, 32, 32), Task.CLASSIFICATION, CIFAR_NAMES)


# (registry name, torchvision class, GUI label, name in messages, description)
_MNIST_LIKE = (
    ("mnist", "MNIST", "MNIST (28×28 digits)", "MNIST", "70,000 handwritten digits, 28×28 grey pixels."),
    ("fashion_mnist", "FashionMNIST", "Fashion-MNIST", "Fashion-MNIST",
     "70,000 pictures of clothes in 10 classes, 28×28 grey."),
    ("kmnist", "KMNIST", "Kuzushiji-MNIST", "KMNIST",
     "70,000 handwritten Japanese cursive characters, 10 classes, 28×28."),
)
DATASET_TYPES = (
    *(
        DatasetType(
            name, label, f"{text} Read from the root folder ({cls}/raw).", Task.CLASSIFICATION, PARAMS,
            _mnist_loader(cls, what), _mnist_info(cls),
        )
        for name, cls, label, what, text in _MNIST_LIKE
    ),
    DatasetType(
        "cifar10", "CIFAR-10", "60,000 colour photos (32×32) of 10 kinds of objects. Read from the root folder"
        f" ({CIFAR_FOLDER}).", Task.CLASSIFICATION, PARAMS, _load_cifar10, _cifar_info,
    ),
)
