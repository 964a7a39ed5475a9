"""What the layers see: for one sample, each layer's output (feature maps for convolutions, bars for
dense layers) and the first layer's weights as pictures (blue negative, red positive)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from studio.core.inspect.activations import MAPS, LayerActivation, SampleLayers, WeightImages, sample_layers
from studio.core.inspect.snapshot import ModelSnapshot
from studio.ui.inspect.jobs import LatestJob
from studio.ui.inspect.try_panel import prediction_text
from studio.ui.widgets.data_preview import to_qimage
from studio.ui.workers import Worker

MAX_MAPS = 32
MOSAIC_HEIGHT = 150  # pixels a row of pictures may take on screen
NEGATIVE, POSITIVE = np.array([0.13, 0.40, 0.67]), np.array([0.70, 0.09, 0.17])


def mosaic(pictures: np.ndarray, columns: int | None = None, gap: float = 1.0) -> np.ndarray:
    """Tile (K, H, W[, 3]) pictures in a grid with one-pixel gaps filled with ``gap``."""
    k, h, w = pictures.shape[:3]
    columns = columns or int(np.ceil(np.sqrt(k * 3)))  # wider than tall: rows fit the scroll area
    rows = int(np.ceil(k / columns))
    tail = pictures.shape[3:]
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1, *tail), gap, np.float32)
    for i in range(k):
        r, c = divmod(i, columns)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = pictures[i]
    return out


def diverging(values: np.ndarray) -> np.ndarray:
    """[-1, 1] values as RGB: blue for negative, white for 0, red for positive."""
    v = np.clip(values, -1.0, 1.0)[..., None]
    white = np.ones(3)
    return np.where(v < 0, white + (-v) * (NEGATIVE - white), white + v * (POSITIVE - white)).astype(np.float32)


def normalised(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] over the whole layer, so maps of one layer can be compared."""
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def picture_label(picture: np.ndarray, name: str) -> QLabel:
    """A QLabel showing an (H, W[, 3]) [0, 1] picture enlarged without smoothing."""
    image = to_qimage(picture)
    scale = max(1, int(MOSAIC_HEIGHT / max(image.height(), 1)))
    label = QLabel()
    label.setObjectName(name)
    label.setPixmap(QPixmap.fromImage(image.scaled(image.width() * scale, image.height() * scale,
                                                   Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.FastTransformation)))
    label.setAlignment(Qt.AlignmentFlag.AlignLeft)
    return label


def weights_widget(weights: WeightImages) -> QLabel:
    pictures = weights.images
    if pictures.shape[0] == 1 and pictures.ndim == 3 and weights.units == pictures.shape[1]:  # a plain matrix
        return picture_label(diverging(pictures[0]), "weightImages")
    tiles = diverging(pictures) if pictures.ndim == 3 else (pictures + 1.0) / 2.0
    return picture_label(mosaic(tiles, gap=1.0), "weightImages")


def bar_chart(values: np.ndarray) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setFixedHeight(120)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    brushes = [pg.mkBrush("#b2182b" if v >= 0 else "#2166ac") for v in values]
    plot.addItem(pg.BarGraphItem(x=np.arange(len(values)), height=values, width=0.85, brushes=brushes, pen=None))
    plot.setLabel("bottom", "unit")
    return plot


def activation_widget(act: LayerActivation) -> QWidget:
    if act.kind == MAPS:
        maps = normalised(act.values[:MAX_MAPS])
        return picture_label(mosaic(maps, gap=1.0), "activationMaps")
    return bar_chart(act.values)


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("layerTitle")
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class LayerView(QWidget):
    """Choose a sample; every layer's output for it appears in order, after the input and the weights."""

    def __init__(self, worker: Worker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerView")
        self.setAccessibleName("What each layer computes for one sample")
        self.snapshot: ModelSnapshot | None = None
        self.shown: SampleLayers | None = None
        self.job = LatestJob(worker, "Layer outputs", self)
        self.job.finished.connect(lambda _tag, result: self.show_layers(result))
        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName("layerSampleSpin")
        self.sample_spin.setAccessibleName("Sample number whose layer outputs are shown")
        self.show_button = QPushButton("Show layers")
        self.show_button.setObjectName("showLayersButton")
        self.show_button.setAccessibleName("Show each layer's output for the chosen sample")
        self.show_button.clicked.connect(lambda: self.request(self.sample_spin.value()))
        self.sample_spin.valueChanged.connect(self.request)
        self.summary = QLabel("Train a network, then choose a sample to see what each layer makes of it.")
        self.summary.setObjectName("layerSummary")
        self.summary.setWordWrap(True)
        self.rows = QWidget()
        self.rows_layout = QVBoxLayout(self.rows)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.rows)
        top = QHBoxLayout()
        top.addWidget(QLabel("Sample"))
        top.addWidget(self.sample_spin)
        top.addWidget(self.show_button)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        self.set_snapshot(None)

    def set_snapshot(self, snapshot: ModelSnapshot | None) -> None:
        self.snapshot = snapshot
        self.sample_spin.setEnabled(snapshot is not None)
        self.show_button.setEnabled(snapshot is not None)
        if snapshot is not None:
            data = snapshot.data
            self.sample_spin.blockSignals(True)
            self.sample_spin.setRange(0, max((data.n_val or data.n_train) - 1, 0))
            self.sample_spin.blockSignals(False)

    def request(self, index: int) -> None:
        """Ask the worker for sample ``index``'s layer outputs (the spin box follows)."""
        if self.snapshot is not None:
            self.sample_spin.blockSignals(True)
            self.sample_spin.setValue(int(index))
            self.sample_spin.blockSignals(False)
            self.job.request(sample_layers, self.snapshot, int(index))

    def _clear_rows(self) -> None:
        while self.rows_layout.count() > 1:
            item = self.rows_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def _add(self, title: str, widget: QWidget) -> None:
        at = self.rows_layout.count() - 1
        self.rows_layout.insertWidget(at, _title(title))
        self.rows_layout.insertWidget(at + 1, widget)

    def show_layers(self, layers: SampleLayers) -> None:
        """Rebuild the rows: input, first-layer weights, then one row per layer."""
        self.shown = layers
        self._clear_rows()
        self.summary.setText(f"Sample {layers.index}: {prediction_text(layers.prediction)}")
        if layers.prediction.image is not None:
            self._add("Input (what the network is given, before preprocessing)",
                      picture_label(layers.prediction.image, "inputPicture"))
        if layers.weights is not None:
            w = layers.weights
            shown = min(w.units, w.images.shape[0]) if w.images.shape[0] > 1 else w.units
            self._add(f"Weights of {w.layer}: {shown} of {w.units} units (blue negative, red positive)",
                      weights_widget(w))
        for act in layers.activations:
            shape = "×".join(str(s) for s in act.values.shape)
            what = f"{min(len(act.values), MAX_MAPS)} of {len(act.values)} feature maps" if act.kind == MAPS else (
                f"{len(act.values)} values")
            self._add(f"{act.name} · output {shape} · {what}", activation_widget(act))
