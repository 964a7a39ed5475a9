"""File > Fine-tune from: choose trained weights to start the next run from, and how to adapt the network.

The learner picks a run folder, a checkpoint or an exported weights file, and may replace the
output layer (new classes), freeze the first layers and give early layers a lower learning rate.
Every change of source or output layer previews, on the worker thread, which layers would get the
weights and why the others would not (the same :func:`load_pretrained` the run uses), so a file
that cannot be used, or a crafted pickle that is refused, is explained here before anything changes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.build import build_model, layer_label
from studio.core.finetune import LoadReport, freeze_layers, layerwise_lr, load_pretrained, output_layer_index
from studio.core.finetune import replace_output_layer as _replace_output
from studio.core.project import ModelSpec
from studio.ui.dialogs import Dialogs
from studio.ui.widgets.naming import named
from studio.ui.workers import Job, Worker

WEIGHTS_FILTER = "Trained weights (*.ckpt *.safetensors *.pt *.pth);;All files (*)"
DEFAULT_FIRST_LR = 0.1
ERROR_STYLE = "color: #b00020;"


@dataclass(frozen=True)
class FineTunePlan:
    """What the learner chose: where the weights come from and how the network changes.

    ``freeze_up_to`` freezes layers ``0 .. N-1`` (0: leave freezing as it is); ``first_lr`` is the first
    layer's learning-rate multiplier of the ramp (None: leave the multipliers as they are).
    """

    source: str
    replace_output: bool = False
    n_outputs: int | None = None
    freeze_up_to: int = 0
    first_lr: float | None = None

    def apply(self, spec: ModelSpec) -> ModelSpec:
        """A copy of ``spec`` with the plan's changes (the input spec is not touched)."""
        new = _replace_output(spec, self.n_outputs) if self.replace_output and self.n_outputs else copy.deepcopy(spec)
        if self.freeze_up_to:
            freeze_layers(new, range(len(new.layers)), frozen=False)
            freeze_layers(new, range(min(self.freeze_up_to, len(new.layers))))
        if self.first_lr is not None:
            layerwise_lr(new, self.first_lr)
        return new

    def exclude(self, spec: ModelSpec) -> tuple[int, ...]:
        """Layers that keep fresh weights: a replaced output layer learns the new classes from scratch."""
        return (output_layer_index(spec),) if self.replace_output else ()


def preview_load(
    spec: ModelSpec, input_shape: tuple[int, ...], seed: int, source: str, exclude: tuple[int, ...]
) -> LoadReport:
    """Worker job: load ``source`` into a fresh network of ``spec`` and report (nothing is kept)."""
    model = build_model(spec, input_shape, seed)
    names = [layer_label(layer, i) for i, layer in enumerate(spec.layers)]
    return load_pretrained(model, source, names=names, exclude=exclude)


