"""Sanity check: one click trains the network on a tiny subset with regularisation off; pass or fail with the
likely cause. A network that cannot memorise 100 samples has a bug or a bad setting, not a tuning problem.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from studio.core.lab.sanity import DEFAULT_EPOCHS, DEFAULT_PER_CLASS, SanityResult, sanity_check
from studio.ui.lab.controls import FAIL_STYLE, PASS_STYLE, RunBar, named, wrapping_label
from studio.ui.lab.curves import TaggedCurves, accuracy_plot, loss_plot
from studio.ui.lab.runner import ExperimentRunner
from studio.ui.lab.source import LabSource
from studio.ui.workers import Worker

INTRO = ("Before tuning anything, check that your network can learn at all: it trains on a tiny subset (a few "
         "samples per class) with dropout and weight decay off and should learn it by heart, reaching 100% "
         "training accuracy with a loss near zero. If it cannot, something is wrong, and the check says what "
         "is most likely.")


class SanityPanel(QWidget):
    """The check's settings, the Run button, the verdict, the likely causes and the loss curve."""

    def __init__(self, worker: Worker, source: LabSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "sanityPanel", "Sanity check")
        self.source = source
        self.result: SanityResult | None = None
        self.runner = ExperimentRunner(worker, "Sanity check", self)
        self.run_bar = RunBar(self.runner, "Run sanity check", "sanityButton", "Train on a tiny subset with "
                              "regularisation off and see whether the network can memorise it.", "sanityStopButton")
        self.per_class = self._spin("sanityPerClassSpin", "Samples per class", DEFAULT_PER_CLASS, 1, 1000,
                                    "Training samples of each class in the tiny subset (regression: the first 100).")
        self.max_epochs = self._spin("sanityEpochsSpin", "At most this many epochs", DEFAULT_EPOCHS, 1, 10_000,
                                     "The check stops as soon as the subset is memorised, or after this many epochs.")
        self.verdict = named(wrapping_label(), "sanityResult", "Sanity check result")
        self.causes = named(wrapping_label(), "sanityCauses", "Likely causes")
        self.curves = TaggedCurves(loss_plot("sanityLossPlot", "Training loss on the tiny subset."),
                                   accuracy_plot("sanityAccuracyPlot", "Training accuracy on the tiny subset."),
                                   self, span_epochs=False)
        self._lay_out()
        self.run_bar.run_button.clicked.connect(self.start)
        self.runner.liveEvent.connect(self.curves.on_event)
        self.runner.finished.connect(self.show_result)

    def _spin(self, object_name: str, label: str, value: int, low: int, high: int, tip: str) -> QSpinBox:
        spin = named(QSpinBox(), object_name, label, tip)
        spin.setRange(low, high)
        spin.setValue(value)
        return spin

    def _lay_out(self) -> None:
        form = QHBoxLayout()
        for text, field in (("Samples per class", self.per_class), ("At most epochs", self.max_epochs)):
            label = QLabel(text)
            label.setBuddy(field)
            field.setMinimumWidth(80)
            form.addWidget(label)
            form.addWidget(field)
            form.addSpacing(12)
        form.addStretch(1)
        plots = QHBoxLayout()
        plots.addWidget(self.curves.loss)
        plots.addWidget(self.curves.accuracy)
        layout = QVBoxLayout(self)
        layout.addWidget(wrapping_label(INTRO))
        layout.addLayout(form)
        layout.addWidget(self.run_bar)
        layout.addWidget(self.verdict)
        layout.addWidget(self.causes)
        layout.addLayout(plots, 1)

    def set_locked(self, locked: bool, reason: str = "") -> None:
        self.run_bar.set_locked(locked, reason)

    @Slot()
    def start(self) -> None:
        project, _data = self.source.for_worker()  # the check prepares its own tiny subset
        self.result = None
        self.verdict.clear()
        self.causes.clear()
        self.curves.clear()
        self.runner.run(sanity_check, project, self.per_class.value(), self.max_epochs.value(), live=True)

    @Slot(object)
    def show_result(self, result: SanityResult) -> None:
        self.result = result
        self.curves.show_runs([result.run])
        # The verdict's numbers and the plot come from one source: the subset measured in eval mode after
        # every epoch (the per-batch losses of the live curve are train-mode numbers and can differ by 10×).
        epochs = np.array([point[0] for point in result.curve], dtype=float)
        losses = np.array([point[1] for point in result.curve], dtype=float)
        self.curves.loss.set_data("sanity:train", epochs, losses)
        accuracies = [point[2] for point in result.curve]
        if all(acc is not None for acc in accuracies):
            self.curves.accuracy.set_data("sanity:val", epochs, np.array(accuracies, dtype=float))
        self.curves.refresh()
        # The goal is a loss near zero and 100% accuracy: show both from zero, so that a loss stuck at 2.3
        # looks flat instead of being magnified into a curve.
        finite = losses[np.isfinite(losses)]
        top = float(finite.max()) if finite.size else 1.0
        self.curves.loss.getPlotItem().vb.setYRange(0.0, top * 1.05 if top > 0 else 1.0)
        if result.train_acc is not None:
            self.curves.accuracy.getPlotItem().vb.setYRange(0.0, 1.02)
        self.verdict.setStyleSheet(PASS_STYLE if result.passed else FAIL_STYLE)
        self.verdict.setText(("✔ " if result.passed else "✘ ") + result.verdict)
        if result.causes:
            items = "".join(f"<li>{cause}</li>" for cause in result.causes)
            self.causes.setText(f"<b>Likely causes, most likely first:</b><ul>{items}</ul>")
        self.run_bar.show_message("Sanity check done.")
