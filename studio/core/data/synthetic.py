"""Synthetic datasets for small, fast experiments: 2-D classification and 1-D regression.

Each is generated from its own ``seed`` parameter (the DataSpec's seed only drives the split),
so a learner can change the split without changing the points, or the other way round.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from studio.core.data.types import DatasetType, Loader, RawData
from studio.core.params import Param
from studio.core.progress import Progress
from studio.core.vocab import Task

Points = tuple[np.ndarray, np.ndarray]


def _size(default: int) -> Param:
    return Param("n_samples", "int", default, "How many points to generate.", min=10, max=200_000, label="size")


def _noise(default: float, help: str = "Standard deviation of the Gaussian noise added to the points.") -> Param:
    return Param("noise", "float", default, help, min=0.0, max=10.0)


SEED = Param("seed", "int", 0, "Seed of the generator: the same seed gives the same points.", min=0)


def _rng(p: dict[str, Any]) -> np.random.Generator:
    return np.random.default_rng(p["seed"])


def _moons(p: dict[str, Any]) -> Points:
    from sklearn.datasets import make_moons

    points: Points = make_moons(p["n_samples"], noise=p["noise"], random_state=p["seed"])
    return points


def _circles(p: dict[str, Any]) -> Points:
    from sklearn.datasets import make_circles

    points: Points = make_circles(p["n_samples"], noise=p["noise"], factor=p["factor"], random_state=p["seed"])
    return points


def _blobs(p: dict[str, Any]) -> Points:
    from sklearn.datasets import make_blobs

    points: Points = make_blobs(
        p["n_samples"], centers=p["classes"], cluster_std=p["noise"], center_box=(-5.0, 5.0), random_state=p["seed"]
    )
    return points


def _spirals(p: dict[str, Any]) -> Points:
    """Interleaved spiral arms, one per class, each turning ``turns`` times out from the centre."""
    rng, k, n = _rng(p), p["classes"], p["n_samples"]
    labels = np.arange(n) % k
    radius = rng.uniform(0.05, 1.0, n)
    angle = 2 * math.pi * (p["turns"] * radius + labels / k)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return points + rng.normal(0.0, p["noise"], points.shape), labels


def _xor(p: dict[str, Any]) -> Points:
    """Points in the square [-1, 1]²; the class is whether x and y have different signs."""
    rng = _rng(p)
    points = rng.uniform(-1.0, 1.0, (p["n_samples"], 2))
    labels = (points[:, 0] * points[:, 1] < 0).astype(np.int64)
    return points + rng.normal(0.0, p["noise"], points.shape), labels


def _curve(f: Callable[[np.ndarray], np.ndarray]) -> Callable[[dict[str, Any]], Points]:
    def make(p: dict[str, Any]) -> Points:
        rng = _rng(p)
        x = rng.uniform(-p["x_max"], p["x_max"], p["n_samples"])
        return x[:, None], (f(x) + rng.normal(0.0, p["noise"], x.shape))[:, None]

    return make


def _classification(
    make: Callable[[dict[str, Any]], Points], names: Callable[[dict[str, Any]], tuple[str, ...]]
) -> Loader:
    def load(params: dict[str, Any], progress: Progress) -> RawData:
        x, y = make(params)
        return RawData(
            x=torch.from_numpy(np.asarray(x, np.float32)),
            y=torch.from_numpy(np.asarray(y, np.int64)),
            task=Task.CLASSIFICATION,
            class_names=names(params),
        )

    return load


def _regression(make: Callable[[dict[str, Any]], Points]) -> Loader:
    def load(params: dict[str, Any], progress: Progress) -> RawData:
        x, y = make(params)
        return RawData(
            x=torch.from_numpy(np.asarray(x, np.float32)),
            y=torch.from_numpy(np.asarray(y, np.float32)),
            task=Task.REGRESSION,
            feature_names=("x",),
        )

    return load


def _fixed(*names: str) -> Callable[[dict[str, Any]], tuple[str, ...]]:
    return lambda params: names


def _numbered(word: str) -> Callable[[dict[str, Any]], tuple[str, ...]]:
    return lambda params: tuple(f"{word} {i + 1}" for i in range(params["classes"]))


def _classes(default: int, help: str) -> Param:
    return Param("classes", "int", default, help, min=2, max=10)


DATASET_TYPES = (
    DatasetType(
        "moons", "Two moons", "Two interleaving half circles: needs a curved boundary.", Task.CLASSIFICATION,
        (_size(1000), _noise(0.1), SEED), _classification(_moons, _fixed("upper", "lower")),
    ),
    DatasetType(
        "circles", "Circles", "A small circle inside a large one: not separable by a line.", Task.CLASSIFICATION,
        (_size(1000), _noise(0.05),
         Param("factor", "float", 0.5, "Radius of the inner circle relative to the outer one.", min=0.05, max=0.95),
         SEED),
        _classification(_circles, _fixed("outer", "inner")),
    ),
    DatasetType(
        "spirals", "Spirals", "Interleaved spiral arms, one per class: hard for small networks.", Task.CLASSIFICATION,
        (_size(1000), _noise(0.03), _classes(2, "Number of spiral arms (classes)."),
         Param("turns", "float", 1.0, "How many times each arm winds around the centre.", min=0.25, max=4.0),
         SEED),
        _classification(_spirals, _numbered("arm")),
    ),
    DatasetType(
        "xor", "XOR", "Four quadrants; the class is whether x and y have different signs.", Task.CLASSIFICATION,
        (_size(1000), _noise(0.05), SEED), _classification(_xor, _fixed("same sign", "different sign")),
    ),
    DatasetType(
        "blobs", "Gaussian blobs", "Round Gaussian clusters, one per class: the easy case.", Task.CLASSIFICATION,
        (_size(1000), _noise(1.0, "Standard deviation of each cluster."), _classes(3, "Number of clusters."), SEED),
        _classification(_blobs, _numbered("blob")),
    ),
    DatasetType(
        "quadratic", "Quadratic (y = x²)", "Regression: y = x² plus Gaussian noise, x uniform in ±x_max.",
        Task.REGRESSION,
        (_size(500), _noise(0.1, "Standard deviation of the noise added to y."),
         Param("x_max", "float", 2.0, "x is drawn uniformly from [-x_max, x_max].", min=0.1, max=100.0), SEED),
        _regression(_curve(np.square)),
    ),
    DatasetType(
        "sine", "Sine (y = sin x)", "Regression: y = sin(x) plus Gaussian noise, x uniform in ±x_max.",
        Task.REGRESSION,
        (_size(500), _noise(0.1, "Standard deviation of the noise added to y."),
         Param("x_max", "float", math.pi, "x is drawn uniformly from [-x_max, x_max].", min=0.1, max=100.0), SEED),
        _regression(_curve(np.sin)),
    ),
)
