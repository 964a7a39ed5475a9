"""A look at the data before training: a grid of sample images with their labels, a scatter plot
for 2-D points, a line for 1-D regression, or the first rows of a table.

It draws a :class:`studio.core.data.Preview` (plain numpy arrays), so nothing here touches torch.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QStackedWidget, QTableWidget, QTableWidgetItem, QWidget

# Distinct colours for class labels in scatter plots (Okabe-Ito, readable for colour-blind users).
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
                "#999999", "#882255")
TABLE_ROWS = 20


def to_qimage(image: np.ndarray) -> QImage:
    """A QImage copy of an (H, W) or (H, W, C) float array in [0, 1]."""
    pixels = np.ascontiguousarray(np.clip(image * 255.0, 0, 255).astype(np.uint8))
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = np.ascontiguousarray(pixels[:, :, 0])
    height, width = pixels.shape[:2]
    if pixels.ndim == 2:
        return QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    if pixels.shape[2] == 3:
        return QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    return QImage(pixels.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()


class ImageGrid(QWidget):
    """Thumbnails in rows, each with its label underneath; pixels stay sharp (no smoothing)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewImages")
        self._images: list[QImage] = []
        self._labels: list[str] = []
        self.setMinimumHeight(120)

    def set_images(self, images: list[QImage], labels: list[str]) -> None:
        self._images, self._labels = images, labels
        self.setToolTip(" · ".join(dict.fromkeys(labels)))  # the captions in full, once each
        self.update()

    def labels(self) -> list[str]:
        return list(self._labels)

    def sizeHint(self) -> QSize:
        return QSize(320, 200)

    def _cell(self) -> tuple[int, int]:
        """Side of one thumbnail cell and the number of columns at the current size."""
        text_h = self.fontMetrics().height()
        columns = max(1, min(len(self._images), 8))
        rows = -(-len(self._images) // columns)
        return max(24, min(self.width() // columns, (self.height() // rows) - text_h)), columns

    def captions(self) -> list[str]:
        """The captions as drawn now: a long class name ("automobile") is shortened to its cell with "…"
        instead of running into the next caption (the tooltip lists them in full)."""
        cell, _columns = self._cell()
        metrics = self.fontMetrics()
        return [metrics.elidedText(label, Qt.TextElideMode.ElideRight, cell - 2) for label in self._labels]

    def paintEvent(self, event) -> None:
        if not self._images:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        text_h = self.fontMetrics().height()
        cell, columns = self._cell()
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        for i, (image, caption) in enumerate(zip(self._images, self.captions(), strict=True)):
            x, y = (i % columns) * cell, (i // columns) * (cell + text_h)
            side = cell - 6
            painter.drawImage(QRect(x + 3, y + 3, side, side), image)
            painter.drawText(QRect(x, y + cell - 2, cell, text_h), Qt.AlignmentFlag.AlignHCenter, caption)
        painter.end()


class DataPreview(QStackedWidget):
    """Shows a dataset preview in the form that fits it; ``kind()`` says which one is showing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataPreview")
        self.setAccessibleName("Data preview")
        self.setMinimumHeight(180)
        self.placeholder = QLabel("Loading the data shows samples here.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setProperty("role", "hint")
        self.images = ImageGrid()
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("previewPlot")
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.table = QTableWidget()
        self.table.setObjectName("previewTable")
        for page in (self.placeholder, self.images, self.plot, self.table):
            self.addWidget(page)
        self._kind = "none"

    def kind(self) -> str:
        return self._kind

    def clear(self, text: str = "Loading the data shows samples here.") -> None:
        self.placeholder.setText(text)
        self.setCurrentWidget(self.placeholder)
        self._kind = "none"

    def show_preview(self, preview) -> None:
        """Draw a ``studio.core.data.Preview``."""
        self._kind = preview.kind
        getattr(self, f"_show_{preview.kind}")(preview)

    def _label(self, preview, value) -> str:
        if preview.task != "classification":
            return f"{float(value):.3g}"
        index = int(value)
        names = preview.class_names
        return str(names[index]) if index < len(names) else str(index)

    def _show_images(self, preview) -> None:
        images = [to_qimage(image) for image in preview.data]
        self.images.set_images(images, [self._label(preview, v) for v in preview.labels])
        self.setCurrentWidget(self.images)

    def _show_points(self, preview) -> None:
        self.plot.clear()
        labels = np.asarray(preview.labels)
        classes = np.unique(labels) if preview.task == "classification" else np.array([0])
        legend = self.plot.addLegend(offset=(6, 6)) if preview.task == "classification" else None
        for k in classes:
            rows = labels == k if preview.task == "classification" else slice(None)
            color = CLASS_COLORS[int(k) % len(CLASS_COLORS)]
            item = pg.ScatterPlotItem(preview.data[rows, 0], preview.data[rows, 1], size=6, pen=None, brush=color)
            self.plot.addItem(item)
            if legend is not None:
                legend.addItem(item, self._label(preview, k))
        self.setCurrentWidget(self.plot)

    def _show_curve(self, preview) -> None:
        self.plot.clear()
        data = np.asarray(preview.data)
        self.plot.plot(data[:, 0], data[:, 1], pen=pg.mkPen(CLASS_COLORS[0], width=2),
                       symbol="o", symbolSize=4, symbolBrush=CLASS_COLORS[0])
        self.setCurrentWidget(self.plot)

    def _show_table(self, preview) -> None:
        data = np.asarray(preview.data)[:TABLE_ROWS]
        names = list(preview.feature_names) or [f"x{i}" for i in range(data.shape[1])]
        self.table.clear()
        self.table.setRowCount(len(data))
        self.table.setColumnCount(len(names) + 1)
        self.table.setHorizontalHeaderLabels([*names, "label"])
        for r, row in enumerate(data):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(f"{float(value):.4g}"))
            self.table.setItem(r, len(names), QTableWidgetItem(self._label(preview, preview.labels[r])))
        self.setCurrentWidget(self.table)
