"""Try the trained network: pick a sample, draw one or load an image file, and read its prediction.

Every prediction is a worker job (:mod:`studio.core.inspect.predict`) that returns numpy; while
drawing, requests are coalesced so the answer follows the pen without queueing up. A drawing is made to look
like the training pictures in the core (:func:`~studio.core.inspect.predict.predict_drawing`); the picture the
network saw is shown beside its answer.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.inspect.predict import Prediction, predict_drawing, predict_file, predict_sample
from studio.core.inspect.snapshot import ModelSnapshot
from studio.core.vocab import MessageKind
from studio.ui.dialogs import Dialogs, Message
from studio.ui.inspect.drawing_pad import DrawingPad, PictureView, default_brush
from studio.ui.inspect.jobs import LatestJob
from studio.ui.workers import Worker

IMAGE_FILTERS = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
DRAWING, PICTURE = "drawing", "picture"  # what a prediction was asked for: the pad keeps or shows its picture
BAR = QColor("#2166ac")
TRUE = QColor("#2ca02c")


class ProbabilityBars(QWidget):
    """One bar per class, the predicted one dark, the true one (when known) marked green."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityBars")
        self.setAccessibleName("Probability of each class")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.prediction: Prediction | None = None

    def sizeHint(self) -> QSize:
        return QSize(260, 240)

    def set_prediction(self, prediction: Prediction | None) -> None:
        self.prediction = prediction
        if prediction is not None and prediction.probabilities is not None:
            self.setAccessibleDescription(", ".join(
                f"{prediction.class_names[c]} {p:.0%}" for c, p in enumerate(prediction.probabilities)))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = self.prediction
        if p is None or p.probabilities is None:
            return
        painter = QPainter(self)
        text = self.palette().color(self.foregroundRole())
        metrics = painter.fontMetrics()
        n = len(p.probabilities)
        row = min(self.height() / max(n, 1), 2.2 * metrics.height())
        label = min(max(metrics.horizontalAdvance(name) for name in p.class_names) + 14, self.width() * 0.35)
        number = metrics.horizontalAdvance("100%") + 8
        span = max(self.width() - label - number, 10)
        for c, probability in enumerate(p.probabilities):
            top = c * row
            painter.setPen(TRUE if c == p.true else text)
            name = metrics.elidedText(p.class_names[c], Qt.TextElideMode.ElideRight, int(label - 6))
            right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(QRectF(0, top, label - 6, row), right, name)
            colour = QColor(BAR) if c == p.predicted else QColor(BAR.lighter(170))
            painter.fillRect(QRectF(label, top + row * 0.2, span * float(probability), row * 0.6), colour)
            if c == p.true:
                painter.drawRect(QRectF(label, top + row * 0.2, span, row * 0.6))
            painter.setPen(text)
            painter.drawText(QRectF(label + span + 4, top, number, row), Qt.AlignmentFlag.AlignVCenter,
                             f"{probability:.0%}")


def prediction_text(p: Prediction) -> str:
    """``8`` with its probability, the true label when known, or the predicted value for regression."""
    if p.values is not None:
        values = ", ".join(f"{v:.4g}" for v in np.ravel(p.values))
        true = "" if p.true is None else f"  (true {p.true:.4g})"
        return f"Predicted value: {values}{true}"
    confidence = f" ({p.probabilities[p.predicted]:.0%})" if p.probabilities is not None else ""
    true = "" if p.true is None else f" · true: {p.class_names[int(p.true)]}"
    return f"Prediction: {p.predicted_name}{confidence}{true}"


