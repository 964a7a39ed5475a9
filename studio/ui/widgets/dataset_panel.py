"""The dataset picker: dataset and its options, preparation settings, a summary and a preview.

Loading (files, downloads, splitting, preprocessing, the preview samples) runs as a job in the
worker thread, never here: the panel shows progress, keeps the window responsive, shows a load
error in place and keeps the latest :class:`PreparedData` for the Train button.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.core.backbone import input_note
from studio.core.data import DATASETS
from studio.core.project import DataSpec, LayerSpec, Project
from studio.core.settings import preparation_params
from studio.ui import style
from studio.ui.widgets.choice_section import ChoiceSection
from studio.ui.widgets.data_preview import DataPreview
from studio.ui.widgets.param_form import ParamForm
from studio.ui.workers import Job, Worker

PREVIEW_SAMPLES = 24
DEBOUNCE_MS = 400  # edits closer together than this start one load, not one per keystroke
PREPARATION_FIELDS = {
    "preprocessing": "preprocessingCombo",
    "val_fraction": "valFractionSpin",
    "subset_per_class": "subsetPerClassSpin",
    "seed": "splitSeedSpin",
    "batch_size": "batchSizeSpin",
}


def load_dataset(spec: DataSpec, n_preview: int, progress) -> tuple[Any, Any]:
    """The worker job: prepared data and preview samples for ``spec``."""
    from studio.core.data import prepare_data, preview

    prepared = prepare_data(spec, progress)
    progress(1.0, "Picking preview samples")
    return prepared, preview(spec, n_preview)


def summary(prepared: Any) -> str:
    """One line about prepared data, e.g. ``Input (64,) · 10 classes · 1,437 train / 360 validation``."""
    shape = prepared.input_shape
    shape_text = f"{shape[0]} features" if len(shape) == 1 else "×".join(str(s) for s in shape)
    target = f"{prepared.num_classes} classes" if prepared.task == "classification" else (
        f"regression, {prepared.target_dim} target{'s' if prepared.target_dim != 1 else ''}")
    notes = "".join(f"\n⚠ {warning}" for warning in prepared.warnings)  # pictures left out, by name
    return f"Input {shape_text} · {target} · {prepared.n_train:,} train / {prepared.n_val:,} validation{notes}"


class DatasetPanel(QScrollArea):
    """Edits ``project.data`` and ``project.training.batch_size``; loads the data in the worker."""

    edited = Signal()
    dataReady = Signal(object)  # PreparedData of the current settings
    loadFailed = Signal(str)

    def __init__(self, worker: Worker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetPanel")
        self.setWidgetResizable(True)
        self.worker = worker
        self._job: Job | None = None
        self._job_spec: dict[str, Any] | None = None
        self._prepared: Any = None
        self._prepared_spec: dict[str, Any] | None = None
        self._error = ""
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._submit)
        self._build()

    def _build(self) -> None:
        # Settings on the left, what they produce (summary, preview) on the right: both visible at once.
        body = QWidget()
        layout = QHBoxLayout(body)
        settings = QVBoxLayout()
        self.dataset = ChoiceSection(DATASETS, "datasetCombo", "Dataset")
        self.preparation = ParamForm(preparation_params(), owner="data")
        for param, object_name in PREPARATION_FIELDS.items():
            self.preparation.field(param).setObjectName(object_name)
        settings.addWidget(_group("Dataset", self.dataset))
        settings.addWidget(_group("Preparation", self.preparation))
        settings.addStretch(1)
        layout.addLayout(settings, 1)
        layout.addWidget(_group("Samples", self._build_samples()), 1)
        self.setWidget(body)
        self.dataset.edited.connect(self._spec_edited)
        self.preparation.changed.connect(self._preparation_edited)

    def _build_samples(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.load_button = QPushButton(style.icon("reload"), "Load")
        self.load_button.setObjectName("loadDataButton")
        self.load_button.setAccessibleName("Load the data")
        self.load_button.setToolTip("Load the data again (e.g. after files changed)")
        self.load_button.clicked.connect(lambda: self.request_load(immediate=True, force=True))
        self.progress = QProgressBar()
        self.progress.setObjectName("dataProgress")
        self.progress.setAccessibleName("Data loading progress")
        self.progress.setRange(0, 100)
        self.progress.hide()
        row.addWidget(self.load_button)
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        column.addLayout(row)
        self.summary = QLabel("Not loaded yet")
        self.summary.setObjectName("dataSummary")
        self.summary.setAccessibleName("Data summary")
        self.summary.setProperty("role", "summary")
        self.summary.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("dataError")
        self.error.setAccessibleName("Data error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.backbone = QLabel()
        self.backbone.setObjectName("dataBackbone")
        self.backbone.setAccessibleName("What the backbone expects")
        self.backbone.setWordWrap(True)
        self.backbone.hide()
        self.preview = DataPreview()
        for widget in (self.summary, self.backbone, self.error):
            column.addWidget(widget)
        column.addWidget(self.preview, 1)
        return box

    # --- project ↔ panel -----------------------------------------------------------------------
    def load(self, project: Project) -> None:
        """Show the project's data settings and start loading them."""
        spec = project.data
        self.dataset.set_choice(spec.dataset, spec.params)
        self.preparation.set_values({
            "preprocessing": spec.preprocessing, "val_fraction": spec.val_fraction,
            "subset_per_class": spec.subset_per_class, "seed": spec.seed, "batch_size": project.training.batch_size,
        })
        self.show_backbone(project.model.layers)
        self.request_load(immediate=True)

    def show_backbone(self, layers: Sequence[LayerSpec]) -> None:
        """Say what size and normalisation a backbone first in the network applies to the pictures."""
        note = input_note(layers)
        self.backbone.setText(note)
        self.backbone.setVisible(bool(note))

    def spec(self) -> DataSpec:
        values = self.preparation.values()
        return DataSpec(self.dataset.name(), self.dataset.values(), values["preprocessing"], values["val_fraction"],
                        values["subset_per_class"], values["seed"])

    def store(self, project: Project) -> None:
        project.data = self.spec()
        project.training.batch_size = self.preparation.values()["batch_size"]

    def set_locked(self, locked: bool) -> None:
        self.dataset.set_locked(locked)
        self.preparation.set_locked(locked)
        self.load_button.setEnabled(not locked)

    # --- loading -------------------------------------------------------------------------------
    def prepared(self) -> Any:
        """The prepared data of the current settings, or None when not (yet) loaded."""
        return self._prepared if self._prepared_spec == _key(self.spec()) else None

    def is_loading(self) -> bool:
        return self._job is not None or self._debounce.isActive()

    def error_text(self) -> str:
        return self._error

    def request_load(self, immediate: bool = False, force: bool = False) -> None:
        """Load the current settings in the worker (after a short pause in editing, or now)."""
        if force:
            self._prepared_spec = None
        if immediate:
            self._debounce.stop()
            self._submit()
        else:
            self._debounce.start()

    def _submit(self) -> None:
        key = _key(self.spec())
        if key == self._prepared_spec:
            self.dataReady.emit(self._prepared)
            return
        if self._job is not None and key == self._job_spec:
            return  # the same settings are loading already
        if self._job is not None:
            self._job.cancel()  # an older load whose settings were changed meanwhile
        self._job_spec = key
        self._job = job = self.worker.submit("Loading data", load_dataset, self.spec(), PREVIEW_SAMPLES)
        job.progress.connect(self._progress)
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        self._show_error("")
        self.progress.setValue(0)
        self.progress.setFormat("Loading…")
        self.progress.show()

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(100 * fraction))
        self.progress.setFormat(message or "%p%")

    def _finished(self, result: Any) -> None:
        self._job = None
        self.progress.hide()
        prepared, preview = result
        self._prepared, self._prepared_spec = prepared, self._job_spec
        self.summary.setText(summary(prepared))
        self.preview.show_preview(preview)
        if self._prepared_spec == _key(self.spec()):
            self.dataReady.emit(prepared)
        else:
            self.request_load()

    def _failed(self, message: str) -> None:
        self._job = None
        self.progress.hide()
        self._prepared, self._prepared_spec = None, None
        self.summary.setText("Not loaded")
        self.preview.clear("No samples to show.")
        self._show_error(message)
        self.loadFailed.emit(message)

    def _show_error(self, message: str) -> None:
        self._error = message
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _spec_edited(self) -> None:
        self.edited.emit()
        self.request_load()

    def _preparation_edited(self, name: str, _value: Any) -> None:
        self.edited.emit()
        if name != "batch_size":  # the batch size does not change the data
            self.request_load()


def _key(spec: DataSpec) -> dict[str, Any]:
    """A comparable copy of a spec's fields (dataclass equality would compare the same fields)."""
    return {"dataset": spec.dataset, "params": dict(spec.params), "preprocessing": spec.preprocessing,
            "val_fraction": spec.val_fraction, "subset_per_class": spec.subset_per_class, "seed": spec.seed}


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.addWidget(widget)
    return box
