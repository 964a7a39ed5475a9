"""The run bar every lab panel shares: Run and Stop buttons, a progress bar and a status line."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from studio.ui.lab.runner import ExperimentRunner
from studio.ui.widgets.naming import named

ERROR_STYLE = "color: #c62828;"
PASS_STYLE = "color: #1b5e20; font-weight: bold;"
FAIL_STYLE = "color: #b71c1c; font-weight: bold;"


def wrapping_label(text: str = "", object_name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if object_name:
        label.setObjectName(object_name)
    return label


class RunBar(QWidget):
    """Run and Stop for one :class:`ExperimentRunner`; shows its progress and failures in place."""

    def __init__(self, runner: ExperimentRunner, run_text: str, run_name: str, run_tip: str, stop_name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self._locked = False
        self.run_button = named(QPushButton(run_text), run_name, run_text.rstrip("…"), run_tip)
        self.stop_button = named(QPushButton("Stop"), stop_name, "Stop", "End the experiment early; what is done "
                                 "so far is kept.")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(10)
        self.status = wrapping_label()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.run_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.progress_bar, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.stop_button.clicked.connect(runner.stop)
        runner.busyChanged.connect(self._busy)
        runner.started.connect(lambda: self.show_message("Running…"))
        runner.progress.connect(self._progress)
        runner.failed.connect(self.show_error)
        runner.finished.connect(lambda _result: self.progress_bar.setValue(self.progress_bar.maximum()))
        self._busy(False)

    def set_locked(self, locked: bool, reason: str = "") -> None:
        """Refuse new runs (while the main window trains, say) without touching a running one."""
        self._locked = locked
        self.run_button.setToolTip(reason or self.run_button.accessibleDescription())
        self._busy(self.runner.busy())

    @Slot(bool)
    def _busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy and not self._locked)
        self.stop_button.setEnabled(busy)
        if busy:
            self.progress_bar.setValue(0)
            self.show_message("Waiting for the worker…")

    @Slot(float, str)
    def _progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(round(1000 * min(max(fraction, 0.0), 1.0)))
        if message:
            self.show_message(message)

    def show_message(self, text: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(text)

    def show_error(self, text: str) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(text)
