"""Seeded train/validation splits, stratified by class, and per-class subsets.

Everything here works on index arrays, so the same code splits in-memory tensors and image
folders (whose labels are known before any image is read). One numpy Generator, seeded from
the DataSpec, drives every random choice, so a spec always gives the same split and order.
"""

from __future__ import annotations

import math

import numpy as np

from studio.core.errors import ConfigError, DatasetError
from studio.core.vocab import Task

MAX_VAL_FRACTION = 0.9


def check_split_settings(val_fraction: float, subset_per_class: int | None) -> None:
    """Reject impossible split settings (before anything is loaded) with a message naming the field."""
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)):
        raise ConfigError(f"validation fraction must be a number, not {val_fraction!r}", field="val_fraction")
    if not 0.0 <= val_fraction <= MAX_VAL_FRACTION:
        raise ConfigError(
            f"validation fraction must be between 0 and {MAX_VAL_FRACTION:g}; got {val_fraction:g}",
            field="val_fraction",
        )
    if subset_per_class is None:
        return
    if isinstance(subset_per_class, bool) or not isinstance(subset_per_class, int) or subset_per_class < 1:
        raise ConfigError(
            f"subset per class must be a whole number of at least 1 (or off); got {subset_per_class!r}",
            field="subset_per_class",
        )


def check_subset_task(subset_per_class: int | None, task: str) -> None:
    """A per-class subset only makes sense when there are classes."""
    if subset_per_class is not None and task != Task.CLASSIFICATION:
        raise ConfigError("subset per class needs a classification dataset; switch it off", field="subset_per_class")


def stratified_split(
    targets: np.ndarray, num_classes: int, val_fraction: float, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per class, shuffled (train, validation) index arrays; each class keeps at least one training sample."""
    train: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for c in range(num_classes):
        members = rng.permutation(np.flatnonzero(targets == c))
        n_val = min(round(len(members) * val_fraction), max(len(members) - 1, 0))
        val.append(members[:n_val])
        train.append(members[n_val:])
    return train, val


def random_split(n: int, val_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, validation) indices of ``n`` samples, for regression."""
    order = rng.permutation(n)
    n_val = min(round(n * val_fraction), max(n - 1, 0))
    return order[n_val:], order[:n_val]


def by_class(indices: np.ndarray, targets: np.ndarray, num_classes: int) -> list[np.ndarray]:
    """``indices`` grouped by their class, keeping their order."""
    labels = targets[indices]
    return [indices[labels == c] for c in range(num_classes)]


def take_per_class(
    groups: list[np.ndarray], k: int, class_names: tuple[str, ...], split: str, exact: bool
) -> list[np.ndarray]:
    """The first ``k`` of each class; ``exact`` makes a class with fewer than ``k`` an error."""
    if exact:
        for name, group in zip(class_names, groups, strict=True):
            if len(group) < k:
                raise DatasetError(
                    f"class {name!r} has only {len(group)} samples in the {split} split, fewer than the"
                    f" subset per class of {k}; choose a smaller subset or a smaller validation fraction"
                )
    return [group[:k] for group in groups]


def val_count_per_class(k: int, val_fraction: float) -> int:
    """Validation samples per class that go with ``k`` training samples per class at ``val_fraction``."""
    if val_fraction <= 0:
        return 0
    return max(1, math.ceil(k * val_fraction / (1.0 - val_fraction) - 1e-9))


def shuffled(groups: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """All indices of ``groups`` in one seeded random order."""
    flat = np.concatenate(groups) if groups else np.zeros(0, np.int64)
    return rng.permutation(flat.astype(np.int64))
