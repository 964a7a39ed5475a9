"""Input preprocessing: which statistics to learn from the training split and how to apply them.

Every preprocessing is "subtract a mean, maybe divide by a std"; the entries of
:data:`PREPROCESSINGS` differ only in which statistics they keep, so one :class:`Preprocessing`
object serves training, the drawing pad and exported model cards alike. Statistics are
computed in float64 from per-element sums (:class:`Moments`), which can be filled in one pass
over a stream of batches (image folders) as well as from an in-memory tensor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from studio.core.errors import ProjectFileError
from studio.core.registry import Registry

# A feature whose spread is below this is treated as constant and left unscaled (as scikit-learn's
# StandardScaler does): dividing by ~0 would blow up any new input that differs from the data.
_MIN_STD = 1e-6
# Sums of small chunks are taken in float32 (exact enough for 512 values) and accumulated in float64:
# 2.4x faster than converting every chunk to float64 (CIFAR-10: 1.4 s instead of 3.4 s on 2 cores).
_CHUNK = 512


@dataclass
class Moments:
    """Per-element count, sum and sum of squares (float64) of the samples seen so far."""

    count: int
    total: np.ndarray
    squares: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> Moments:
        return cls(0, np.zeros(shape, np.float64), np.zeros(shape, np.float64))

    @classmethod
    def of(cls, x: torch.Tensor) -> Moments:
        """The moments of a batch ``x`` of shape (N, *sample_shape), in chunks to bound memory."""
        moments = cls.empty(tuple(x.shape[1:]))
        for start in range(0, len(x), _CHUNK):
            moments.add(x[start : start + _CHUNK])
        return moments

    def add(self, batch: torch.Tensor) -> None:
        """Accumulate a batch of shape (N, *sample_shape)."""
        b = batch.detach().to("cpu", torch.float32)
        self.count += len(b)
        self.total += b.sum(0).double().numpy()
        self.squares += b.square().sum(0).double().numpy()

    @property
    def mean(self) -> np.ndarray:
        return self.total / max(self.count, 1)

    @property
    def std(self) -> np.ndarray:
        var = self.squares / max(self.count, 1) - self.mean**2
        std: np.ndarray = np.sqrt(np.maximum(var, 0.0))
        return std


Stats = tuple[np.ndarray | None, np.ndarray | None]


def _standardize(m: Moments) -> Stats:
    std = m.std
    return m.mean, np.where(std < _MIN_STD, 1.0, std)


def _pixel_mean(m: Moments) -> Stats:
    return m.mean, None


def _channel_mean(m: Moments) -> Stats:
    # Images (C, H, W) get one mean per channel; anything else is a single channel.
    mean = m.mean
    if mean.ndim == 3:
        return mean.mean(axis=(1, 2), keepdims=True), None
    return np.array([mean.mean()]), None


@dataclass(frozen=True)
class PreprocessingType:
    """One entry of :data:`PREPROCESSINGS`; ``fit`` None means no statistics are needed."""

    name: str
    label: str
    description: str
    fit: Callable[[Moments], Stats] | None


PREPROCESSINGS: Registry[PreprocessingType] = Registry("preprocessing")
for _entry in (
    PreprocessingType("none", "None", "Feed the raw values (pixels in [0, 1]).", None),
    PreprocessingType(
        "standardize",
        "Standardise",
        "Subtract each input's mean and divide by its standard deviation (per feature / per pixel).",
        _standardize,
    ),
    PreprocessingType("pixel_mean", "Per-pixel mean", "Subtract the mean image (per pixel).", _pixel_mean),
    PreprocessingType(
        "channel_mean", "Per-channel mean", "Subtract one mean per colour channel.", _channel_mean
    ),
):
    PREPROCESSINGS.register(_entry.name, _entry)


@dataclass
class Preprocessing:
    """A fitted preprocessing: ``(x - mean) / std`` with the statistics of the training split."""

    name: str
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    @classmethod
    def fit(cls, name: str, moments: Callable[[], Moments]) -> Preprocessing:
        """Fit preprocessing ``name``; ``moments`` is called only when statistics are needed."""
        kind = PREPROCESSINGS.get(name)
        if kind.fit is None:
            return cls(name)
        mean, std = kind.fit(moments())
        return cls(name, _f32(mean), _f32(std))

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Return preprocessed float32 ``x`` (one sample or a batch); ``x`` itself is untouched."""
        return self.apply_(x.to(torch.float32).clone())

    def apply_(self, x: torch.Tensor) -> torch.Tensor:
        """Preprocess float32 ``x`` in place (saves a copy of a large training set)."""
        if self.mean is not None:
            x.sub_(torch.as_tensor(self.mean, device=x.device))
        if self.std is not None:
            x.div_(torch.as_tensor(self.std, device=x.device))
        return x

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: statistics as nested lists."""
        return {
            "name": self.name,
            "mean": None if self.mean is None else self.mean.tolist(),
            "std": None if self.std is None else self.std.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Preprocessing:
        """Rebuild from :meth:`to_dict`; a malformed entry raises :class:`ProjectFileError`."""
        try:
            name = data["name"]
            if name not in PREPROCESSINGS:
                raise ValueError(f"unknown preprocessing {name!r}")
            return cls(name, _f32(_array(data.get("mean"))), _f32(_array(data.get("std"))))
        except (TypeError, ValueError, KeyError) as exc:
            raise ProjectFileError(f"the preprocessing record is not valid: {exc}") from None


def _array(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=np.float64)


def _f32(value: np.ndarray | None) -> np.ndarray | None:
    return None if value is None else np.ascontiguousarray(value, dtype=np.float32)
