"""The vocabulary of the data package: dataset types, the registry, raw and prepared data, previews.

A dataset type only *loads* (raw pixels in [0, 1], features, targets); splitting, subsets and
preprocessing are shared by every dataset and live in :mod:`studio.core.data.prepare`.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch
from torch.utils.data import Dataset

from studio.core.data.preprocess import Preprocessing
from studio.core.params import Param
from studio.core.progress import Progress
from studio.core.registry import Registry
from studio.core.vocab import Task


@dataclass
class RawData:
    """A whole dataset in memory, before splitting and preprocessing.

    ``x`` is stored compactly (uint8 for images) and turned into float32 as ``x * scale`` only after
    the split picked its rows, so MNIST or CIFAR never exist twice as float32. ``image_shape`` is
    (H, W) or (H, W, C) when samples are pictures (the preview shows them), else None.
    ``test`` is an official held-out split (torchvision's test set) to validate on instead of
    carving one out of ``x``. ``feature_names`` name the columns of tabular data (CSV).
    """

    x: torch.Tensor
    y: torch.Tensor
    task: Task
    class_names: tuple[str, ...] = ()
    scale: float = 1.0
    image_shape: tuple[int, ...] | None = None
    test: tuple[torch.Tensor, torch.Tensor] | None = None
    feature_names: tuple[str, ...] = ()

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def floats(self, x: torch.Tensor) -> torch.Tensor:
        """Rows of ``x`` as float32 in their natural scale (pixels in [0, 1])."""
        out = x.to(torch.float32)
        return out.mul_(self.scale) if self.scale != 1.0 else out


@dataclass
class RawStream:
    """A dataset too large for memory (image folders): a torch Dataset of (float32 tensor in [0, 1], class).

    ``targets`` lists every sample's class without reading the images, so splits are cheap.
    ``warnings`` are lines for the learner about what was left out (pictures that cannot be read).
    """

    dataset: Dataset[Any]
    targets: np.ndarray
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    warnings: tuple[str, ...] = ()


Loader = Callable[[dict[str, Any], Progress], "RawData | RawStream"]


@dataclass(frozen=True)
class StaticInfo:
    """What a dataset type knows without reading its files (for a quick :func:`describe`)."""

    input_shape: tuple[int, ...]
    task: Task
    class_names: tuple[str, ...]
    target_dim: int = 0


@dataclass(frozen=True)
class DatasetType:
    """One entry of :data:`DATASETS`.

    ``task`` is the dataset's task (for ``csv`` the default one; its ``task`` parameter may change
    it, and :class:`PreparedData`/:class:`DataInfo` report the real one). ``load(params, progress)``
    receives resolved parameters. ``info(params)``, when given, answers :func:`describe` without
    loading anything. ``ordered`` datasets (typed tables, CSV files) keep the order of their rows in
    both splits, so a run without shuffling visits them exactly as written.
    """

    name: str
    label: str
    description: str
    task: Task
    params: tuple[Param, ...]
    load: Loader
    info: Callable[[dict[str, Any]], StaticInfo] | None = None
    ordered: bool = False

    def __post_init__(self) -> None:
        if self.task not in tuple(Task):
            raise ValueError(f"dataset {self.name!r}: unknown task {self.task!r}")


# Filled by studio/core/data/__init__.py, in the order the GUI lists the datasets.
DATASETS: Registry[DatasetType] = Registry("dataset")


def picture_shape(input_shape: tuple[int, ...], flat_image_shape: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """(H, W) or (H, W, C) of one sample seen as a picture, or None when samples are not pictures."""
    if len(input_shape) == 3 and input_shape[0] in (1, 3):
        channels, height, width = input_shape
        return (height, width) if channels == 1 else (height, width, channels)
    return flat_image_shape


@dataclass
class PreparedData:
    """Split, subset and preprocessed data, ready for the engine.

    In memory (``streaming`` False): CPU tensors, x float32 in per-sample shape ``input_shape``,
    y int64 class indices (classification) or float32 ``(N, target_dim)`` (regression).
    Streaming (image folders): the tensors are None and ``train_set``/``val_set`` are torch
    Datasets yielding preprocessed ``(x, class)`` pairs, for a DataLoader with workers.
    ``num_classes`` is 0 for regression, ``target_dim`` is 0 for classification.
    ``image_shape`` says how one sample looks as a picture, (H, W) or (H, W, C), also for flat
    rows such as digits' 64 features; None for points and tables. ``warnings`` are lines for the
    learner about the data (pictures left out because they cannot be read).
    """

    x_train: torch.Tensor | None
    y_train: torch.Tensor | None
    x_val: torch.Tensor | None
    y_val: torch.Tensor | None
    input_shape: tuple[int, ...]
    task: Task
    num_classes: int
    class_names: tuple[str, ...]
    target_dim: int
    preprocessing: Preprocessing
    streaming: bool = False
    train_set: Dataset[Any] | None = None
    val_set: Dataset[Any] | None = None
    image_shape: tuple[int, ...] | None = None
    warnings: tuple[str, ...] = ()

    @property
    def n_train(self) -> int:
        return _count(self.train_set if self.streaming else self.y_train)

    @property
    def n_val(self) -> int:
        return _count(self.val_set if self.streaming else self.y_val)

    def tensors(self, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` of an in-memory split, ``"train"`` or ``"val"`` (a ValueError for streaming data)."""
        x, y = (self.x_val, self.y_val) if split == "val" else (self.x_train, self.y_train)
        if x is None or y is None:
            raise ValueError(f"the {split} split of this data is not in memory")
        return x, y

    def dataset(self, split: str = "train") -> Dataset[Any]:
        """The ``Dataset`` of a streaming split, ``"train"`` or ``"val"`` (a ValueError for in-memory data)."""
        dataset = self.val_set if split == "val" else self.train_set
        if dataset is None:
            raise ValueError(f"the {split} split of this data is not streamed")
        return dataset


def _count(samples: Dataset[Any] | torch.Tensor | None) -> int:
    return 0 if samples is None else len(cast(Sized, samples))  # every Dataset here has a length


@dataclass(frozen=True)
class DataInfo:
    """A summary for the GUI; ``n_train``/``n_val`` are None when counting would need a full load."""

    input_shape: tuple[int, ...]
    task: Task
    num_classes: int
    class_names: tuple[str, ...]
    n_train: int | None
    n_val: int | None
    target_dim: int = 0


@dataclass
class Preview:
    """Raw samples for the GUI's preview, never preprocessed.

    ``kind`` says how to draw ``data``: ``"images"`` (N, H, W) or (N, H, W, C) in [0, 1];
    ``"points"`` (N, 2) coloured by class; ``"curve"`` (N, 2) of (x, y) sorted by x;
    ``"table"`` (N, F) feature rows. ``labels`` are class indices (or regression targets).
    """

    kind: str
    data: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...] = ()
    task: Task = Task.CLASSIFICATION
    feature_names: tuple[str, ...] = field(default_factory=tuple)
