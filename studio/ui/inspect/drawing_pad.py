"""A drawing pad, and a view of the picture the network was given.

Strokes are painted on a canvas ``SUPERSAMPLE`` times finer than the input (32x32 for the 8x8 digits, the size
of the bitmaps they were counted from), light ink on black like the training digits, in the raw range [0, 1].
The core makes the drawing look like the training pictures (cropped, scaled, centred:
``studio.core.inspect.drawing``); :class:`PictureView` shows what came out, in sharp input pixels.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.ui.widgets.data_preview import to_qimage

SUPERSAMPLE = 4
GRID = QColor(255, 255, 255, 28)


def default_brush(width: int) -> float:
    """A stroke width (in input pixels) like the data's: about 1.3 px for 8x8 digits, 3.3 px for 28x28."""
    return round(0.1 * width + 0.5, 1)


class DrawingPad(QWidget):
    """Draw with the left mouse button; ``changed`` after every bit of a stroke, ``strokeFinished`` on release."""

    changed = Signal()
    strokeFinished = Signal()

    def __init__(self, shape: tuple[int, int] = (8, 8), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawingPad")
        self.setAccessibleName("Drawing pad: draw a sample with the mouse")
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.brush_size = default_brush(shape[1])
        self._last: QPointF | None = None
        self.set_shape(shape)

    def sizeHint(self) -> QSize:
        return QSize(280, 280)

    def set_shape(self, shape: tuple[int, int]) -> None:
        """Switch to pictures of ``(height, width)`` input pixels (clears the pad)."""
        self.shape = (int(shape[0]), int(shape[1]))
        self.canvas = np.zeros((self.shape[0] * SUPERSAMPLE, self.shape[1] * SUPERSAMPLE), np.float32)
        self.update()

    def clear(self) -> None:
        self.canvas[:] = 0.0
        self.update()
        self.changed.emit()

    def pixels(self) -> np.ndarray:
        """The picture in input pixels, (height, width) float32 in [0, 1]."""
        h, w = self.shape
        return self.canvas.reshape(h, SUPERSAMPLE, w, SUPERSAMPLE).mean(axis=(1, 3))

    def set_pixels(self, pixels: np.ndarray) -> None:
        """Show a picture (a loaded file, a sample) so that drawing can continue on it."""
        grey = pixels.mean(-1) if pixels.ndim == 3 else pixels
        self.set_shape(grey.shape)
        self.canvas[:] = np.kron(np.clip(grey, 0, 1), np.ones((SUPERSAMPLE, SUPERSAMPLE), np.float32))
        self.update()

    # --- geometry -------------------------------------------------------------------------------
    def picture_rect(self) -> QRectF:
        """Where the picture is drawn: the largest centred rectangle with square input pixels."""
        h, w = self.shape
        cell = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - cell * w) / 2, (self.height() - cell * h) / 2, cell * w, cell * h)

    def to_canvas(self, point: QPointF) -> tuple[float, float]:
        """Widget coordinates to canvas coordinates (column, row), in fine canvas pixels."""
        rect = self.picture_rect()
        scale = self.canvas.shape[1] / rect.width()
        return (point.x() - rect.left()) * scale, (point.y() - rect.top()) * scale

    # --- painting strokes ---------------------------------------------------------------------------
    def stamp(self, x: float, y: float) -> None:
        """Ink a disc of ``brush_size`` input pixels around canvas point (x, y), anti-aliased at its edge."""
        radius = self.brush_size * SUPERSAMPLE / 2
        rows, columns = self.canvas.shape
        r0, r1 = max(int(y - radius - 1), 0), min(int(y + radius + 2), rows)
        c0, c1 = max(int(x - radius - 1), 0), min(int(x + radius + 2), columns)
        if r0 >= r1 or c0 >= c1:
            return
        yy, xx = np.mgrid[r0:r1, c0:c1]
        distance = np.hypot(xx + 0.5 - x, yy + 0.5 - y)
        ink = np.clip(radius + 0.5 - distance, 0.0, 1.0).astype(np.float32)
        np.maximum(self.canvas[r0:r1, c0:c1], ink, out=self.canvas[r0:r1, c0:c1])

    def stroke(self, start: QPointF, end: QPointF) -> None:
        """Stamps along the segment, a quarter of a canvas pixel apart so the line has no gaps."""
        (x0, y0), (x1, y1) = self.to_canvas(start), self.to_canvas(end)
        steps = max(int(np.hypot(x1 - x0, y1 - y0) * 4), 1)
        for t in np.linspace(0.0, 1.0, steps + 1):
            self.stamp(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            self._last = event.position()
            self.stroke(self._last, self._last)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is not None:
            point = event.position()
            self.stroke(self._last, point)
            self._last = point

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._last is not None and event.button() == Qt.MouseButton.LeftButton:
            self._last = None
            self.strokeFinished.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(self.picture_rect(), to_qimage(self.canvas))


class PictureView(QWidget):
    """A small picture in sharp input pixels with their grid: what the network saw."""

    def __init__(self, name: str, accessible: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(accessible)
        self.setMinimumSize(72, 72)
        self.pixels: np.ndarray | None = None

    def sizeHint(self) -> QSize:
        return QSize(96, 96)

    def set_pixels(self, pixels: np.ndarray | None) -> None:
        self.pixels = pixels
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.pixels is None:
            return
        painter = QPainter(self)
        h, w = self.pixels.shape[:2]
        cell = min(self.width() / w, self.height() / h)
        rect = QRectF((self.width() - cell * w) / 2, (self.height() - cell * h) / 2, cell * w, cell * h)
        painter.drawImage(rect, to_qimage(self.pixels))  # scaled without smoothing: sharp input pixels
        painter.setPen(GRID)
        for i in range(1, w):
            x = rect.left() + i * cell
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        for i in range(1, h):
            y = rect.top() + i * cell
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
