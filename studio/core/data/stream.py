"""Streaming datasets (image folders): preprocessed subsets and one-pass training statistics.

A dataset that can copy whole batches of uint8 pixels out of a cache (a :class:`PixelSource`, the
image folder's) lets its subsets hand batches to the engine as pixels, which become floats and are
preprocessed on the training device (``engine/batching.py: PixelBatches``); any other dataset is read
sample by sample through a DataLoader.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch.utils.data import Dataset

from studio.core.data.preprocess import Moments, Preprocessing
from studio.core.progress import Progress

_BATCH = 64
_PIXEL_CHUNK = 256


@runtime_checkable
class PixelSource(Protocol):
    """A dataset whose samples can be read in batches as uint8 pixels (C, H, W), with every sample's class."""

    targets: np.ndarray

    def read(self, indices: np.ndarray) -> torch.Tensor: ...


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

    @property
    def pixels(self) -> bool:
        """Whether :meth:`read` works: the base dataset copies batches of pixels out of a cache."""
        return isinstance(self.base, PixelSource)

    def read(self, positions: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """The samples at ``positions`` of this subset: (uint8 pixels (n, C, H, W), int64 classes), not preprocessed."""
        assert isinstance(self.base, PixelSource)
        picks = self.indices[positions]
        return self.base.read(picks), torch.from_numpy(self.base.targets[picks])


def stream_moments(base: Dataset[Any], indices: np.ndarray, shape: tuple[int, ...], progress: Progress) -> Moments:
    """Moments of the samples ``indices`` of ``base``, read once, in order, with progress."""
    moments = Moments.empty(shape)
    n = len(indices)
    if isinstance(base, PixelSource):
        for start in range(0, n, _PIXEL_CHUNK):
            moments.add(base.read(indices[start : start + _PIXEL_CHUNK]).to(torch.float32).div_(255))
            done = min(start + _PIXEL_CHUNK, n)
            progress(done / n, f"Computing preprocessing statistics: {done:,} of {n:,} training images")
        return moments
    for start in range(0, n, _BATCH):
        batch = torch.stack([base[int(i)][0] for i in indices[start : start + _BATCH]])
        moments.add(batch)
        done = min(start + _BATCH, n)
        progress(done / n, f"Computing preprocessing statistics: {done} of {n} training images")
    return moments
