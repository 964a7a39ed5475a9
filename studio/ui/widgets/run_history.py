"""The runs in a table: dataset, network, settings, final metrics and why each ended; select to compare.

Past runs are read back from their run folders (:meth:`RunHistory.show_saved`, by the runs
feature); the widget records this session's runs itself from the worker's signals
(:meth:`RunHistory.connect_worker`), all as plain :class:`studio.core.history.RunRecord` objects;
selecting rows emits ``selectionChanged(list[RunRecord])`` for the plots to overlay.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart
from studio.core.history import RunRecord, RunRecorder
from studio.core.project import Project
from studio.core.summary import network_summary
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


def _pair(first: str, second: str, fmt: Callable[[float | None], str]) -> Callable[[RunRecord], str]:
    """Training and validation value of the last epoch as "train / val" (just train without a validation split)."""
    def text(record: RunRecord) -> str:
        final = record.final
        train, val = (getattr(final, first), getattr(final, second)) if final is not None else (None, None)
        return fmt(train) if val is None else f"{fmt(train)} / {fmt(val)}"
    return text


def _settings(record: RunRecord) -> str:
    optimizer = record.project.optimizer
    return f"{optimizer.name} · lr {_number(optimizer.params.get('lr'))} · batch {record.project.training.batch_size}"


# (header, tooltip of the header, text of a record): one registry of columns instead of a row-building
# if/elif chain. The ones that tell runs apart come first, so a narrow window still shows them.
COLUMNS: tuple[tuple[str, str, Callable[[RunRecord], str]], ...] = (
    ("Run", "The run's name (Rename… to change it)", lambda r: r.name),
    ("Dataset", "The dataset it trained on", lambda r: r.project.data.dataset),
    ("Network", "The layers with weights and the number of parameters",
     lambda r: network_summary(r.project, r.param_count)),
    ("Settings", "Optimizer, learning rate and batch size", _settings),
    ("Epochs", "Epochs trained / planned", lambda r: f"{len(r.epochs)}/{r.project.training.epochs}"),
    ("Loss", "Final loss: training / validation", _pair("train_loss", "val_loss", _number)),
    ("Accuracy", "Final accuracy: training / validation", _pair("train_acc", "val_acc", _percent)),
    ("Ended", "Why the run ended", lambda r: REASONS.get(r.reason, r.reason)),
)


MAX_COLUMN_WIDTH = 220  # a long run name or network is elided (the row's tooltip has it all)

# Numbers line up on the right; names and reasons read from the left.
NUMERIC = frozenset({"Epochs", "Loss", "Accuracy"})


def _details(record: RunRecord) -> str:
    """Everything about a run, one line a column (the row's tooltip: nothing is lost to a narrow column)."""
    lines = [f"{header}: {text(record)}" for header, _tip, text in COLUMNS]
    if record.message:
        lines.append(record.message)
    if record.folder is not None:
        lines.append(f"Saved in {record.folder}")
    return "\n".join(lines)


class RunHistory(QWidget):
    """A table of runs, past (read back from their folders) and of this session; multi-select emits
    ``selectionChanged(list[RunRecord])`` for the plots to overlay.

    Open, Rename… and Delete… act on one saved run: the widget only asks (``openRequested``,
    ``renameRequested``, ``deleteRequested`` with the record); the runs feature does it and reports
    back with :meth:`rename_run` / :meth:`remove_run`.
    """

    selectionChanged = Signal(list)
    runAdded = Signal(object)
    openRequested = Signal(object)
    renameRequested = Signal(object)
    deleteRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runHistory")
        self.setAccessibleName("Run history")
        self._records: list[RunRecord] = []
        self._recorder: RunRecorder | None = None
        self._ids = itertools.count(1)
        self._locked = False
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runHistoryTable")
        self.table.setAccessibleName("Runs")
        self.table.setToolTip("Select one or more runs (Ctrl/Shift+click) to compare their curves in the plots.")
        for column, (header, tip, _text) in enumerate(COLUMNS):
            heading = QTableWidgetItem(header)
            heading.setToolTip(tip)
            self.table.setHorizontalHeaderItem(column, heading)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setVisible(False)
        columns = self.table.horizontalHeader()
        columns.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        columns.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self._request(self.openRequested))
        self.open_action = self._action("&Open", "runOpenButton", "Open this run's project in the editors; "
                                        "Export and Resume then use this run", self.openRequested)
        self.rename_action = self._action("&Rename…", "runRenameButton", "Give this run a name", self.renameRequested)
        self.delete_action = self._action("&Delete…", "runDeleteButton", "Delete this run's folder (asks first)",
                                          self.deleteRequested)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        buttons = QHBoxLayout()
        for action in (self.open_action, self.rename_action, self.delete_action):
            self.table.addAction(action)
            button = QToolButton()
            button.setDefaultAction(action)
            button.setObjectName(action.objectName())
            button.setAccessibleName(action.text().replace("&", ""))
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        self._sync_actions()

    def _action(self, text: str, name: str, tip: str, signal: SignalInstance) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: self._request(signal))
        return action

    # --- records ------------------------------------------------------------------------------

    def runs(self) -> list[RunRecord]:
        return list(self._records)

    def show_saved(self, records: list[RunRecord]) -> None:
        """Put runs read back from their folders before this session's (new runs are numbered after them)."""
        for record in records:
            self._records.append(record)
            self._fill_row(self.table.rowCount(), record, insert=True)
        self._ids = itertools.count(max((r.id for r in self._records), default=0) + 1)
        self._fit_columns()

    def add_run(self, record: RunRecord) -> None:
        """Append a finished run as the last row."""
        self._records.append(record)
        self._fill_row(self.table.rowCount(), record, insert=True)
        self._fit_columns()
        self.runAdded.emit(record)

    def _fill_row(self, row: int, record: RunRecord, insert: bool = False) -> None:
        if insert:
            self.table.insertRow(row)
        details = _details(record)
        for column, (header, _tip, text) in enumerate(COLUMNS):
            item = QTableWidgetItem(text(record))
            if header in NUMERIC:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(details)
            self.table.setItem(row, column, item)

    def _fit_columns(self) -> None:
        """Size columns to their text once (the learner may then drag them); long names are capped and elided."""
        self.table.resizeColumnsToContents()
        for column in range(self.table.columnCount() - 1):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), MAX_COLUMN_WIDTH))

    def set_run_folder(self, run_id: int, folder: str) -> None:
        """Say where a run was saved (in the tooltips of its row), to resume, export, open or rename it later."""
        row = self._row(run_id)
        if row is not None:
            self._records[row].folder = Path(folder)
            self._fill_row(row, self._records[row])
            self._sync_actions()

    def run_folder(self, run_id: int) -> str | None:
        """The folder ``run_id`` was saved in, if it was saved."""
        row = self._row(run_id)
        folder = self._records[row].folder if row is not None else None
        return str(folder) if folder is not None else None

    def rename_run(self, run_id: int, name: str) -> None:
        row = self._row(run_id)
        if row is not None:
            self._records[row].name = name
            self._fill_row(row, self._records[row])

    def remove_run(self, run_id: int) -> None:
        row = self._row(run_id)
        if row is not None:
            del self._records[row]
            self.table.removeRow(row)
            self._sync_actions()

    def _row(self, run_id: int) -> int | None:
        return next((row for row, record in enumerate(self._records) if record.id == run_id), None)

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

    def set_locked(self, locked: bool) -> None:
        """While a run trains: nothing may be opened or deleted under it."""
        self._locked = locked
        self._sync_actions()

    def _selection_changed(self) -> None:
        self._sync_actions()
        self.selectionChanged.emit(self.selected_runs())

    def _single_saved(self) -> RunRecord | None:
        runs = self.selected_runs()
        return runs[0] if len(runs) == 1 and runs[0].folder is not None else None

    def _sync_actions(self) -> None:
        enabled = self._single_saved() is not None and not self._locked
        for action in (self.open_action, self.rename_action, self.delete_action):
            action.setEnabled(enabled)

    def _request(self, signal: SignalInstance) -> None:
        record = self._single_saved()
        if record is not None and not self._locked:
            signal.emit(record)

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
