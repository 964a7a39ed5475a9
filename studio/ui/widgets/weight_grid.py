"""A grid for typing one layer's starting weights and biases (the ``values`` initialisation).

One row per output, one column per input and a last column for the bias, the way a hand calculation
writes them (a Conv2d's filter is one row, its weights in channel, row, column order). Layers with
more than :data:`MAX_CELLS` numbers are not typed by hand: the grid gives way to "load from a file"
(a CSV with the same rows and columns, or JSON ``{"weight": ..., "bias": ...}``).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

MAX_CELLS = 400  # a few hundred numbers can be typed; more come from a file
MAX_TABLE_HEIGHT = 320  # pixels; taller grids scroll

Shape = tuple[int, ...]


def _prod(shape: Shape) -> int:
    return math.prod(shape) if shape else 1


def _flat(values: Any) -> list[float]:
    return [v for item in values for v in _flat(item)] if isinstance(values, list) else [float(values)]


def _nest(flat: list[float], shape: Shape) -> Any:
    """The inverse of :func:`_flat` for a tensor of ``shape``."""
    if len(shape) <= 1:
        return flat
    step = _prod(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _number_text(value: float) -> str:
    return f"{value:.6g}"


class WeightGrid(QWidget):
    """Edits ``{"weight": nested list, "bias": list}`` for weights of a known shape; ``changed(values)`` per edit."""

    changed = Signal(dict)

    def __init__(self, choose_file: Callable[[], str | None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weightGrid")
        self._choose_file = choose_file or self._ask_for_file
        self._weight_shape: Shape = ()
        self._bias_shape: Shape | None = None
        self._updating = False
        self.table = QTableWidget()
        self.table.setObjectName("weightGridTable")
        self.table.setAccessibleName("Starting weights: one row per output, the bias last")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.note = QLabel()
        self.note.setObjectName("weightGridNote")
        self.note.setWordWrap(True)
        self.note.setProperty("role", "hint")
        self.error = QLabel()
        self.error.setObjectName("weightGridError")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        self.error.hide()
        self.load_button = QPushButton("Load from a file…")
        self.load_button.setObjectName("weightGridLoad")
        self.load_button.setAccessibleName("Load starting weights from a file")
        self.load_button.setToolTip('A CSV with one row per output (its weights, then the bias), or JSON '
                                    '{"weight": [[...]], "bias": [...]}')
        buttons = QHBoxLayout()
        buttons.addWidget(self.load_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.table.itemChanged.connect(self._cell_edited)
        self.load_button.clicked.connect(self._load_clicked)

    # -- public API ---------------------------------------------------------------------------------

    def show_values(self, shapes: dict[str, Shape] | None, values: dict[str, Any]) -> None:
        """Show ``values`` in a grid of ``shapes`` (``{"weight": (out, in), "bias": (out,)}``); no signal.

        Without shapes (no data yet) or with values of another shape, the grid takes the values' own shape.
        """
        weight = values.get("weight")
        bias = values.get("bias")
        shapes = shapes or {}
        self._weight_shape = tuple(shapes.get("weight") or _shape_of(weight) or (0, 0))
        self._bias_shape = shapes.get("bias") if shapes else (_shape_of(bias) if bias is not None else None)
        count = _prod(self._weight_shape) + (_prod(self._bias_shape) if self._bias_shape else 0)
        too_many = count > MAX_CELLS
        self.table.setVisible(not too_many)
        self.note.setText(self._note(count, too_many))
        self.error.hide()
        if not too_many:
            self._fill(weight, bias)

    def values(self) -> dict[str, Any]:
        """What the grid holds, shaped like the layer's weight and bias."""
        rows, columns = self.table.rowCount(), self._columns()
        weights = [self._cell(r, c) for r in range(rows) for c in range(columns)]
        out: dict[str, Any] = {"weight": _nest(weights, self._weight_shape)}
        if self._bias_shape is not None:
            out["bias"] = [self._cell(r, columns) for r in range(rows)]
        return out

    def load_file(self, path: str | Path) -> bool:
        """Read weights (and bias) from ``path`` and emit them; a problem shows under the grid."""
        try:
            values = self._read(Path(path))
        except (OSError, ValueError, csv.Error) as exc:
            self._show_error(f"Cannot read {Path(path).name}: {exc}")
            return False
        self.changed.emit(values)
        return True

    def set_locked(self, locked: bool) -> None:
        self.table.setEnabled(not locked)
        self.load_button.setEnabled(not locked)

    # -- the grid -----------------------------------------------------------------------------------

    def _columns(self) -> int:
        return _prod(self._weight_shape[1:]) if len(self._weight_shape) > 1 else 1

    def _fill(self, weight: Any, bias: Any) -> None:
        rows, columns = (self._weight_shape[0] if self._weight_shape else 0), self._columns()
        flat = _flat(weight) if isinstance(weight, list) else []
        if len(flat) != rows * columns:
            flat = [0.0] * (rows * columns)  # values of another shape: start this shape from zeros
        biases = _flat(bias) if isinstance(bias, list) and len(_flat(bias)) == rows else [0.0] * rows
        self._updating = True
        try:
            self.table.setRowCount(rows)
            self.table.setColumnCount(columns + (1 if self._bias_shape is not None else 0))
            headers = [f"in {c + 1}" for c in range(columns)] + (["bias"] if self._bias_shape is not None else [])
            self.table.setHorizontalHeaderLabels(headers)
            self.table.setVerticalHeaderLabels([f"out {r + 1}" for r in range(rows)])
            for r in range(rows):
                for c in range(columns):
                    self._set_cell(r, c, flat[r * columns + c])
                if self._bias_shape is not None:
                    self._set_cell(r, columns, biases[r])
        finally:
            self._updating = False
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as its rows (a perceptron's one row takes one line), scrolling beyond a few dozen."""
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        frame = 2 * self.table.frameWidth() + self.table.horizontalHeader().sizeHint().height()
        scroll = self.table.horizontalScrollBar().sizeHint().height()
        self.table.setFixedHeight(min(MAX_TABLE_HEIGHT, rows + frame + scroll))

    def _set_cell(self, row: int, column: int, value: float) -> None:
        item = QTableWidgetItem(_number_text(value))
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setItem(row, column, item)

    def _cell(self, row: int, column: int) -> float:
        item = self.table.item(row, column)
        return float(item.text()) if item is not None else 0.0

    def _cell_edited(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        try:
            value = float(item.text().replace(",", "."))
            if not math.isfinite(value):
                raise ValueError(item.text())
        except ValueError:
            self._show_error(f"{item.text()!r} is not a number; type a number such as -0.5")
            return
        self.error.hide()
        self.changed.emit(self.values())

    def _note(self, count: int, too_many: bool) -> str:
        shape = "×".join(str(d) for d in self._weight_shape)
        bias = " plus a bias per output" if self._bias_shape is not None else ""
        if too_many:
            return (f"This layer has {count:,} starting values ({shape} weights{bias}): too many to type here. "
                    "Load them from a file.")
        return f"Starting weights {shape}{bias}: one row per output, one column per input."

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    # -- files ----------------------------------------------------------------------------------------

    def _load_clicked(self) -> None:
        path = self._choose_file()
        if path:
            self.load_file(path)

    def _ask_for_file(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Load starting weights", "",
                                              "Weights (*.csv *.json);;All files (*)")
        return path or None

    def _read(self, path: Path) -> dict[str, Any]:
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix.lower() == ".json":
            data = json.loads(text)
            if not isinstance(data, dict) or "weight" not in data:
                raise ValueError('expected {"weight": [[...]], "bias": [...]}')
            return {k: data[k] for k in ("weight", "bias") if k in data}
        rows = [[float(cell) for cell in row if cell.strip()] for row in csv.reader(text.splitlines()) if row]
        columns = self._columns()
        with_bias = self._bias_shape is not None and rows and len(rows[0]) == columns + 1
        weights = [row[:columns] for row in rows]
        values: dict[str, Any] = {"weight": _nest(_flat(weights), self._weight_shape) if len(self._weight_shape) > 2
                                  else weights}
        if with_bias:
            values["bias"] = [row[columns] for row in rows]
        return values


def _shape_of(values: Any) -> Shape | None:
    if not isinstance(values, list):
        return None
    return (len(values), *(_shape_of(values[0]) or ())) if values else (0,)
