"""File > Export: pick a trained run (checkpoint or run folder), a format and a destination.

The export itself (writing, then verifying the file with its real consumer) runs as a job on the
one worker thread, like every torch operation of the GUI; the dialog shows the report or the
error in place, so a learner sees the measured difference between the file and the app's model.
A destination that is taken (an existing file, a folder with files in it) is written only after
the learner agrees, and even then the export replaces only its own files.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.export import EXPORTERS, DestinationTaken, ExportError, check_destination, export
from studio.core.vocab import MessageKind
from studio.ui.dialogs import Dialogs, Message
from studio.ui.widgets.naming import named
from studio.ui.workers import Job, Worker


class ExportDialog(QDialog):
    """A small form around :func:`studio.core.export.export`; ``exported`` carries the ExportReport."""

    exported = Signal(object)
    failed = Signal(str)

    def __init__(self, worker: Worker, dialogs: Dialogs, source: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export trained model")
        self.setObjectName("exportDialog")
        self.worker, self.dialogs = worker, dialogs
        self.source = _path_row(self, "exportSource", source, self._browse_source)
        self.format = named(QComboBox(), "exportFormat")
        for name, fmt in EXPORTERS.items():
            self.format.addItem(fmt.label, name)
        self.description = named(QLabel(wordWrap=True), "exportDescription")
        self.out = _path_row(self, "exportDestination", "", self._browse_out)
        self.result_label = named(QLabel(wordWrap=True), "exportResult")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setObjectName("exportButton")
        self._lay_out()
        self.format.currentIndexChanged.connect(self._format_changed)
        self.export_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        self._format_changed()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("Trained run (checkpoint or run folder)", _row_of(self.source))
        form.addRow("Format", self.format)
        form.addRow("", self.description)
        form.addRow("Save to", _row_of(self.out))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)

    def format_name(self) -> str:
        return str(self.format.currentData())

    def start(self) -> Job | None:
        """Queue the export on the worker; returns its job (None when a field is missing)."""
        source, out = self.source.text().strip(), self.out.text().strip()
        if not source or not out:
            self._show_error("Choose a trained run and where to save the export.")
            return None
        try:
            force = self._may_write(out)
        except ExportError as exc:
            self._show_error(str(exc))
            return None
        if force is None:
            self.result_label.setText("Export cancelled: nothing was written.")
            return None
        self.export_button.setEnabled(False)
        self.result_label.setText("Exporting and checking the exported model…")
        job = self.worker.submit("Export", partial(export, force=force), source, self.format_name(), out)
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        return job

    def _may_write(self, out: str) -> bool | None:
        """False for a free destination, True when the learner agrees to write over a taken one, else None."""
        try:
            check_destination(self.format_name(), out)
            return False
        except DestinationTaken as taken:
            question = Message(
                MessageKind.QUESTION,
                "Export into a folder that is not empty?" if taken.folder else "Replace the file?",
                f"{taken.path} already holds files. The export writes its own files there, replacing files of the "
                "same names; every other file stays." if taken.folder else f"{taken.path} already exists. Replace it "
                "with the export?", ("yes", "no"), "no",
            )
            return True if self.dialogs.message(question) == "yes" else None

    def _finished(self, report: Any) -> None:
        self.export_button.setEnabled(True)
        self.result_label.setStyleSheet("")
        self.result_label.setText(report.summary())
        self.exported.emit(report)

    def _failed(self, message: str) -> None:
        self.export_button.setEnabled(True)
        self._show_error(message)
        self.failed.emit(message)

    def _show_error(self, message: str) -> None:
        self.result_label.setStyleSheet("color: #b00020;")
        self.result_label.setText(message)

    def _format_changed(self) -> None:
        fmt = EXPORTERS.get(self.format_name())
        self.description.setText(fmt.description)
        current = self.out.text().strip()
        if current:  # keep the folder the learner chose, switch to the format's usual name
            self.out.setText(str(Path(current).parent / fmt.default_name))

    def _browse_source(self) -> None:
        path = self.dialogs.open_file("Trained run", "Checkpoints (*.ckpt);;All files (*)")
        if path:
            self.source.setText(path)

    def _browse_out(self) -> None:
        name = self.format_name()
        if EXPORTERS.get(name).folder:
            path = self.dialogs.folder("Export into folder")
        else:
            path = self.dialogs.save_file("Export to", "All files (*)", EXPORTERS.get(name).default_name)
        if path:
            self.out.setText(path)


def _path_row(parent: QWidget, name: str, text: str, browse: Any) -> QLineEdit:
    """A line edit with a Browse button beside it; the edit's parent widget is the row."""
    row = QWidget(parent)
    edit = named(QLineEdit(text, row), name)
    button = QPushButton("Browse…", row)
    button.clicked.connect(browse)
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    return edit


def _row_of(edit: QLineEdit) -> QWidget:
    """The row :func:`_path_row` put ``edit`` in."""
    row = edit.parentWidget()
    assert row is not None, "made by _path_row"
    return row