class TryPanel(QWidget):
    """Drawing pad with brush size, clear and load buttons; sample picker; prediction and probabilities."""

    def __init__(self, worker: Worker, dialogs: Dialogs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tryPanel")
        self.dialogs = dialogs
        self.snapshot: ModelSnapshot | None = None
        self.prediction: Prediction | None = None
        self.job = LatestJob(worker, "Prediction", self)
        self.job.finished.connect(self.show_prediction)
        self.job.failed.connect(self._failed)
        self._build()
        self.set_snapshot(None)

    def _build(self) -> None:
        self.pad = DrawingPad()
        self.pad.changed.connect(self.predict_drawing)
        self.clear_button = _button("Clear", "clearPadButton", "Clear the drawing pad")
        self.clear_button.clicked.connect(self.pad.clear)
        self.brush_spin = QDoubleSpinBox()
        self.brush_spin.setObjectName("brushSizeSpin")
        self.brush_spin.setAccessibleName("Brush size in input pixels")
        self.brush_spin.setRange(0.3, 12.0)
        self.brush_spin.setSingleStep(0.25)
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setValue(self.pad.brush_size)
        self.brush_spin.valueChanged.connect(lambda value: setattr(self.pad, "brush_size", float(value)))
        self.load_button = _button("Load image…", "loadImageButton", "Load an image file and predict it")
        self.load_button.clicked.connect(self.choose_image)
        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName("sampleSpin")
        self.sample_spin.setAccessibleName("Sample number in the validation split")
        self.sample_button = _button("Show sample", "pickSampleButton", "Predict the chosen sample of the data")
        self.sample_button.clicked.connect(lambda: self.predict_sample(self.sample_spin.value()))
        self.prediction_label = QLabel()
        self.prediction_label.setObjectName("predictionLabel")
        self.prediction_label.setAccessibleName("Prediction")
        font = QFont(self.prediction_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.prediction_label.setFont(font)
        self.prediction_label.setWordWrap(True)
        self.bars = ProbabilityBars()
        self.network_input = PictureView("networkInput", "The picture the network saw")
        self.network_input.setToolTip("Your drawing as the network sees it: cropped, scaled and centred like the "
                                      "training pictures, in their size.")
        self.hint = QLabel()
        self.hint.setObjectName("tryHint")
        self.hint.setWordWrap(True)

        tools = QHBoxLayout()
        tools.addWidget(self.clear_button)
        tools.addWidget(QLabel("Brush"))
        tools.addWidget(self.brush_spin)
        tools.addWidget(self.load_button)
        tools.addStretch(1)
        samples = QHBoxLayout()
        samples.addWidget(QLabel("Sample"))
        samples.addWidget(self.sample_spin)
        samples.addWidget(self.sample_button)
        samples.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.pad, 1)
        left.addLayout(tools)
        left.addLayout(samples)
        seen = QHBoxLayout()
        seen_label = QLabel("The network saw:")
        seen_label.setObjectName("networkInputLabel")
        seen.addWidget(seen_label)
        seen.addWidget(self.network_input)
        seen.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.prediction_label)
        right.addLayout(seen)
        right.addWidget(self.bars, 1)
        grid = QGridLayout(self)
        grid.addWidget(self.hint, 0, 0, 1, 2)
        grid.addLayout(left, 1, 0)
        grid.addLayout(right, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

    def set_snapshot(self, snapshot: ModelSnapshot | None) -> None:
        """Work on ``snapshot`` (None: nothing trained yet); the pad takes the dataset's picture size."""
        self.snapshot = snapshot
        self.prediction = None
        pictures = snapshot is not None and snapshot.image_shape is not None
        for control in (self.pad, self.clear_button, self.brush_spin, self.load_button):
            control.setEnabled(pictures)
        for sample_control in (self.sample_spin, self.sample_button):
            sample_control.setEnabled(snapshot is not None)
        if snapshot is None:
            self.hint.setText("Train a network first, then draw here, load an image or pick a sample.")
            self.prediction_label.setText("No model yet")
            self.bars.set_prediction(None)
            self.network_input.set_pixels(None)
            return
        data = snapshot.data
        self.sample_spin.setRange(0, max((data.n_val if data.n_val else data.n_train) - 1, 0))
        if snapshot.image_shape is not None:
            height, width = snapshot.image_shape[:2]
            self.pad.set_shape((height, width))
            self.brush_spin.setValue(default_brush(width))
            self.hint.setText(f"Draw a sample anywhere on the pad (it is cropped, scaled and centred like the "
                              f"{height}×{width} training images), load an image file, or pick a sample. The "
                              "prediction follows your pen.")
        else:
            self.hint.setText("These samples are not pictures: pick a sample to see the network's prediction.")
        self.prediction_label.setText("Draw or pick a sample")
        self.bars.set_prediction(None)
        self.network_input.set_pixels(None)

    # --- requests -------------------------------------------------------------------------------
    def predict_drawing(self) -> None:
        if self.snapshot is not None and self.snapshot.image_shape is not None:
            self.job.request(predict_drawing, self.snapshot, self.pad.canvas.copy(), tag=DRAWING)

    def predict_sample(self, index: int) -> None:
        if self.snapshot is not None:
            self.job.request(predict_sample, self.snapshot, index, tag=PICTURE)

    def choose_image(self) -> None:
        if self.snapshot is None:
            return
        path = self.dialogs.open_file("Load an image to predict", IMAGE_FILTERS)
        if path:
            self.job.request(predict_file, self.snapshot, path, tag=PICTURE)

    # --- answers --------------------------------------------------------------------------------
    def show_prediction(self, tag: str, prediction: Prediction) -> None:
        """Show the answer; a sample or a loaded file also appears on the pad, ready to draw on."""
        self.prediction = prediction
        if tag == PICTURE and prediction.image is not None:
            self.pad.blockSignals(True)
            self.pad.set_pixels(prediction.image)
            self.pad.blockSignals(False)
        self.prediction_label.setText(prediction_text(prediction))
        self.bars.set_prediction(prediction)
        self.network_input.set_pixels(prediction.image)

    def _failed(self, message: str) -> None:
        self.dialogs.message(Message(MessageKind.ERROR, "Cannot predict", message))


def _button(text: str, name: str, accessible: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setAccessibleName(accessible)
    return button
