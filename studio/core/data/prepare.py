"""From a DataSpec to tensors: load, split (seeded, stratified), subset, fit preprocessing on the
training split only, apply it; plus the cheap :func:`describe` and the raw :func:`preview`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from studio.core.data import split
from studio.core.data.preprocess import PREPROCESSINGS, Moments, Preprocessing
from studio.core.data.stream import PreprocessedSubset, stream_moments
from studio.core.data.types import (
    DATASETS,
    DataInfo,
    DatasetType,
    PreparedData,
    Preview,
    RawData,
    RawStream,
    picture_shape,
)
from studio.core.errors import DatasetError
from studio.core.params import resolve
from studio.core.progress import Progress, no_progress
from studio.core.project import DataSpec
from studio.core.vocab import Task

Indices = tuple[np.ndarray, np.ndarray]


def _resolve(spec: DataSpec) -> tuple[DatasetType, dict[str, Any]]:
    """The dataset type and its complete, valid parameters; every setting is checked before loading."""
    kind = DATASETS.get(spec.dataset)
    params = resolve(kind.params, spec.params, owner=f"dataset {kind.name}")
    PREPROCESSINGS.get(spec.preprocessing)
    split.check_split_settings(spec.val_fraction, spec.subset_per_class)
    return kind, params


def _load(spec: DataSpec, progress: Progress) -> tuple[RawData | RawStream, bool]:
    """The raw data and whether its rows keep their order (``DatasetType.ordered``)."""
    kind, params = _resolve(spec)
    raw = kind.load(params, progress)
    split.check_subset_task(spec.subset_per_class, raw.task if isinstance(raw, RawData) else Task.CLASSIFICATION)
    return raw, kind.ordered


def prepare_data(spec: DataSpec, progress: Progress | None = None) -> PreparedData:
    """Load ``spec``'s dataset and return seeded, split, preprocessed data (see :class:`PreparedData`).

    Rows of an ``ordered`` dataset stay in file order in both splits: the validation rows are the same
    seeded, stratified choice as for any dataset, and the rows left for training keep the order written.
    """
    progress = progress or no_progress
    raw, ordered = _load(spec, progress)
    rng = np.random.default_rng(spec.seed)
    if isinstance(raw, RawStream):
        return _prepare_stream(raw, spec, rng, progress)
    if len(raw.y) == 0:
        raise DatasetError("the dataset has no samples")
    train_idx, val_idx = _indices(raw, spec, rng)
    if ordered:
        train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)
    return _prepare_tensors(raw, spec, (train_idx, val_idx))


def _class_indices(
    targets: np.ndarray,
    test_targets: np.ndarray | None,
    names: tuple[str, ...],
    spec: DataSpec,
    rng: np.random.Generator,
) -> Indices:
    """Stratified (train, val) indices; with ``test_targets`` the validation indices point into the test set."""
    if test_targets is None:
        train, val = split.stratified_split(targets, len(names), spec.val_fraction, rng)
    else:
        train = split.by_class(rng.permutation(len(targets)), targets, len(names))
        val = split.by_class(rng.permutation(len(test_targets)), test_targets, len(names))
    k = spec.subset_per_class
    if k is not None:
        train = split.take_per_class(train, k, names, "training", exact=True)
        val = split.take_per_class(val, split.val_count_per_class(k, spec.val_fraction), names, "validation", False)
    return split.shuffled(train, rng), split.shuffled(val, rng)


def _indices(raw: RawData, spec: DataSpec, rng: np.random.Generator) -> Indices:
    if raw.task == Task.REGRESSION:
        if raw.test is not None:
            return rng.permutation(len(raw.y)), rng.permutation(len(raw.test[1]))
        return split.random_split(len(raw.y), spec.val_fraction, rng)
    test_targets = None if raw.test is None else raw.test[1].numpy()
    return _class_indices(raw.y.numpy(), test_targets, raw.class_names, spec, rng)


def _prepare_tensors(raw: RawData, spec: DataSpec, indices: Indices) -> PreparedData:
    train_idx, val_idx = (torch.from_numpy(i) for i in indices)
    x_val_pool, y_val_pool = raw.test if raw.test is not None else (raw.x, raw.y)
    x_train, x_val = raw.floats(raw.x[train_idx]), raw.floats(x_val_pool[val_idx])
    y_train, y_val = raw.y[train_idx], y_val_pool[val_idx]
    preprocessing = Preprocessing.fit(spec.preprocessing, lambda: Moments.of(x_train))
    preprocessing.apply_(x_train)
    preprocessing.apply_(x_val)
    regression = raw.task == Task.REGRESSION
    if regression:
        width = int(np.prod(raw.y.shape[1:], dtype=np.int64))  # explicit: an empty split cannot infer -1
        y_train, y_val = (y.to(torch.float32).reshape(len(y), width) for y in (y_train, y_val))
    return PreparedData(
        x_train=x_train,
        y_train=y_train if regression else y_train.to(torch.int64),
        x_val=x_val,
        y_val=y_val if regression else y_val.to(torch.int64),
        input_shape=raw.input_shape,
        task=raw.task,
        num_classes=0 if regression else len(raw.class_names),
        class_names=() if regression else raw.class_names,
        target_dim=y_train.shape[1] if regression else 0,
        preprocessing=preprocessing,
        image_shape=picture_shape(raw.input_shape, raw.image_shape),
    )


def _prepare_stream(raw: RawStream, spec: DataSpec, rng: np.random.Generator, progress: Progress) -> PreparedData:
    train_idx, val_idx = _class_indices(raw.targets, None, raw.class_names, spec, rng)
    if len(train_idx) == 0:
        raise DatasetError("the image folder has no images to train on")
    preprocessing = Preprocessing.fit(
        spec.preprocessing, lambda: stream_moments(raw.dataset, train_idx, raw.input_shape, progress)
    )
    return PreparedData(
        x_train=None,
        y_train=None,
        x_val=None,
        y_val=None,
        input_shape=raw.input_shape,
        task=Task.CLASSIFICATION,
        num_classes=len(raw.class_names),
        class_names=raw.class_names,
        target_dim=0,
        preprocessing=preprocessing,
        streaming=True,
        train_set=PreprocessedSubset(raw.dataset, train_idx, preprocessing),
        val_set=PreprocessedSubset(raw.dataset, val_idx, preprocessing),
        image_shape=picture_shape(raw.input_shape, None),
        warnings=raw.warnings,
    )


def describe(spec: DataSpec) -> DataInfo:
    """Shape, task and classes; from the dataset's static info when it has one (counts then None), else by loading."""
    kind, params = _resolve(spec)
    if kind.info is None:
        data = prepare_data(spec)
        return DataInfo(
            data.input_shape, data.task, data.num_classes, data.class_names, data.n_train, data.n_val, data.target_dim
        )
    info = kind.info(params)
    split.check_subset_task(spec.subset_per_class, info.task)
    num_classes = len(info.class_names) if info.task == Task.CLASSIFICATION else 0
    return DataInfo(info.input_shape, info.task, num_classes, info.class_names, None, None, info.target_dim)


