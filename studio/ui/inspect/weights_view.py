"""The trained network's weights and biases as numbers: what ``python main.py weights`` prints.

Small layers (a perceptron's two weights and bias) are listed value by value, to compare with a hand
calculation; large ones as shape and statistics. The numbers are read in the worker thread (a job
per snapshot, the latest wins), like every other touch of the model's tensors.
"""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from studio.core.inspect.snapshot import ModelSnapshot
from studio.core.inspect.weights import LayerWeights, layer_weights
from studio.ui.inspect.jobs import LatestJob
from studio.ui.workers import Worker

EMPTY = "Train a network: its weights and biases appear here, value by value for small layers."


def read_weights(snapshot: ModelSnapshot) -> list[LayerWeights]:
    """Runs in the worker thread: every layer with weights, as values or statistics."""
    return layer_weights(snapshot.model, snapshot.layer_names())


class WeightsView(QWidget):
    """Shows :func:`read_weights` of the current snapshot; ``shown`` is the last result."""

    def __init__(self, worker: Worker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weightsView")
        self.setAccessibleName("The trained network's weights and biases")
        self.shown: list[LayerWeights] | None = None
        self.job = LatestJob(worker, "Reading the weights", self)
        self.job.finished.connect(lambda _tag, result: self.show_weights(result))
        self.job.failed.connect(self.summary_failed)
        self.summary = QLabel(EMPTY)
        self.summary.setObjectName("weightsSummary")
        self.summary.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setObjectName("weightsText")
        self.text.setAccessibleName("Weights and biases of each layer")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.text, 1)

    def set_snapshot(self, snapshot: ModelSnapshot | None) -> None:
        if snapshot is None:
            self.shown = None
            self.text.clear()
            self.summary.setText(EMPTY)
            return
        self.summary.setText("Reading the weights…")
        self.job.request(read_weights, snapshot)

    def show_weights(self, layers: list[LayerWeights]) -> None:
        self.shown = layers
        self.summary.setText(f"{len(layers)} layer(s) with weights; tensors of up to 100 numbers are listed in "
                             "full, larger ones as shape and statistics (python main.py weights prints the same).")
        self.text.setPlainText("\n\n".join(layer.text() for layer in layers))

    def summary_failed(self, message: str) -> None:
        self.summary.setText(f"Could not read the weights: {message}")
