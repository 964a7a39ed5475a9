"""New inputs for a saved model, from files: rows of a CSV file, an image file, or a folder of images.

Every input takes the training data's path (see :mod:`studio.core.inspect.predict`): values in the
dataset's raw range, laid out like the network's input, then the training split's preprocessing.
A CSV file holds one sample per row, as many numbers as the network has inputs; a header row is
optional, and a CSV in the training file's layout works too (its label column is skipped).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from studio.core.data import Preprocessing, preview
from studio.core.data.csv_file import CSV_FILE_LIMIT
from studio.core.errors import DatasetError, StudioError
from studio.core.export.source import ExportSource
from studio.core.inspect.predict import DARK, load_image, pixels_to_input
from studio.core.inspect.readout import Readout, read_outputs
from studio.core.inspect.snapshot import image_shape_of, raw_values, to_images
from studio.core.io import file_size, read_bounded

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class Named:
    """One raw input (input layout, raw range) and how to name it in the output (``row 3``, a file name)."""

    name: str
    raw: Tensor


def predict_files(source: ExportSource, path: str | os.PathLike[str]) -> list[tuple[str, Readout]]:
    """Read ``path`` (CSV, image or folder of images) and the model's readout for each input, in order."""
    inputs = read_inputs(source, Path(path))
    preprocessing = Preprocessing.from_dict(source.info.preprocessing or {"name": "none"})
    x = preprocessing.apply(torch.stack([item.raw for item in inputs])) if inputs else torch.zeros(0)
    names = tuple(source.info.class_names)
    readouts = read_outputs(source.model, x, source.info.task, source.project.loss.name, names) if inputs else []
    return [(item.name, readout) for item, readout in zip(inputs, readouts, strict=True)]


def read_inputs(source: ExportSource, path: Path) -> list[Named]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DatasetError(f"{path} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
        return _images(source, files)
    file_size(path, "input file", DatasetError)  # a device, pipe or missing file is refused before reading
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return _images(source, [path])
    return _csv_rows(source, path)


def _images(source: ExportSource, files: list[Path]) -> list[Named]:
    shape = _image_shape(source)
    dark = _dark_background(source, shape)
    return [Named(file.name, pixels_to_input(load_image(file, shape, dark), source.info.input_shape))
            for file in files]


def _image_shape(source: ExportSource) -> tuple[int, ...]:
    try:
        shape = image_shape_of(source.project.data, source.info.input_shape)
    except StudioError:
        shape = None
    if shape is None:
        raise DatasetError("this model's inputs are not pictures: give a CSV file with one sample per row")
    return shape


def _dark_background(source: ExportSource, shape: tuple[int, ...]) -> bool:
    """Light ink on black, like the training pictures (digits, MNIST)? From saved inputs, else the dataset."""
    pictures: np.ndarray | None = None
    if source.sample_inputs is not None:
        prep = Preprocessing.from_dict(source.info.preprocessing or {"name": "none"})
        pictures = to_images(raw_values(prep, source.sample_inputs.numpy()), shape)
    else:
        try:
            sample = preview(source.project.data, 16)
        except StudioError:
            return False
        pictures = sample.data if sample.kind == "images" else None
    if pictures is None or not len(pictures):
        return False
    edges = (pictures[:, :2], pictures[:, -2:], pictures[:, :, :2], pictures[:, :, -2:])
    return float(np.mean([edge.mean() for edge in edges])) < DARK


def _csv_rows(source: ExportSource, path: Path) -> list[Named]:
    shape = source.info.input_shape
    if len(shape) != 1:
        raise DatasetError("this model takes pictures: give an image file or a folder of images, not a CSV file")
    width = shape[0]
    rows = _read_csv(path)
    header, skip = _header(rows[0], width, source)
    body = rows[1:] if header else rows
    first_line = 2 if header else 1
    inputs = []
    for offset, row in enumerate(body):
        line = first_line + offset
        cells = [cell for i, cell in enumerate(row) if i != skip]
        if len(cells) != width:
            raise DatasetError(f"{path.name}, line {line}: {len(cells)} values, but the model takes {width} "
                               f"input{'s' if width != 1 else ''} per row")
        inputs.append(Named(f"row {offset + 1}", torch.tensor([_number(c, path, line) for c in cells])))
    if not inputs:
        raise DatasetError(f"{path} has no rows to predict")
    return inputs


def _read_csv(path: Path) -> list[list[str]]:
    try:
        text = read_bounded(path, CSV_FILE_LIMIT, "CSV file", DatasetError).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"cannot read {path} as a CSV file ({exc})") from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [[cell.strip() for cell in row] for row in csv.reader(text.splitlines(), dialect)
            if any(cell.strip() for cell in row)]
    if not rows:
        raise DatasetError(f"{path} is empty")
    return rows


def _header(first: list[str], width: int, source: ExportSource) -> tuple[bool, int | None]:
    """Whether the first row names the columns (no cell is a number), and which column to skip (the
    training file's label column, when the header has one column more than the network has inputs)."""
    if any(_is_number(cell) for cell in first):
        return False, None
    if len(first) != width + 1:
        return True, None
    label = str(source.project.data.params.get("label_column") or "")
    return True, first.index(label) if label in first else len(first) - 1


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _number(cell: str, path: Path, line: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DatasetError(f"{path.name}, line {line}: {cell!r} is not a number")
    return value