def preview(spec: DataSpec, n: int = 32) -> Preview:
    """Up to ``n`` raw (unpreprocessed) samples picked with the spec's seed, for the GUI."""
    raw, _ = _load(spec, no_progress)
    rng = np.random.default_rng(spec.seed)
    if isinstance(raw, RawStream):
        picks = rng.choice(len(raw.targets), size=min(n, len(raw.targets)), replace=False)
        picks = picks[np.lexsort((picks, raw.targets[picks]))]  # grouped by class, like the in-memory preview
        x = torch.stack([raw.dataset[int(i)][0] for i in picks]) if len(picks) else torch.zeros(0, *raw.input_shape)
        return Preview("images", _images(x, None), raw.targets[picks], raw.class_names)
    rows = torch.from_numpy(np.sort(rng.choice(len(raw.y), size=min(n, len(raw.y)), replace=False)))
    x, y = raw.floats(raw.x[rows]), raw.y[rows].numpy()
    if raw.image_shape is not None or x.ndim == 4:
        order = np.argsort(y, kind="stable")
        return Preview("images", _images(x, raw.image_shape)[order], y[order], raw.class_names)
    if raw.task == Task.CLASSIFICATION and raw.input_shape == (2,):
        return Preview("points", x.numpy(), y, raw.class_names, feature_names=raw.feature_names)
    if raw.task == Task.REGRESSION and raw.input_shape == (1,) and y.reshape(len(y), -1).shape[1] == 1:
        curve = np.stack([x.numpy()[:, 0], y.reshape(-1)], axis=1)
        curve = curve[np.argsort(curve[:, 0])]
        return Preview("curve", curve, curve[:, 1], task=Task.REGRESSION, feature_names=raw.feature_names)
    return Preview("table", x.numpy(), y, raw.class_names, raw.task, raw.feature_names)


def _images(x: torch.Tensor, image_shape: tuple[int, ...] | None) -> np.ndarray:
    """(N, H, W) or (N, H, W, C) float32 in [0, 1] from flat rows or (N, C, H, W)."""
    if image_shape is not None and x.ndim == 2:
        return x.reshape(len(x), *image_shape).numpy()
    images = x.permute(0, 2, 3, 1)
    return (images[..., 0] if images.shape[-1] == 1 else images).contiguous().numpy()
