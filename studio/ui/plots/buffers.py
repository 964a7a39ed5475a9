"""Growable numpy buffers for live curves, and the exponential moving average of the loss.

Appending to numpy arrays one by one would copy the whole curve each time; a buffer doubles its
capacity when full, so appends are amortised O(1) and ``setData`` gets contiguous views.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Series:
    """An (x, y) curve that grows; ``x`` and ``y`` are views of the filled part."""

    def __init__(self, capacity: int = 256) -> None:
        self._data = np.empty((2, capacity), dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def x(self) -> np.ndarray:
        return self._data[0, : self._size]

    @property
    def y(self) -> np.ndarray:
        return self._data[1, : self._size]

    def append(self, x: float, y: float) -> None:
        """Append one point (the per-layer statistics path: kept free of temporary arrays)."""
        self._reserve(self._size + 1)
        self._data[0, self._size] = x
        self._data[1, self._size] = y
        self._size += 1

    def extend(self, xs: Sequence[float] | np.ndarray, ys: Sequence[float] | np.ndarray) -> None:
        """Append many points at once (written straight into the buffer: no temporary arrays)."""
        needed = self._size + len(xs)
        if len(ys) != len(xs):
            raise ValueError(f"{len(xs)} x values but {len(ys)} y values")
        self._reserve(needed)
        self._data[0, self._size : needed] = xs
        self._data[1, self._size : needed] = ys
        self._size = needed

    def _reserve(self, needed: int) -> None:
        if needed > self._data.shape[1]:
            grown = np.empty((2, max(needed, 2 * self._data.shape[1])), dtype=np.float64)
            grown[:, : self._size] = self._data[:, : self._size]
            self._data = grown

    def clear(self) -> None:
        self._size = 0


def ema(values: np.ndarray, alpha: float, state: float = 0.0, weight: float = 1.0) -> tuple[np.ndarray, float, float]:
    """Debiased exponential moving average (as TensorBoard draws it); returns ``(smoothed, state, weight)``.

    Debiasing divides by ``1 - alpha**t`` so that the start of the curve is not pulled to zero.
    Pass the returned ``state`` and ``weight`` back in to continue the average over new values.
    """
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(np.asarray(values, dtype=np.float64).tolist()):
        state = alpha * state + (1.0 - alpha) * value
        weight *= alpha
        out[i] = state / (1.0 - weight)
    return out, state, weight


class SmoothedSeries(Series):
    """A series with a smoothed copy of ``y``, extended lazily when read (a few times a second)."""

    def __init__(self, alpha: float = 0.6, capacity: int = 1024) -> None:
        super().__init__(capacity)
        self._alpha = alpha
        self._smoothed = Series(capacity)
        self._state, self._weight = 0.0, 1.0

    @property
    def alpha(self) -> float:
        return self._alpha

    def set_alpha(self, alpha: float) -> None:
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {alpha}")
        if alpha != self._alpha:
            self._alpha = alpha
            self._reset_smoothing()

    def clear(self) -> None:
        super().clear()
        self._reset_smoothing()

    def _reset_smoothing(self) -> None:
        self._smoothed.clear()
        self._state, self._weight = 0.0, 1.0

    @property
    def smoothed(self) -> np.ndarray:
        """The smoothed ``y``; only values added since the last read are computed."""
        done = len(self._smoothed)
        if done < len(self):
            new_x = self.x[done:]
            values, self._state, self._weight = ema(self.y[done:], self._alpha, self._state, self._weight)
            self._smoothed.extend(new_x, values)
        return self._smoothed.y
