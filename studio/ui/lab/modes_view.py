"""Train vs eval mode: the same trained weights measured with dropout and batch norm in training mode and in
evaluation mode, and what dropout's 1/(1-p) scaling does, measured.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.data import PreparedData, prepare_data
from studio.core.engine import Trainer
from studio.core.lab.common import LabRun, RunCallback, StopFlag
from studio.core.lab.modes import MODES, ModesResult, compare_modes, needs_modes
from studio.core.progress import Progress, no_progress
from studio.core.project import Project
from studio.ui.lab.controls import RunBar, named, wrapping_label
from studio.ui.lab.runner import ExperimentRunner
from studio.ui.lab.source import LabSource
from studio.ui.plots import LivePlot
from studio.ui.plots.style import FOREGROUND, TRAIN, VALIDATION
from studio.ui.workers import Worker

INTRO = ("Dropout and batch norm behave differently while training and while evaluating. This trains your "
         "network for a few epochs, then measures the same weights both ways on the training and validation "
         "data, and measures what each dropout layer does to its input.")
NO_MODES = ("This network has no dropout or batch norm, so both modes give the same numbers. Add a Dropout or "
            "BatchNorm layer (or open a dropout or batch-norm preset) to see the difference.")
DEFAULT_EPOCHS = 5
SPLIT_TEXT = {"train": "training data", "val": "validation data"}
MODE_COLOURS = {"train": TRAIN, "eval": VALIDATION}
DROPOUT_COLUMNS = ("Layer", "p", "Kept", "Scale 1/(1-p)", "Measured scale", "Mean in", "Mean out")


def train_and_measure(project: Project, epochs: int, data: PreparedData | None = None,
                      progress: Progress | None = None, stop: StopFlag | None = None) -> ModesResult:
    """Train a copy of ``project`` for ``epochs`` (0: measure the untrained network), then measure both modes.

    Runs in the worker thread; a stop request ends the training early and measures what there is.
    """
    progress = progress or no_progress
    project = project.copy()
    if data is None:
        progress(0.0, "Preparing data")
        data = prepare_data(project.data)
    model = None
    if epochs > 0:
        project.training.epochs = epochs
        run = LabRun("modes", "modes", project)
        trainer = Trainer(project, data=data, callbacks=[RunCallback(run, stop=stop)])
        trainer.fit()
        model = trainer.model
    progress(0.9, "Measuring both modes")
    result = compare_modes(project, model, data)
    progress(1.0, "Done")
    return result


def _number(value: float | None, percent: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.1%}" if percent else f"{value:.4g}"


def _table(object_name: str, accessible: str, headers: tuple[str, ...]) -> QTableWidget:
    table = named(QTableWidget(0, len(headers)), object_name, accessible)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for row, cells in enumerate(rows):
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(row, column, item)
    table.setMaximumHeight(table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(len(rows))) + 4)


class ModesView(QWidget):
    """Metrics in both modes (table and bars), the dropout measurements and the explanation."""

    def __init__(self, worker: Worker, source: LabSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "modesView", "Train vs eval mode")
        self.source = source
        self.result: ModesResult | None = None
        self.runner = ExperimentRunner(worker, "Train vs eval mode", self)
        self.run_bar = RunBar(self.runner, "Train and measure", "modesRunButton", "Train the network for a few "
                              "epochs, then measure it in training mode and in evaluation mode.", "modesStopButton")
        self.epochs = named(QSpinBox(), "modesEpochsSpin", "Epochs before measuring", "0 measures the untrained "
                            "network.")
        self.epochs.setRange(0, 1000)
        self.epochs.setValue(DEFAULT_EPOCHS)
        self.note = named(wrapping_label(), "modesNote", "Whether this network has mode-dependent layers")
        self.note.setVisible(False)
        self.metrics = _table("modesMetrics", "Loss and accuracy in both modes",
                              ("Data", "Train-mode loss", "Eval-mode loss", "Train-mode acc", "Eval-mode acc"))
        self.dropout = _table("modesDropout", "What each dropout layer does", DROPOUT_COLUMNS)
        self.explanation = named(wrapping_label(), "modesExplanation", "Explanation")
        self.bars = LivePlot("modesPlot", "Both modes side by side", "", "accuracy", "The same weights measured "
                             "in training mode (blue) and evaluation mode (red).")
        self.bars.setMaximumHeight(260)
        self._lay_out()
        self.run_bar.run_button.clicked.connect(self.start)
        self.runner.finished.connect(self.show_result)

    def _lay_out(self) -> None:
        settings = QHBoxLayout()
        label = QLabel("Train for epochs")
        label.setBuddy(self.epochs)
        settings.addWidget(label)
        settings.addWidget(self.epochs)
        settings.addStretch(1)
        tables = QVBoxLayout()
        tables.addWidget(self.metrics)
        tables.addWidget(self.dropout)
        tables.addStretch(1)
        row = QHBoxLayout()
        row.addLayout(tables, 3)
        row.addWidget(self.bars, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(wrapping_label(INTRO))
        layout.addLayout(settings)
        layout.addWidget(self.run_bar)
        layout.addWidget(self.note)
        layout.addLayout(row)
        layout.addWidget(self.explanation)
        layout.addStretch(1)

    def set_locked(self, locked: bool, reason: str = "") -> None:
        self.run_bar.set_locked(locked, reason)

    def update_note(self) -> None:
        """Say up front when the current network has nothing that depends on the mode."""
        text = "" if needs_modes(self.source.project()) else NO_MODES
        self.note.setText(text)
        self.note.setVisible(bool(text))

    @Slot()
    def start(self) -> None:
        project, data = self.source.for_worker()
        self.update_note()
        self.result = None
        self.runner.run(train_and_measure, project, self.epochs.value(), data)

    @Slot(object)
    def show_result(self, result: ModesResult) -> None:
        self.result = result
        splits = [s for s in SPLIT_TEXT if any(m.split == s for m in result.metrics)]
        _fill(self.metrics, [(SPLIT_TEXT[s], *(_number(result.get(s, mode).loss) for mode in MODES),
                              *(_number(result.get(s, mode).acc, percent=True) for mode in MODES)) for s in splits])
        _fill(self.dropout, [(d.name, f"{d.p:g}", _number(d.kept_fraction, percent=True), f"{d.expected_scale:.3g}",
                              f"{d.measured_scale:.3g}", f"{d.mean_in:.3g}", f"{d.mean_out_train:.3g}")
                             for d in result.dropout])
        self.dropout.setVisible(bool(result.dropout))
        self.explanation.setText("".join(f"<p>{line}</p>" for line in result.explanation))
        self._draw_bars(result, splits)
        self.run_bar.show_message("Measured in both modes.")

    def _draw_bars(self, result: ModesResult, splits: list[str]) -> None:
        """Grouped bars: per split, one bar per mode (accuracy; loss for regression)."""
        item = self.bars.getPlotItem()
        item.clear()
        use_acc = all(m.acc is not None for m in result.metrics)
        item.getAxis("left").setLabel("accuracy" if use_acc else "loss")
        # The key is the title: a legend inside the view would cover the labels on top of the bars.
        item.setTitle("&nbsp;&nbsp;".join(f"<span style='color:{MODE_COLOURS[m]}'>■</span> {m} mode" for m in MODES),
                      color=FOREGROUND, size="10pt")
        top = 0.0
        for offset, mode in ((-0.18, "train"), (0.18, "eval")):
            values = [(result.get(s, mode).acc if use_acc else result.get(s, mode).loss) for s in splits]
            bars = pg.BarGraphItem(x=np.arange(len(splits)) + offset, height=values, width=0.34,
                                   brush=MODE_COLOURS[mode], pen=None)
            item.addItem(bars)
            for x, value in zip(np.arange(len(splits)) + offset, values, strict=True):
                label = pg.TextItem(_number(value, percent=use_acc), color=FOREGROUND, anchor=(0.5, 1.0))
                label.setPos(float(x), value)
                item.addItem(label)
            top = max([top, *(value for value in values if value is not None)])
        item.getAxis("bottom").setTicks([[(i, SPLIT_TEXT[s]) for i, s in enumerate(splits)]])
        item.vb.setRange(xRange=(-0.6, len(splits) - 0.4), yRange=(0, top * 1.15 or 1.0), padding=0)