class FineTuneDialog(QDialog):
    """Choose weights and fine-tuning options; ``plan()`` is the choice once the dialog is accepted."""

    previewed = Signal(object)  # the LoadReport of the current source and options
    failed = Signal(str)

    def __init__(
        self,
        worker: Worker,
        dialogs: Dialogs,
        spec: ModelSpec,
        input_shape: tuple[int, ...],
        n_outputs: int | None,
        target: str = "",
        seed: int = 0,
        source: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune from trained weights")
        self.setObjectName("fineTuneDialog")
        self.setAccessibleName("Fine-tune from trained weights")
        self.worker, self.dialogs = worker, dialogs
        self.spec, self.input_shape, self.n_outputs, self.seed = spec, input_shape, n_outputs, seed
        self._job: Job | None = None
        self._report: LoadReport | None = None
        self._build(source, target)
        self.preview()

    # --- building --------------------------------------------------------------------------------
    def _build(self, source: str, target: str) -> None:
        self.source = named(QLineEdit(source), "fineTuneSource")
        self.source.setAccessibleName("Trained weights to start from")
        self.source.setPlaceholderText("a run folder, a checkpoint (.ckpt) or a weights file (.safetensors, .pt)")
        self.source.editingFinished.connect(lambda: self.preview())
        file_button = _button("fineTuneBrowseFile", "File…", "Choose a checkpoint or weights file", self._browse_file)
        folder_button = _button("fineTuneBrowseFolder", "Folder…", "Choose a run folder", self._browse_folder)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(file_button)
        row.addWidget(folder_button)

        layers = len(self.spec.layers)
        outputs = f"{self.n_outputs} outputs" + (f" ({target})" if target else "")
        self.replace = _check("fineTuneReplaceOutput", f"Replace the output layer: new, untrained, {outputs}",
                              "The last Linear layer gets the data's number of outputs and starts from fresh weights.")
        self.replace.setEnabled(bool(self.n_outputs))
        self.replace.toggled.connect(lambda _checked: self.preview())
        self.freeze = _check("fineTuneFreeze", "Freeze the first", "Frozen layers keep their weights while training.")
        self.freeze_count = named(QSpinBox(minimum=1, maximum=max(layers, 1)), "fineTuneFreezeCount")
        self.freeze_count.setAccessibleName("Number of layers to freeze")
        self.freeze_count.setValue(max(1, layers // 2))
        self.freeze_count.setSuffix(" layers")
        self.freeze_label = named(QLabel(), "fineTuneFreezeLabel")
        self.freeze_label.setAccessibleName("Last frozen layer")
        self.freeze_count.valueChanged.connect(self._freeze_label_changed)
        self.freeze.toggled.connect(self.freeze_count.setEnabled)
        self.ramp = _check("fineTuneLrRamp", "Learning-rate ramp: the first layer learns at",
                           "Early layers learn general features; a lower rate disturbs them least. The multiplier "
                           "rises to ×1 at the last layer.")
        self.ramp_first = named(QDoubleSpinBox(minimum=0.001, maximum=1.0, decimals=3), "fineTuneLrFirst")
        self.ramp_first.setAccessibleName("Learning-rate multiplier of the first layer")
        self.ramp_first.setSingleStep(0.05)
        self.ramp_first.setValue(DEFAULT_FIRST_LR)
        self.ramp_first.setPrefix("×")
        self.ramp.toggled.connect(self.ramp_first.setEnabled)
        for control in (self.freeze_count, self.ramp_first):
            control.setEnabled(False)
        self._freeze_label_changed(self.freeze_count.value())

        options = QGroupBox("Adapt the network (changes can be undone with Edit > Undo)")
        column = QVBoxLayout(options)
        column.addLayout(_row(self.replace))
        column.addLayout(_row(self.freeze, self.freeze_count, self.freeze_label))
        rising = QLabel("of the learning rate, rising to ×1 at the last layer")
        column.addLayout(_row(self.ramp, self.ramp_first, rising))

        self.report = named(QPlainTextEdit(readOnly=True), "fineTuneReport")
        self.report.setAccessibleName("Which layers get the trained weights")
        self.report.setMinimumHeight(120)
        self.error = named(QLabel(wordWrap=True), "fineTuneError")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setAccessibleName("Why these weights cannot be used")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        accept = QDialogButtonBox.ButtonRole.AcceptRole
        self.ok = self.buttons.addButton("Start the next run from these weights", accept)
        self.ok.setObjectName("fineTuneAccept")
        self.ok.setAccessibleName("Start the next run from these weights")
        self.ok.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Trained weights (run folder, checkpoint or exported weights):"))
        layout.addLayout(row)
        layout.addWidget(options)
        layout.addWidget(QLabel("What the next run will load:"))
        layout.addWidget(self.report, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(640, 420)

    # --- the choice ------------------------------------------------------------------------------
    def plan(self) -> FineTunePlan:
        return FineTunePlan(
            source=self.source.text().strip(),
            replace_output=self.replace.isChecked(),
            n_outputs=self.n_outputs,
            freeze_up_to=self.freeze_count.value() if self.freeze.isChecked() else 0,
            first_lr=self.ramp_first.value() if self.ramp.isChecked() else None,
        )

    def last_report(self) -> LoadReport | None:
        return self._report

    def preview(self) -> Job | None:
        """Check the source against the planned network on the worker; returns its job.

        A newer preview replaces one still pending (the older answer would be stale).
        """
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self._report = None
        self.ok.setEnabled(False)
        plan = self.plan()
        if not plan.source:
            self.report.setPlainText("Choose trained weights to see which layers can use them.")
            return None
        spec = plan.apply(self.spec)
        self.report.setPlainText("Reading the weights…")
        self._show_error("")
        job = self.worker.submit(
            "Checking the weights", preview_load, spec, self.input_shape, self.seed, plan.source, plan.exclude(spec)
        )
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        self._job = job
        return job

    # --- worker results --------------------------------------------------------------------------
    def _finished(self, report: Any) -> None:
        self._job, self._report = None, report
        self.report.setPlainText(report.summary())
        self.ok.setEnabled(True)
        self.previewed.emit(report)

    def _failed(self, message: str) -> None:
        self._job = None
        self.report.setPlainText("")
        self._show_error(message)
        self.failed.emit(message)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    # --- small parts -----------------------------------------------------------------------------
    def _freeze_label_changed(self, count: int) -> None:
        layers = self.spec.layers
        last = layer_label(layers[count - 1], count - 1) if 0 < count <= len(layers) else ""
        self.freeze_label.setText(f"(up to {last})" if last else "")

    def _browse_file(self) -> None:
        path = self.dialogs.open_file("Trained weights", WEIGHTS_FILTER, self.source.text())
        if path:
            self.source.setText(path)
            self.preview()

    def _browse_folder(self) -> None:
        path = self.dialogs.folder("Run folder with trained weights", self.source.text())
        if path:
            self.source.setText(path)
            self.preview()


def _row(*widgets: QWidget) -> QHBoxLayout:
    """Widgets side by side, left-aligned."""
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget)
    row.addStretch(1)
    return row


def _check(name: str, text: str, tip: str) -> QCheckBox:
    box = named(QCheckBox(text), name)
    box.setAccessibleName(text)
    box.setToolTip(tip)
    return box


def _button(name: str, text: str, tip: str, slot: Any) -> QPushButton:
    button = named(QPushButton(text), name)
    button.setAccessibleName(tip)
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button
