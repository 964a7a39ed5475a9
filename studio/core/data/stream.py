"""Streaming datasets (image folders): preprocessed subsets and one-pass training statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from studio.core.data.preprocess import Moments, Preprocessing
from studio.core.progress import Progress

_BATCH = 64


class PreprocessedSubset(Dataset[tuple[torch.Tensor, int]]):
    """The samples ``indices`` of ``base``, preprocessed on the fly; picklable for DataLoader workers."""

    def __init__(self, base: Dataset[Any], indices: np.ndarray, preprocessing: Preprocessing) -> None:
        self.base = base
        self.indices = np.asarray(indices, dtype=np.int64)
        self.preprocessing = preprocessing

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x, y = self.base[int(self.indices[i])]
        return self.preprocessing.apply(x), int(y)


def stream_moments(base: Dataset[Any], indices: np.ndarray, shape: tuple[int, ...], progress: Progress) -> Moments:
    """Moments of the samples ``indices`` of ``base``, read once, in order, with progress."""
    moments = Moments.empty(shape)
    n = len(indices)
    for start in range(0, n, _BATCH):
        batch = torch.stack([base[int(i)][0] for i in indices[start : start + _BATCH]])
        moments.add(batch)
        done = min(start + _BATCH, n)
        progress(done / n, f"Computing preprocessing statistics: {done} of {n} training images")
    return moments
