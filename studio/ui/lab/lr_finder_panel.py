"""Learning-rate finder: a short run whose learning rate grows every step; loss against rate on a log axis,
the suggested rate marked, and "Apply" to use it in the project (``applyLearningRate(float)``).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from studio.core.lab.lr_finder import DEFAULT_END, DEFAULT_START, DEFAULT_STEPS, LrFinderResult, find_lr
from studio.ui.lab.controls import RunBar, named, wrapping_label
from studio.ui.lab.runner import ExperimentRunner
from studio.ui.lab.source import LabSource
from studio.ui.plots import LivePlot
from studio.ui.plots.style import RAW_ALPHA, TRAIN, VALIDATION, pen
from studio.ui.widgets.spin_boxes import LogSpinBox
from studio.ui.workers import Worker

INTRO = ("Trains a throw-away copy of your network for a short while, raising the learning rate a little every "
         "batch. While the rate is too small the loss stays flat; good rates make it fall; too large a rate makes "
         "it shoot up. The suggestion is where the loss falls fastest. Your project is not changed until you "
         "press Apply.")
Y_HEADROOM = 1.6  # show the loss up to this multiple of where it started; the blow-up at the end can be huge


def log_spin(object_name: str, label: str, value: float, tip: str) -> LogSpinBox:
    spin = named(LogSpinBox(), object_name, label, tip)
    spin.setRange(1e-9, 100.0)
    spin.setValue(value)
    return spin


class LrFinderPanel(QWidget):
    """Sweep settings, the loss-vs-rate plot with the suggestion, and Apply."""

    applyLearningRate = Signal(float)

    def __init__(self, worker: Worker, source: LabSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "lrFinderPanel", "Learning-rate finder")
        self.source = source
        self.result: LrFinderResult | None = None
        self.runner = ExperimentRunner(worker, "Learning-rate finder", self)
        self.run_bar = RunBar(self.runner, "Find learning rate", "lrFindButton", "Sweep the learning rate over a "
                              "short run and suggest one.", "lrStopButton")
        self.start_lr = log_spin("lrStartSpin", "Smallest learning rate", DEFAULT_START, "Where the sweep starts.")
        self.end_lr = log_spin("lrEndSpin", "Largest learning rate", DEFAULT_END, "Where the sweep ends (it stops "
                               "early once the loss blows up).")
        self.steps = named(QSpinBox(), "lrStepsSpin", "Steps", "How many batches the sweep takes.")
        self.steps.setRange(5, 10_000)
        self.steps.setValue(DEFAULT_STEPS)
        self.plot = LivePlot("lrFinderPlot", "Loss against learning rate", "learning rate (log)", "loss",
                             "Training loss of each batch of the sweep (faint) and smoothed (solid).")
        self.plot.getPlotItem().setLogMode(x=True, y=False)
        self.plot.add_legend()
        self.plot.add_curve("raw", pen=pen(TRAIN, width=1.0, alpha=RAW_ALPHA))
        self.plot.add_curve("smoothed", name="loss (smoothed)", pen=pen(TRAIN))
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pen(VALIDATION, width=1.6, dashed=True),
                                      label="", labelOpts={"position": 0.92, "color": VALIDATION, "fill": "#ffffffd0"})
        self.marker.setVisible(False)
        self.plot.getPlotItem().addItem(self.marker, ignoreBounds=True)
        self.plot.add_curve("suggested", pen=None, symbol="o", symbolSize=10, symbolBrush=VALIDATION, symbolPen="w")
        self.chosen = log_spin("lrApplySpin", "Learning rate to apply", 1e-3, "The suggestion; change it if you "
                               "prefer another point of the curve.")
        self.chosen.setEnabled(False)
        self.apply_button = named(QPushButton("Apply to project"), "applyLrButton", "Apply the learning rate",
                                  "Set the project's learning rate to this value.")
        self.apply_button.setEnabled(False)
        self.message = named(wrapping_label(), "lrFinderMessage", "What the finder found")
        self._lay_out()
        self.run_bar.run_button.clicked.connect(self.start)
        self.runner.finished.connect(self.show_result)
        self.apply_button.clicked.connect(self.apply)

    def _lay_out(self) -> None:
        form = QHBoxLayout()
        for text, field in (("Smallest rate", self.start_lr), ("Largest rate", self.end_lr), ("Steps", self.steps)):
            label = QLabel(text)
            label.setBuddy(field)
            field.setMinimumWidth(90)
            form.addWidget(label)
            form.addWidget(field)
            form.addSpacing(12)
        form.addStretch(1)
        self.chosen.setMinimumWidth(90)
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.chosen)
        apply_row.addWidget(self.apply_button)
        apply_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(wrapping_label(INTRO))
        layout.addLayout(form)
        layout.addWidget(self.run_bar)
        layout.addWidget(self.message)
        layout.addLayout(apply_row)
        layout.addWidget(self.plot, 1)

    def set_locked(self, locked: bool, reason: str = "") -> None:
        self.run_bar.set_locked(locked, reason)

    @Slot()
    def start(self) -> None:
        start, end = self.start_lr.value(), self.end_lr.value()
        if not start < end:
            self.run_bar.show_error("The smallest learning rate must be below the largest.")
            return
        project, data = self.source.for_worker()
        self.result = None
        self.apply_button.setEnabled(False)
        self.chosen.setEnabled(False)
        self.marker.setVisible(False)
        self.message.clear()
        self.runner.run(find_lr, project, start, end, self.steps.value(), data)

    @Slot(object)
    def show_result(self, result: LrFinderResult) -> None:
        self.result = result
        lrs = np.asarray(result.lrs, dtype=np.float64)
        self.plot.set_data("raw", lrs, _finite(result.losses))
        self.plot.set_data("smoothed", lrs, _finite(result.smoothed))
        suggested = result.suggested_lr
        if suggested is not None:
            self.marker.setVisible(True)
            self.marker.setValue(math.log10(suggested))
            self.marker.label.setFormat(f"suggested {suggested:.2g}")
            at = int(np.argmin(np.abs(np.log10(lrs / suggested))))
            self.plot.set_data("suggested", lrs[at:at + 1], _finite(result.smoothed)[at:at + 1])
            self.chosen.setValue(float(f"{suggested:.2g}"))  # 0.011, not 0.011497…: a rate a person would type
        else:
            self.plot.set_data("suggested", np.empty(0), np.empty(0))
        self.plot.refresh(force=True)
        self._set_range(lrs, np.asarray(result.smoothed, dtype=np.float64))
        self.marker.label.updatePosition()  # the label is placed relative to the view, which just moved
        self.chosen.setEnabled(suggested is not None)
        self.apply_button.setEnabled(suggested is not None)
        self.message.setText(result.message)
        self.run_bar.show_message(f"Swept {len(lrs)} learning rates" + (" until the loss blew up."
                                                                         if result.diverged else "."))

    def _set_range(self, lrs: np.ndarray, smoothed: np.ndarray) -> None:
        """The whole sweep across, and the loss from its lowest to a little above where it started."""
        finite = smoothed[np.isfinite(smoothed)]
        if not len(lrs) or not len(finite):
            return
        low, top = float(finite.min()), min(float(finite.max()), Y_HEADROOM * float(finite[0]))
        top = top if top > low else low + 1.0
        self.plot.getPlotItem().vb.setRange(xRange=(math.log10(lrs[0]), math.log10(lrs[-1])),
                                            yRange=(low, top), padding=0.05)

    @Slot()
    def apply(self) -> None:
        """Emit ``applyLearningRate`` with the chosen rate (the main window sets it in the project)."""
        value = self.chosen.value()
        self.applyLearningRate.emit(value)
        self.run_bar.show_message(f"Learning rate {value:.3g} applied to the project.")

    def suggestion(self) -> float | None:
        return None if self.result is None else self.result.suggested_lr


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)
