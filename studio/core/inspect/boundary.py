"""What a network makes of its input space: 2-D decision boundaries and regression fits.

Grids and points are in the data's own (raw) coordinates, the ones the learner knows from the
data preview; the grid is preprocessed exactly like the training data before the network sees it.
A 100 x 100 grid is one batch of 10,000 rows: a few milliseconds for the small networks that
2-D sets are made for, so it can run inside the training thread every few steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from studio.core.data import PreparedData
from studio.core.inspect.snapshot import batched, class_probabilities, device_of, model_outputs, raw_values
from studio.core.vocab import Task

RESOLUTION = 100
CURVE_POINTS = 200
MARGIN = 0.1  # of the data's range on each side, so points never sit on the edge of the picture

Extent = tuple[float, float, float, float]  # x_min, x_max, y_min, y_max


def is_planar(data: PreparedData) -> bool:
    """True for classification on 2-D points: the sets whose boundary can be drawn."""
    return data.task == Task.CLASSIFICATION and tuple(data.input_shape) == (2,) and not data.streaming


def is_curve(data: PreparedData) -> bool:
    """True for regression from one input to one target: the fit can be drawn as a curve."""
    return data.task == Task.REGRESSION and tuple(data.input_shape) == (1,) and data.target_dim == 1


@dataclass(frozen=True)
class PointSet:
    """The training and validation points in raw coordinates, with their classes and the classes' names."""

    train: np.ndarray
    train_labels: np.ndarray
    val: np.ndarray
    val_labels: np.ndarray
    class_names: tuple[str, ...] = ()

    def extent(self, margin: float = MARGIN) -> Extent:
        points = np.concatenate([self.train, self.val]) if len(self.val) else self.train
        low, high = points.min(0), points.max(0)
        pad = np.maximum(high - low, 1e-3) * margin
        return float(low[0] - pad[0]), float(high[0] + pad[0]), float(low[1] - pad[1]), float(high[1] + pad[1])


def point_set(data: PreparedData) -> PointSet:
    """The 2-D points of ``data`` (in-memory) back in raw coordinates."""
    prep = data.preprocessing
    val = np.zeros((0, 2), np.float32) if data.x_val is None else raw_values(prep, data.x_val.numpy())
    val_labels = np.zeros(0, np.int64) if data.y_val is None else data.y_val.numpy()
    x, y = data.tensors("train")
    return PointSet(raw_values(prep, x.numpy()), y.numpy(), val, val_labels, data.class_names)


@dataclass(frozen=True)
class BoundaryGrid:
    """Class probabilities over a grid: ``probabilities[row, column, class]``, row 0 at ``y_min``."""

    extent: Extent
    probabilities: np.ndarray
    step: int = 0
    epoch: int = 0

    @property
    def classes(self) -> np.ndarray:
        """The predicted class of each grid cell (argmax of the probabilities)."""
        classes: np.ndarray = self.probabilities.argmax(-1)
        return classes


def grid_points(extent: Extent, resolution: int = RESOLUTION) -> np.ndarray:
    """(resolution², 2) raw coordinates, row-major with y growing along the rows."""
    xs = np.linspace(extent[0], extent[1], resolution, dtype=np.float32)
    ys = np.linspace(extent[2], extent[3], resolution, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def boundary_grid(
    model: nn.Module, data: PreparedData, loss_name: str, extent: Extent, resolution: int = RESOLUTION,
    step: int = 0, epoch: int = 0,
) -> BoundaryGrid:
    """Class probabilities of ``model`` (on its device) at every grid point of ``extent``."""
    x = data.preprocessing.apply(torch.from_numpy(grid_points(extent, resolution)))
    output = model_outputs(model, batched(x, device_of(model), resolution * resolution))
    probabilities = class_probabilities(output, loss_name).numpy()
    return BoundaryGrid(extent, probabilities.reshape(resolution, resolution, -1), step, epoch)


@dataclass(frozen=True)
class RegressionFit:
    """Predicted against true targets on the inspected split; for 1-D data also the fitted curve.

    ``true``/``predicted`` are (N, targets). ``x`` holds the samples' raw input and ``curve_x``/
    ``curve_y`` the network's output over the input range, only when :func:`is_curve` holds.
    """

    true: np.ndarray
    predicted: np.ndarray
    x: np.ndarray | None = None
    curve_x: np.ndarray | None = None
    curve_y: np.ndarray | None = None
    step: int = 0
    epoch: int = 0

    @property
    def r2(self) -> float:
        """Coefficient of determination over all targets (1 is a perfect fit, 0 predicts the mean)."""
        residual = float(((self.true - self.predicted) ** 2).sum())
        spread = float(((self.true - self.true.mean(0)) ** 2).sum())
        return 1.0 - residual / spread if spread > 0 else float("nan")


def regression_fit(model: nn.Module, data: PreparedData, step: int = 0, epoch: int = 0) -> RegressionFit:
    """Predictions of ``model`` (on its device) on the validation split (training split without one)."""
    x, y = data.tensors("val" if data.n_val else "train")
    device = device_of(model)
    predicted = model_outputs(model, batched(x, device)).numpy().reshape(len(y), -1)
    true = y.numpy().reshape(len(y), -1)
    if not is_curve(data):
        return RegressionFit(true, predicted, step=step, epoch=epoch)
    prep = data.preprocessing
    train_raw = raw_values(prep, data.tensors("train")[0].numpy())[:, 0]
    low, high = float(train_raw.min()), float(train_raw.max())
    curve_x = np.linspace(low, high, CURVE_POINTS, dtype=np.float32)
    curve_in = prep.apply(torch.from_numpy(curve_x[:, None]))
    curve_y = model_outputs(model, batched(curve_in, device)).numpy()[:, 0]
    return RegressionFit(true, predicted, raw_values(prep, x.numpy())[:, 0], curve_x, curve_y, step, epoch)
