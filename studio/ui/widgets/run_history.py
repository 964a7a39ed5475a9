"""The session's runs in a table: settings, final metrics and why each ended; select to compare.

The widget records runs itself from the worker's signals (:meth:`RunHistory.connect_worker`)
into plain :class:`studio.core.history.RunRecord` objects; selecting rows emits
``selectionChanged(list[RunRecord])`` for the plots to overlay.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart
from studio.core.history import RunRecord, RunRecorder
from studio.core.project import Project
from studio.ui.workers import Worker

REASONS = {
    "completed": "completed",
    "stopped": "stopped by you",
    "target_loss": "reached target loss",
    "early_stopping": "early stopping",
    "non_finite": "diverged (NaN loss)",
    "failed": "failed",
}


def _number(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _final(field: str, fmt: Callable[[float | None], str]) -> Callable[[RunRecord], str]:
    return lambda record: fmt(getattr(record.final, field) if record.final is not None else None)


# (header, text of a record): one registry of columns instead of a row-building if/elif chain.
COLUMNS: tuple[tuple[str, Callable[[RunRecord], str]], ...] = (
    ("Run", lambda r: r.name),
    ("Optimizer", lambda r: r.project.optimizer.name),
    ("LR", lambda r: _number(r.project.optimizer.params.get("lr"))),
    ("Batch", lambda r: str(r.project.training.batch_size)),
    ("Epochs", lambda r: f"{len(r.epochs)}/{r.project.training.epochs}"),
    ("Train loss", _final("train_loss", _number)),
    ("Val loss", _final("val_loss", _number)),
    ("Train acc", _final("train_acc", _percent)),
    ("Val acc", _final("val_acc", _percent)),
    ("Ended", lambda r: REASONS.get(r.reason, r.reason)),
)


# Numbers line up on the right; names and reasons read from the left.
NUMERIC = frozenset({"LR", "Batch", "Epochs", "Train loss", "Val loss", "Train acc", "Val acc"})


class RunHistory(QWidget):
    """A table of this session's runs; multi-select emits ``selectionChanged(list[RunRecord])``."""

    selectionChanged = Signal(list)
    runAdded = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runHistory")
        self.setAccessibleName("Run history")
        self._records: list[RunRecord] = []
        self._folders: dict[int, str] = {}  # run id -> the run folder it was saved in
        self._recorder: RunRecorder | None = None
        self._ids = itertools.count(1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runHistoryTable")
        self.table.setAccessibleName("Runs of this session")
        self.table.setToolTip("Select one or more runs (Ctrl/Shift+click) to compare their curves in the plots.")
        self.table.setHorizontalHeaderLabels([header for header, _ in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)

    # --- records ------------------------------------------------------------------------------

    def runs(self) -> list[RunRecord]:
        return list(self._records)

    def add_run(self, record: RunRecord) -> None:
        """Append a finished run as the last row."""
        self._records.append(record)
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, (header, text) in enumerate(COLUMNS):
            item = QTableWidgetItem(text(record))
            if header in NUMERIC:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(record.message or text(record))
            self.table.setItem(row, column, item)
        self.runAdded.emit(record)

    def set_run_folder(self, run_id: int, folder: str) -> None:
        """Say where a run was saved (in the tooltips of its row), to resume, export or fine-tune from it."""
        self._folders[run_id] = folder
        for row, record in enumerate(self._records):
            if record.id != run_id:
                continue
            for column in range(self.table.columnCount()):
                item = self.table.item(row, column)
                if item is not None:
                    item.setToolTip(f"{record.message or item.text()}\nSaved in {folder}")

    def run_folder(self, run_id: int) -> str | None:
        """The folder ``run_id`` was saved in, if it was saved."""
        return self._folders.get(run_id)

    def selected_runs(self) -> list[RunRecord]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self._records[row] for row in rows]

    def select_runs(self, run_ids: list[int]) -> None:
        """Select the rows of ``run_ids`` (and no others)."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, record in enumerate(self._records):
            if record.id in run_ids:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _selection_changed(self) -> None:
        self.selectionChanged.emit(self.selected_runs())

    # --- recording from the worker's signals --------------------------------------------------

    def connect_worker(self, worker: Worker) -> None:
        """Record every run of a :class:`studio.ui.workers.Worker`."""
        worker.trainingStarted.connect(self.on_training_started)
        worker.fitStarted.connect(self.on_fit_started)
        worker.batchesEnded.connect(self.on_batches)
        worker.epochsEnded.connect(self.on_epochs)
        worker.fitEnded.connect(self.on_fit_end)
        worker.trainingFailed.connect(self.on_training_failed)

    @Slot(object)
    def on_training_started(self, project: Project) -> None:
        self._recorder = RunRecorder(next(self._ids), project)

    @Slot(object)
    def on_fit_started(self, event: FitStart) -> None:
        if self._recorder is not None:
            self._recorder.fit_start(event)

    @Slot(list)
    def on_batches(self, events: list[BatchEnd]) -> None:
        if self._recorder is not None:
            self._recorder.batches(events)

    @Slot(list)
    def on_epochs(self, events: list[EpochEnd]) -> None:
        if self._recorder is not None:
            self._recorder.epoch_ends(events)

    @Slot(object)
    def on_fit_end(self, event: FitEnd) -> None:
        if self._recorder is not None:
            record, self._recorder = self._recorder.finish(event), None
            self.add_run(record)

    @Slot(str, str)
    def on_training_failed(self, message: str, hint: str) -> None:
        # A diverged run already ended with a FitEnd (recorder gone); only exceptions get here.
        if self._recorder is not None:
            record, self._recorder = self._recorder.fail(f"{message} {hint}".strip()), None
            self.add_run(record)
