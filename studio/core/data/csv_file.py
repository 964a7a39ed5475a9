"""A CSV file: a header row, numeric feature columns and one label column (class or number).

Read with the standard ``csv`` module (quoting, ``,``/``;``/tab delimiters) so a learner's
spreadsheet export just works; every problem names the row and column to fix.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.data.types import DatasetType, Progress, RawData
from studio.core.errors import ConfigError, DatasetError
from studio.core.io import MB, read_bounded
from studio.core.params import Param

_PROGRESS_EVERY = 5000
# Larger tables do not fit the in-memory training this reader feeds (use an image folder instead).
CSV_FILE_LIMIT = 1024 * MB

PARAMS = (
    Param("path", "path", "", "The CSV file: a header row, then one sample per row.", label="file"),
    Param(
        "label_column", "str", "", "Name of the column to predict; empty means the last column.", label="label column"
    ),
    Param("task", "choice", "classification", "classification: the label is a class (any text or number);"
          " regression: the label is a number to predict.", choices=("classification", "regression")),
)


def _read_rows(params: dict[str, Any]) -> tuple[Path, list[str], list[list[str]]]:
    if not params["path"]:
        raise DatasetError("choose a CSV file")
    path = Path(os.path.expanduser(params["path"]))
    try:
        text = read_bounded(path, CSV_FILE_LIMIT, "CSV file", DatasetError).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"cannot read CSV file {path}: {exc}") from None
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(text.splitlines(), dialect) if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise DatasetError(f"{path} needs a header row and at least one data row")
    return path, [name.strip() for name in rows[0]], rows[1:]


def _label_index(header: list[str], wanted: str) -> int:
    if not wanted:
        return len(header) - 1
    if wanted not in header:
        columns = ", ".join(header)
        raise ConfigError(f"column {wanted!r} is not in the CSV file; its columns are: {columns}", field="label_column")
    return header.index(wanted)


def _number(cell: str, path: Path, line: int, column: str, rule: str = "features must be numeric") -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        shown = repr(cell) if cell.strip() else "empty"
        raise DatasetError(f"{path.name}, line {line}, column {column!r}: {shown} is not a number; {rule}")
    return value


def _class_names(labels: list[str]) -> tuple[str, ...]:
    """Distinct labels, in numeric order when they are all numbers (so "2" comes before "10")."""
    distinct = set(labels)
    try:
        return tuple(sorted(distinct, key=float))
    except ValueError:
        return tuple(sorted(distinct))


def load_csv(params: dict[str, Any], progress: Progress) -> RawData:
    """Features as float32 rows; labels as class indices or float32 targets, by the ``task`` parameter."""
    path, header, rows = _read_rows(params)
    target = _label_index(header, params["label_column"])
    features = [i for i in range(len(header)) if i != target]
    if not features:
        raise DatasetError(f"{path.name} has no feature columns besides the label column {header[target]!r}")
    x = np.empty((len(rows), len(features)), np.float32)
    labels: list[str] = []
    for r, row in enumerate(rows):
        line = r + 2
        if len(row) != len(header):
            raise DatasetError(f"{path.name}, line {line}: {len(row)} values, but the header has {len(header)} columns")
        x[r] = [_number(row[i], path, line, header[i]) for i in features]
        labels.append(row[target].strip())
        if r % _PROGRESS_EVERY == 0:
            progress(r / len(rows), f"Reading {path.name}: row {r + 1} of {len(rows)}")
    progress(1.0, f"Read {len(rows)} rows from {path.name}")
    names = tuple(header[i] for i in features)
    if params["task"] == "regression":
        rule = "a regression label must be a number"
        y = np.array([_number(v, path, r + 2, header[target], rule) for r, v in enumerate(labels)], np.float32)[:, None]
        return RawData(torch.from_numpy(x), torch.from_numpy(y), "regression", feature_names=names)
    classes = _class_names(labels)
    if len(classes) < 2:
        raise DatasetError(f"the label column {header[target]!r} of {path.name} holds only one class; it needs two")
    index = {name: i for i, name in enumerate(classes)}
    y = torch.tensor([index[v] for v in labels], dtype=torch.int64)
    return RawData(torch.from_numpy(x), y, "classification", classes, feature_names=names)


DATASET_TYPES = (
    DatasetType(
        name="csv",
        label="CSV file",
        description="A table of numbers: one row per sample, numeric feature columns and a label column.",
        task="classification",
        params=PARAMS,
        load=load_csv,
        ordered=True,
    ),
)
