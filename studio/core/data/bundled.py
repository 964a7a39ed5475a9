"""The bundled, offline, real dataset: scikit-learn's 1,797 handwritten digits (8x8). The default."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from studio.core.data.types import DatasetType, RawData
from studio.core.progress import Progress
from studio.core.vocab import Task

# Digits pixels are counts from 0 to 16 (4x4 blocks of a 32x32 bitmap); x / 16 puts them in [0, 1].
_DIGITS_MAX = 16.0


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    # scikit-learn is imported here, not at module level, to keep `import studio.core.data` light.
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.uint8), bunch.target.astype(np.int64)


def load_digits(params: dict[str, Any], progress: Progress) -> RawData:
    """The 1,797 digits as flat 64-feature rows, pixels scaled to [0, 1]."""
    pixels, labels = _digits_arrays()
    return RawData(
        x=torch.from_numpy(pixels.copy()),
        y=torch.from_numpy(labels.copy()),
        task=Task.CLASSIFICATION,
        class_names=tuple(str(d) for d in range(10)),
        scale=1.0 / _DIGITS_MAX,
        image_shape=(8, 8),
    )


DATASET_TYPES = (
    DatasetType(
        name="digits",
        label="Digits (8×8, bundled)",
        description="1,797 real handwritten digits from scikit-learn, 8×8 pixels given as 64 features. "
        "Works offline; trains in seconds.",
        task=Task.CLASSIFICATION,
        params=(),
        load=load_digits,
    ),
)
