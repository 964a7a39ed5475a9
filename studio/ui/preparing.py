"""The first window, on screen about a second after ``studio``, while the worker thread imports torch.

The full window is built on torch, pyqtgraph and the studio modules that use them; importing them
takes 5-20 s on a busy 2-core machine, most of it ``import torch``. This window needs Qt alone: it
says "Preparing…" and answers the user (move, resize, close) while the worker thread imports the
full window's modules. The import runs in the worker thread itself, the one
:class:`~studio.ui.workers.WorkerHost` then adopts, so torch is loaded by the thread that runs
every torch job. When the import is done, :attr:`PreparingWindow.prepared` fires in the GUI thread
and the app builds the full window in this one's place.
"""

from __future__ import annotations

import importlib
import logging

from PySide6.QtCore import QEvent, QObject, Qt, QThread, QTimer, Signal, SignalInstance, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar, QVBoxLayout, QWidget

from studio.ui import persist

log = logging.getLogger(__name__)

# What the full window needs, imported in the worker thread: torch first (most of the time).
MODULES = ("torch", "studio.ui.main_window")


class _Importer(QObject):
    """Lives in the worker thread; imports :data:`MODULES` once that thread starts."""

    def __init__(self, report: SignalInstance) -> None:
        super().__init__()
        self._report = report

    @Slot()
    def run(self) -> None:
        try:
            for name in MODULES:
                importlib.import_module(name)
        except Exception as exc:  # a broken install: say so in the window instead of dying silently
            log.exception("preparing the window failed")
            self._report.emit(f"{type(exc).__name__}: {exc}")
            return
        self._report.emit("")


class PreparingWindow(QMainWindow):
    """"Preparing…" with a busy bar; starts the worker thread's import after its first paint."""

    prepared = Signal()  # in the GUI thread, once the full window's modules are imported
    failed = Signal(str)  # the import's error, in one line
    _done = Signal(str)  # from the worker thread: "" or the error

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("preparingWindow")
        self.setWindowTitle("Training Studio")
        self.worker_thread = QThread()
        self.closed = False
        self._started = False
        self._handed_over = False
        self._importer = _Importer(self._done)
        self._importer.moveToThread(self.worker_thread)
        self.worker_thread.started.connect(self._importer.run)  # a direct call, in the worker thread
        self._done.connect(self._finish)  # emitted in the worker thread on this GUI-thread object: queued here
        heading = QLabel("Training Studio")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        heading.setFont(font)
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel("Preparing… loading PyTorch and the editors")
        self.message.setObjectName("preparingMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # busy, no percentage: an import reports no progress
        self.busy.setFixedWidth(320)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addStretch(1)
        layout.addWidget(heading)
        layout.addWidget(self.message)
        layout.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.setCentralWidget(body)
        persist.restore_geometry(self)  # where the full window will appear

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.Paint and not self._started:
            self._started = True
            # After the first paint, not before: the import holds the GIL for long stretches.
            QTimer.singleShot(0, self.worker_thread.start)
        return handled

    @Slot(str)
    def _finish(self, error: str) -> None:
        if error:
            self.busy.hide()
            self.message.setText(f"Training Studio could not start: {error}")
            self.failed.emit(error)
        elif not self.closed:
            self.prepared.emit()

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override
        self.closed = True
        event.accept()

    def hand_over_thread(self) -> QThread:
        """The worker thread, for the full window's ``WorkerHost``, which then owns and joins it."""
        self._handed_over = True
        return self.worker_thread

    def shutdown(self) -> None:
        """Join the worker thread (after its import, which cannot be interrupted) when the app ends
        before the full window took it over; after that the host joins it, stopping any run first."""
        if not self._handed_over and self.worker_thread.isRunning():
            self.worker_thread.quit()
            self.worker_thread.wait()
