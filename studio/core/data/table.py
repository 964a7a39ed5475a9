"""A tiny table typed into the project itself: a few rows of numbers and a class, for hand-checkable lessons.

The classic perceptron exercise needs a handful of 2-feature points whose every update a learner can
compute on paper; a file would have to travel with the project, so the rows live in the ``rows``
parameter as text (``"x1, x2, class; x1, x2, class; ..."``).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from studio.core.data.types import DatasetType, RawData
from studio.core.errors import DatasetError
from studio.core.params import Param
from studio.core.progress import Progress
from studio.core.vocab import Task

# Linearly separable (the class is the sign of x1), with points that start on the wrong side of the
# perceptron preset's constant initial weights, so the first pass makes updates worth checking by hand.
DEFAULT_ROWS = "1, -2, 1; -1, 2, -1; 2, 1, 1; -2, -1, -1; 0.5, -1.5, 1; -1.5, 0.5, -1"


def _parse(text: str) -> tuple[list[list[float]], list[str]]:
    """Rows separated by ``;`` or new lines, values by ``,``; the last value of a row is its class."""
    rows = [row.strip() for row in text.replace("\n", ";").split(";") if row.strip()]
    if len(rows) < 2:
        raise DatasetError("the table needs at least two rows like '1, 2, 1; -1, 0, -1'")
    features: list[list[float]] = []
    labels: list[str] = []
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row.split(",")]
        if len(cells) < 2:
            raise DatasetError(f"table row {number} ({row!r}) needs at least one feature and a class")
        if features and len(cells) - 1 != len(features[0]):
            raise DatasetError(f"table row {number} has {len(cells) - 1} features, row 1 has {len(features[0])}")
        try:
            values = [float(cell) for cell in cells[:-1]]
        except ValueError:
            raise DatasetError(f"table row {number} ({row!r}): features must be numbers") from None
        if not all(math.isfinite(v) for v in values):
            raise DatasetError(f"table row {number} ({row!r}): features must be finite numbers")
        features.append(values)
        labels.append(cells[-1])
    return features, labels


def _class_names(labels: list[str]) -> tuple[str, ...]:
    """Distinct classes, numeric order when they are numbers ("-1" before "1", as the perceptron's signs)."""
    try:
        return tuple(sorted(set(labels), key=float))
    except ValueError:
        return tuple(sorted(set(labels)))


def load_table(params: dict[str, Any], progress: Progress) -> RawData:
    features, labels = _parse(params["rows"])
    names = _class_names(labels)
    if len(names) < 2:
        raise DatasetError("the table's last column holds only one class; it needs at least two")
    index = {name: i for i, name in enumerate(names)}
    x = torch.tensor(features, dtype=torch.float32)
    y = torch.tensor([index[label] for label in labels], dtype=torch.int64)
    return RawData(x, y, Task.CLASSIFICATION, names, feature_names=tuple(f"x{i + 1}" for i in range(x.shape[1])))


DATASET_TYPES = (
    DatasetType(
        name="table",
        label="Small table (typed in)",
        description="A few rows typed into the project: numbers, then the class last. For lessons small enough "
        "to check by hand, like the perceptron learning rule.",
        task=Task.CLASSIFICATION,
        params=(Param("rows", "str", DEFAULT_ROWS, "Rows separated by ';', values by ','; the last value of each "
                      "row is its class (e.g. -1 or 1)."),),
        load=load_table,
        ordered=True,
    ),
)
