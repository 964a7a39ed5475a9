"""Sweep: a grid over one or two settings of the project (any key path), every cell a real run, repeated
with other seeds; a heat map of the final metric, and a click on a cell shows that cell's curves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLineEdit,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.lab.grid import (
    LOWER_IS_BETTER,
    METRICS,
    Axis,
    Cell,
    GridResult,
    cell_label,
    grid_sweep,
    parse_axis,
    plan,
)
from studio.ui.lab.controls import RunBar, named, wrapping_label
from studio.ui.lab.curves import TaggedCurves, accuracy_plot, loss_plot
from studio.ui.lab.runner import ExperimentRunner
from studio.ui.lab.source import LabSource
from studio.ui.workers import Worker

INTRO = ("Train a grid of real runs over one or two settings of your project, named by their path in the project "
         "file: optimizer.params.lr=0.001,0.01,0.1 or model.layers[0].params.times=2,4,8 (the depth of a Repeat "
         "block). Each cell runs once per seed; the map shows the mean of the final metric, the tooltip the spread "
         "over seeds. Click a cell to see its curves.")
BEST, WORST, DIVERGED = QColor("#1a9850"), QColor("#f7f7f7"), QColor("#d73027")


def shade(fraction: float) -> QColor:
    """From the worst cell (near white) to the best (green) on a linear scale."""
    t = min(max(fraction, 0.0), 1.0)
    mix = [round(WORST.red() + t * (BEST.red() - WORST.red())), round(WORST.green() + t * (BEST.green() -
           WORST.green())), round(WORST.blue() + t * (BEST.blue() - WORST.blue()))]
    return QColor(*mix)


class SweepPanel(QWidget):
    """Two settings (the second optional), repeats and epochs; Run; the heat map; the chosen cell's curves."""

    def __init__(self, worker: Worker, source: LabSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "sweepPanel", "Sweep over one or two settings")
        self.source = source
        self.result: GridResult | None = None
        self.runner = ExperimentRunner(worker, "Sweep", self)
        self.run_bar = RunBar(self.runner, "Run sweep", "sweepRunButton", "Train every cell of the grid on the "
                              "current project.", "sweepStopButton")
        self.first = named(QLineEdit("optimizer.params.lr=0.001,0.01,0.1,1"), "sweepFirstAxis", "First setting",
                           "KEY=V1,V2,...: the rows of the map.")
        self.second = named(QLineEdit(), "sweepSecondAxis", "Second setting (optional)",
                            "KEY=V1,V2,...: the columns of the map; leave empty for a one-setting sweep.")
        self.repeats = named(QSpinBox(), "sweepRepeatsSpin", "Runs per cell", "Each cell trains with this many "
                             "seeds (training.seed, +1, ...); the map shows their mean.")
        self.repeats.setRange(1, 20)
        self.epochs = named(QSpinBox(), "sweepEpochsSpin", "Epochs per run", "Epochs of every run of the grid.")
        self.epochs.setRange(1, 10_000)
        self.epochs.setValue(5)
        # Not "metric": that name would override QWidget.metric(), which Qt calls while painting.
        self.metric_combo = named(QComboBox(), "sweepMetricCombo", "Metric on the map",
                                  "The final metric the map shows.")
        for name in METRICS:
            self.metric_combo.addItem(name.replace("_", " "), name)
        self.map = named(QTableWidget(), "sweepMap", "Final metric of every cell",
                         "Rows: the first setting's values; columns: the second's. Click a cell for its curves.")
        self.map.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # No selection fill (it would hide the cell's colour): the chosen cell is shown in bold.
        self.map.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.map.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.caption = wrapping_label("", "sweepMapCaption")
        self.curves = TaggedCurves(loss_plot("sweepLossPlot", "Loss of the chosen cell's runs (one per seed)."),
                                   accuracy_plot("sweepAccuracyPlot", "Accuracy of the chosen cell's runs."), self)
        self._lay_out()
        self.run_bar.run_button.clicked.connect(self.start)
        self.runner.finished.connect(self.show_result)
        self.metric_combo.currentIndexChanged.connect(lambda _i: self._fill_map())
        self.map.cellClicked.connect(self.show_cell)

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("rows", self.first)
        form.addRow("columns", self.second)
        form.addRow("runs per cell", self.repeats)
        form.addRow("epochs", self.epochs)
        form.addRow("map shows", self.metric_combo)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(form)
        column.addWidget(self.run_bar)
        column.addWidget(self.caption)
        column.addWidget(self.map, 1)
        plots = QWidget()
        plot_column = QVBoxLayout(plots)
        plot_column.setContentsMargins(0, 0, 0, 0)
        plot_column.addWidget(self.curves.loss)
        plot_column.addWidget(self.curves.accuracy)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(plots)
        split.setSizes([520, 580])
        layout = QVBoxLayout(self)
        layout.addWidget(wrapping_label(INTRO))
        layout.addWidget(split, 1)

    def set_locked(self, locked: bool, reason: str = "") -> None:
        self.run_bar.set_locked(locked, reason)

    def set_options(self, axes: Sequence[str], repeats: int = 1, epochs: int | None = None) -> None:
        """Fill the form (a lesson's grid): ``axes`` as ``KEY=V1,V2,...`` texts."""
        self.first.setText(axes[0] if axes else "")
        self.second.setText(axes[1] if len(axes) > 1 else "")
        self.repeats.setValue(repeats)
        if epochs is not None:
            self.epochs.setValue(epochs)

    def axes(self) -> list[Axis]:
        """The settings as typed; a problem raises a StudioError that names it."""
        return [parse_axis(text.text().strip()) for text in (self.first, self.second) if text.text().strip()]

    @Slot()
    def start(self) -> None:
        """Check every cell on a copy of the current project, then train the grid in the worker thread."""
        project, data = self.source.for_worker()
        project.training.epochs = self.epochs.value()
        try:
            axes = self.axes()
            plan(project, axes)
        except StudioError as exc:
            self.run_bar.show_error(str(exc))
            return
        self.result = None
        self.map.clear()
        self.caption.clear()
        self.curves.clear()
        self.runner.run(grid_sweep, project, axes, self.repeats.value(), data)

    @Slot(object)
    def show_result(self, result: GridResult) -> None:
        self.result = result
        self._fill_map()
        metric = self.metric_combo.currentData()
        best = result.best(metric)
        if best is not None:
            self.show_cell(*(best.index if len(best.index) > 1 else (best.index[0], 0)))
            where = cell_label(result.axes, best.values)
            self.run_bar.show_message(f"Best {self.metric_combo.currentText()}: {best.stat(metric).text()} at {where}.")

    def _fill_map(self) -> None:
        result, metric = self.result, self.metric_combo.currentData()
        if result is None:
            return
        rows = result.table(metric)
        columns = result.axes[1].labels if len(result.axes) > 1 else (metric.replace("_", " "),)
        second = f", columns: {result.axes[1].key}" if len(result.axes) > 1 else ""
        self.caption.setText(f"Final {metric.replace('_', ' ')}, mean over {len(result.seeds)} seed(s) "
                             f"{list(result.seeds)}. Rows: {result.axes[0].key}{second}.")
        self.map.setRowCount(len(rows))
        self.map.setColumnCount(len(columns))
        self.map.setVerticalHeaderLabels(list(result.axes[0].labels))
        self.map.setHorizontalHeaderLabels(list(columns))
        means = [s.mean for row in rows for s in row if math.isfinite(s.mean)]
        low, high = (min(means), max(means)) if means else (0.0, 1.0)
        for r, row in enumerate(rows):
            for c, stat in enumerate(row):
                item = QTableWidgetItem(stat.text())
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if math.isfinite(stat.mean):
                    good = (stat.mean - low) / (high - low) if high > low else 1.0
                    item.setBackground(QBrush(shade(1.0 - good if LOWER_IS_BETTER[metric] else good)))
                elif stat.diverged:
                    item.setBackground(QBrush(DIVERGED))
                item.setToolTip(f"{stat.text()} over {stat.runs} run(s)")
                self.map.setItem(r, c, item)

    @Slot(int, int)
    def show_cell(self, row: int, column: int) -> None:
        """The chosen cell's runs (one curve per seed) in the plots."""
        if self.result is None:
            return
        index = (row, column) if len(self.result.axes) > 1 else (row,)
        cell: Cell = self.result.cell(*index)
        self.map.setCurrentCell(row, column)
        for r in range(self.map.rowCount()):
            for c in range(self.map.columnCount()):
                item = self.map.item(r, c)
                if item is not None:
                    font = item.font()
                    font.setBold((r, c) == (row, column))
                    item.setFont(font)
        self.curves.show_runs(cell.runs)
