"""Paired comparison ("Compare with…"): the same project trained twice with exactly one setting changed and
the same seed; both runs' curves overlaid and the difference summarised.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QComboBox, QDialog, QFormLayout, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from studio.core.data import PreparedData
from studio.core.errors import StudioError
from studio.core.lab.compare import PairResult, compare
from studio.core.lab.variations import VARIATIONS, Variant, vary
from studio.core.project import Project
from studio.ui.lab.controls import ERROR_STYLE, RunBar, named, wrapping_label
from studio.ui.lab.curves import TaggedCurves, accuracy_plot, loss_plot
from studio.ui.lab.runner import ExperimentRunner
from studio.ui.workers import Worker

INTRO = ("Trains the run as it is (A) and again with exactly one setting changed (B). Both use the same seed, "
         "so they start from the same weights and see the batches in the same order: any difference in the "
         "curves comes from that one setting.")


class CompareDialog(QDialog):
    """Choose the setting and its new value, run the pair in the worker, read the curves and the summary."""

    pairFinished = Signal(object)  # the PairResult, e.g. for the run history

    def __init__(self, worker: Worker, project: Project, base_label: str = "the current project",
                 data: PreparedData | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "compareDialog", "Compare with one setting changed")
        self.setWindowTitle(f"Compare {base_label} with…")
        self.project = project.copy()
        self.data = data
        self.pair: PairResult | None = None
        self.runner = ExperimentRunner(worker, "Paired comparison", self)
        self.run_bar = RunBar(self.runner, "Run the pair", "compareRunButton", "Train A (as it is) and B (one "
                              "setting changed) with the same seed.", "compareStopButton")
        self.setting = named(QComboBox(), "compareSettingCombo", "Setting to change")
        for _, variation in VARIATIONS.items():
            self.setting.addItem(variation.label, variation.name)
        self.value = named(QLineEdit(), "compareValueEdit", "New value", "Leave empty for the usual change.")
        self.change = named(wrapping_label(), "compareChange", "What changes")
        self.curves = TaggedCurves(loss_plot("compareLossPlot", "Training loss (solid) and validation loss (dashed) "
                                             "of runs A and B."),
                                   accuracy_plot("compareAccuracyPlot", "Validation accuracy of runs A and B."), self)
        self.summary = named(wrapping_label(), "compareSummary", "How the two runs differ")
        self._lay_out(base_label)
        self.setting.currentIndexChanged.connect(self._setting_changed)
        self.value.textChanged.connect(self._preview)
        self.run_bar.run_button.clicked.connect(self.start)
        self.runner.liveEvent.connect(self.curves.on_event)
        self.runner.finished.connect(self.show_result)
        self._setting_changed()
        self.resize(980, 720)

    def _lay_out(self, base_label: str) -> None:
        form = QFormLayout()
        form.addRow("Change", self.setting)
        form.addRow("To", self.value)
        form.addRow("", self.change)
        plots = QHBoxLayout()
        plots.addWidget(self.curves.loss)
        plots.addWidget(self.curves.accuracy)
        layout = QVBoxLayout(self)
        layout.addWidget(wrapping_label(f"<b>Run A:</b> {base_label}. {INTRO}"))
        layout.addLayout(form)
        layout.addWidget(self.run_bar)
        layout.addLayout(plots, 1)
        layout.addWidget(self.summary)

    def choose(self, setting: str, value: str = "") -> None:
        """Select ``setting`` (a VARIATIONS name) and type ``value`` (empty: the usual change)."""
        self.setting.setCurrentIndex(self.setting.findData(setting))
        self.value.setText(value)

    def variant(self) -> Variant:
        """The project with the chosen change (raises a StudioError that says what is wrong)."""
        text = self.value.text().strip()
        return vary(self.project, self.setting.currentData(), text or None)

    @Slot()
    def _setting_changed(self) -> None:
        variation = VARIATIONS.get(self.setting.currentData())
        self.value.setPlaceholderText(variation.value_help)
        self.value.setToolTip(variation.value_help)
        self._preview()

    @Slot()
    def _preview(self) -> None:
        try:
            variant = self.variant()
        except StudioError as exc:
            self.change.setStyleSheet(ERROR_STYLE)
            self.change.setText(str(exc))
            self.run_bar.run_button.setEnabled(False)
            return
        self.change.setStyleSheet("")
        self.change.setText(f"A: {variant.before}   →   B: {variant.after}")
        self.run_bar.run_button.setEnabled(not self.runner.busy())

    @Slot()
    def start(self) -> None:
        try:
            variant = self.variant()
        except StudioError as exc:
            self.run_bar.show_error(str(exc))
            return
        self.pair = None
        self.summary.clear()
        self.curves.clear()
        self.curves.set_label("A", f"A: {variant.label} {variant.before}")
        self.curves.set_label("B", f"B: {variant.label} {variant.after}")
        value = self.value.text().strip() or None
        self.runner.run(compare, self.project, variant.setting, value, self.data, live=True)

    @Slot(object)
    def show_result(self, result: PairResult) -> None:
        self.pair = result
        self.curves.show_runs([result.a, result.b])
        self.summary.setText("<br>".join(result.summary))
        self.run_bar.show_message("Both runs done." if result.b.epochs else "Stopped before run B finished.")
        self.pairFinished.emit(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.runner.stop()  # a closed dialog has no one to show the pair to
        super().closeEvent(event)


def open_compare(worker: Worker, project: Project, base_label: str, data: PreparedData | None = None,
                 parent: QWidget | None = None) -> CompareDialog:
    """Show a non-modal comparison dialog (training signals keep flowing while it is open)."""
    dialog = CompareDialog(worker, project, base_label, data, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
