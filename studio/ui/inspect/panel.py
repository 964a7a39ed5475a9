"""The Inspect panel: evaluation, decision boundary / fit, try it, layer and weight views as tabs.

Results are computed in the worker thread by the :class:`InspectCallback` that
:meth:`InspectPanel.training_callbacks` hands to ``Worker.start_training``; the callback calls
``resultReady.emit`` there and Qt queues each record to this (GUI-thread) object, where a
table from record type to view method shows it. The final :class:`ModelSnapshot` arrives the
same way, or through :meth:`set_model_source` (a run folder, a test).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from studio.core.callbacks import Callback
from studio.core.history import RunRecorder
from studio.core.inspect.boundary import BoundaryGrid, PointSet, RegressionFit
from studio.core.inspect.evaluation import Evaluation
from studio.core.inspect.live import InspectCallback
from studio.core.inspect.reports import write_curves, write_tensorboard
from studio.core.inspect.snapshot import ModelSnapshot
from studio.core.vocab import MessageKind
from studio.ui.dialogs import Dialogs, Message
from studio.ui.inspect.boundary_view import BoundaryView
from studio.ui.inspect.evaluation_view import EvaluationView
from studio.ui.inspect.layer_view import LayerView
from studio.ui.inspect.try_panel import TryPanel
from studio.ui.inspect.weights_view import WeightsView
from studio.ui.workers import Worker

TABS = ("evaluation", "boundary", "try", "layers", "weights")


def export_curves(folder: str | Path, recorder: RunRecorder) -> list[Path]:
    """``curves.csv``, ``batch_losses.csv`` and, with tensorboard installed, event files; returns what was written."""
    record = recorder.record
    written = write_curves(folder, record.epochs, record.batch_epochs, record.batch_losses)
    events = write_tensorboard(folder, record.epochs)
    return written + ([events] if events is not None else [])


class InspectPanel(QWidget):
    """Views of the trained (or training) network; see the module docstring for the data flow."""

    resultReady = Signal(object)  # emitted in the worker thread by the InspectCallback
    snapshotChanged = Signal(object)

    def __init__(self, worker: Worker, dialogs: Dialogs | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspectPanel")
        self.setAccessibleName("Inspect and try the trained model")
        self.worker = worker
        self.dialogs = dialogs or Dialogs(self)
        self.snapshot: ModelSnapshot | None = None
        self.recorder: RunRecorder | None = None
        self.evaluation = EvaluationView(self.dialogs)
        self.boundary = BoundaryView()
        self.try_panel = TryPanel(worker, self.dialogs)
        self.layers = LayerView(worker)
        self.weights = WeightsView(worker)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("inspectTabs")
        self.tabs.setAccessibleName("Inspect views")
        for widget, title in ((self.evaluation, "Evaluation"), (self.boundary, "Boundary / fit"),
                              (self.try_panel, "Try it"), (self.layers, "Layers"), (self.weights, "Weights")):
            self.tabs.addTab(widget, title)
        self.status = QLabel("Train a network: its evaluation appears here after every epoch.")
        self.status.setObjectName("inspectStatus")
        self.export_curves_button = QPushButton("Export training curves…")
        self.export_curves_button.setObjectName("exportCurvesButton")
        self.export_curves_button.setAccessibleName("Export the training curves (CSV, TensorBoard when installed)")
        self.export_curves_button.setEnabled(False)
        self.export_curves_button.clicked.connect(self.choose_curves_export)
        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 0)
        top.addWidget(self.status, 1)
        top.addWidget(self.export_curves_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self._views: dict[type, Callable[[Any], None]] = {
            Evaluation: self.evaluation.set_evaluation,
            PointSet: self.boundary.set_points,
            BoundaryGrid: self.boundary.set_grid,
            RegressionFit: self.boundary.set_fit,
            ModelSnapshot: self.set_model_source,
        }
        self.resultReady.connect(self.show_result)
        self._connect_worker(worker)

    def _connect_worker(self, worker: Worker) -> None:
        """Record the run's curves for export (the same events the plots draw)."""
        def started(project: Any) -> None:
            self.recorder = RunRecorder(0, project)
            self.evaluation.clear()  # another run may bring other data: nothing stale stays on screen
            self.boundary.clear()
            self.status.setText("Training… the views update as it learns.")

        def record(what: str) -> Callable[[Any], None]:
            def handler(event: Any) -> None:
                if self.recorder is not None:
                    getattr(self.recorder, what)(event)
                    self.export_curves_button.setEnabled(bool(self.recorder.record.epochs))

            return handler

        worker.trainingStarted.connect(started)
        worker.fitStarted.connect(record("fit_start"))
        worker.batchesEnded.connect(record("batches"))
        worker.epochsEnded.connect(record("epoch_ends"))
        worker.fitEnded.connect(record("finish"))

    def training_callbacks(self) -> list[Callback]:
        """Engine callbacks for the next run (pass them to ``Worker.start_training``)."""
        return [InspectCallback(self.resultReady.emit)]

    def show_result(self, result: Any) -> None:
        """Show one record from the callback in the view that draws its type."""
        view = self._views.get(type(result))
        if view is not None:
            view(result)

    def set_model_source(self, snapshot: ModelSnapshot | None) -> None:
        """Work on ``snapshot`` from now on (the try-it and layer views need one)."""
        self.snapshot = snapshot
        if snapshot is not None:
            self.status.setText(f"Trained model after {snapshot.epoch} epoch(s): try it or look inside its layers.")
        self.try_panel.set_snapshot(snapshot)
        self.layers.set_snapshot(snapshot)
        self.weights.set_snapshot(snapshot)
        self.snapshotChanged.emit(snapshot)

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))

    def choose_curves_export(self) -> None:
        if self.recorder is None:
            return
        folder = self.dialogs.folder("Export the training curves into a folder")
        if not folder:
            return
        try:
            paths = export_curves(folder, self.recorder)
        except OSError as exc:
            self.dialogs.message(Message(MessageKind.ERROR, "Export failed", f"Could not write the files: {exc}"))
            return
        tensorboard = any(p.name == "tensorboard" for p in paths)
        skipped = "" if tensorboard else " (TensorBoard files need the tensorboard package)"
        self.status.setText(f"Wrote {', '.join(p.name for p in paths)} to {folder}{skipped}")
