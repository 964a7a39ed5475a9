"""The confusion matrix as a clickable heat map; the same painter draws it on screen and into a PNG.

Rows are true classes, columns predicted ones. Colour shows each cell's share of its row (the
fraction of that true class), so small classes are as readable as large ones: blue on the
diagonal (right), red off it (mistakes). Counts are written in the cells when they fit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from studio.core.inspect.metrics import MetricsReport
from studio.core.io import atomic_path

RIGHT = QColor("#2166ac")
WRONG = QColor("#c0392b")
EMPTY = QColor("#ffffff")
GRID = QColor("#d0d4dc")
SELECTED = QColor("#111111")
ZERO = QColor("#b8bdc7")  # zeros are written faintly so the counts that matter stand out
PNG_SIZE = QSize(900, 800)
AXIS_GAP = 6


def cell_colour(fraction: float, diagonal: bool) -> QColor:
    """White for 0, the full diagonal/mistake colour for 1.

    Mistakes use a square-root scale from a visible minimum: one wrong sample out of 40 must
    still catch the eye, which a linear scale (2.5 % tint) would not.
    """
    f = max(0.0, min(1.0, fraction))
    base = RIGHT
    if not diagonal:
        base, f = WRONG, (0.18 + 0.82 * f**0.5 if f > 0 else 0.0)
    return QColor.fromRgbF(*(1 - f + f * c for c in (base.redF(), base.greenF(), base.blueF())))


@dataclass(frozen=True)
class Geometry:
    """Where the matrix sits in a rectangle: top-left of cell (0, 0), cell size, label bands."""

    left: float
    top: float
    cell: float
    n: int
    rotated: bool

    def cell_rect(self, row: int, column: int) -> QRectF:
        return QRectF(self.left + column * self.cell, self.top + row * self.cell, self.cell, self.cell)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        column, row = int((x - self.left) // self.cell), int((y - self.top) // self.cell)
        inside = 0 <= row < self.n and 0 <= column < self.n and x >= self.left and y >= self.top
        return (row, column) if inside else None


def layout(rect: QRectF, names: tuple[str, ...], metrics: QFontMetrics) -> Geometry:
    """Room for the axis titles and the class names, the rest for square cells."""
    n = max(len(names), 1)
    line = metrics.height()
    widest = max((metrics.horizontalAdvance(name) for name in names), default=0)
    label = min(widest + 2 * AXIS_GAP, rect.width() * 0.3)
    first_guess = (min(rect.width() - label - line, rect.height() - 2 * line) - line) / n
    rotated = widest > first_guess - 4
    top_band = line + AXIS_GAP + (min(widest, rect.height() * 0.3) if rotated else line) + AXIS_GAP
    cell = max(min((rect.width() - label - line - AXIS_GAP) / n, (rect.height() - top_band) / n), 1.0)
    return Geometry(rect.left() + line + label, rect.top() + top_band, cell, n, rotated)


def paint_confusion(painter: QPainter, rect: QRectF, report: MetricsReport, selected: tuple[int, int] | None,
                    text: QColor) -> Geometry:
    """Draw ``report``'s matrix with labels into ``rect``; returns the geometry for hit tests."""
    names = report.class_names
    metrics = QFontMetrics(painter.font())
    g = layout(rect, names, metrics)
    counts = report.confusion
    row_totals = counts.sum(1)
    for row in range(g.n):
        for column in range(g.n):
            fraction = counts[row, column] / row_totals[row] if row_totals[row] else 0.0
            r = g.cell_rect(row, column)
            painter.fillRect(r, cell_colour(fraction, row == column) if counts[row, column] else EMPTY)
            if g.cell >= metrics.horizontalAdvance(str(counts[row, column])) + 4 and g.cell >= metrics.height():
                dark = cell_colour(fraction, row == column).lightnessF() < 0.6
                painter.setPen(QColor("white") if dark else ZERO if not counts[row, column] else QColor("#1d2330"))
                painter.drawText(r, Qt.AlignmentFlag.AlignCenter, str(counts[row, column]))
    painter.setPen(GRID)
    for i in range(g.n + 1):
        painter.drawLine(QPointF(g.left, g.top + i * g.cell), QPointF(g.left + g.n * g.cell, g.top + i * g.cell))
        painter.drawLine(QPointF(g.left + i * g.cell, g.top), QPointF(g.left + i * g.cell, g.top + g.n * g.cell))
    _labels(painter, g, names, metrics, text, rect)
    if selected is not None:
        painter.setPen(SELECTED)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(g.cell_rect(*selected).adjusted(1, 1, -1, -1))
    return g


def _labels(painter: QPainter, g: Geometry, names: tuple[str, ...], metrics: QFontMetrics, text: QColor,
            rect: QRectF) -> None:
    painter.setPen(text)
    line = metrics.height()
    span = g.n * g.cell
    label_width = g.left - rect.left() - line - AXIS_GAP
    for i, name in enumerate(names):
        row_rect = QRectF(rect.left() + line, g.top + i * g.cell, label_width, g.cell)
        shown = metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(label_width))
        painter.drawText(row_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown)
        band = g.top - rect.top() - line - 2 * AXIS_GAP
        if g.rotated:
            painter.save()
            painter.translate(g.left + (i + 0.5) * g.cell + line / 3, g.top - AXIS_GAP)
            painter.rotate(-90)
            painter.drawText(QPointF(0, 0), metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(band)))
            painter.restore()
        else:
            column_rect = QRectF(g.left + i * g.cell, g.top - AXIS_GAP - line, g.cell, line)
            painter.drawText(column_rect, Qt.AlignmentFlag.AlignCenter, name)
    bold = QFont(painter.font())
    bold.setBold(True)
    painter.setFont(bold)
    painter.drawText(QRectF(g.left, rect.top(), span, line), Qt.AlignmentFlag.AlignCenter, "predicted class")
    painter.save()
    painter.translate(rect.left(), g.top + span / 2)
    painter.rotate(-90)
    painter.drawText(QRectF(-span / 2, 0, span, line), Qt.AlignmentFlag.AlignCenter, "true class")
    painter.restore()


def save_confusion_png(path: str | os.PathLike[str], report: MetricsReport, size: QSize = PNG_SIZE) -> None:
    """Render the matrix with labels and counts on white into a PNG file (written atomically)."""
    image = QImage(size, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = 16
    paint_confusion(painter, QRectF(margin, margin, size.width() - 2 * margin, size.height() - 2 * margin),
                    report, None, QColor("#1d2330"))
    painter.end()
    with atomic_path(path) as tmp:
        # PySide's stubs ask for bytes, but at run time only a str format is accepted.
        if not image.save(str(tmp), "PNG"):  # type: ignore[call-overload]
            raise OSError(f"could not write {path}")


class ConfusionWidget(QWidget):
    """Click (or move with the arrow keys and press Enter on) a cell to see its examples."""

    cellClicked = Signal(int, int)  # true class, predicted class

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setAccessibleName("Confusion matrix")
        self.setAccessibleDescription("Rows are true classes, columns predicted ones; pick a cell to see its samples.")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.report: MetricsReport | None = None
        self.selected: tuple[int, int] | None = None
        self._geometry: Geometry | None = None

    def set_report(self, report: MetricsReport | None) -> None:
        """Show ``report`` (None clears); a selected cell stays selected when the classes stay the same."""
        if report is None or self.report is None or report.class_names != self.report.class_names:
            self.selected = None
        self.report = report
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(420, 400)

    def cell_rect(self, row: int, column: int) -> QRect:
        """The cell's rectangle in widget coordinates (for tests and tooltips)."""
        if self._geometry is None:
            self.repaint()  # the geometry is measured while painting
        assert self._geometry is not None, "painting measures the geometry"
        return self._geometry.cell_rect(row, column).toAlignedRect()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(self.foregroundRole())
        if self.report is None:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             "Train a classifier: its confusion matrix appears here after every epoch.")
            self._geometry = None
            return
        self._geometry = paint_confusion(painter, QRectF(self.rect()).adjusted(4, 4, -4, -4), self.report,
                                         self.selected, text)

    def _choose(self, cell: tuple[int, int]) -> None:
        self.selected = cell
        self.update()
        self.cellClicked.emit(*cell)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.report is None or event.button() != Qt.MouseButton.LeftButton:
            return
        if self._geometry is None:
            self.repaint()
        cell = self._geometry.cell_at(event.position().x(), event.position().y()) if self._geometry else None
        if cell is not None:
            self._choose(cell)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cell = self._geometry.cell_at(event.position().x(), event.position().y()) if self._geometry else None
        if cell is None or self.report is None:
            QToolTip.hideText()
            return
        QToolTip.showText(event.globalPosition().toPoint(), self.describe(*cell), self)

    def describe(self, row: int, column: int) -> str:
        """A sentence about one cell, for tooltips and screen readers."""
        report = self.report
        if report is None:
            return ""
        names, count, total = report.class_names, int(report.confusion[row, column]), int(report.support[row])
        share = f" ({count / total:.0%} of the {names[row]} samples)" if total else ""
        return f"True {names[row]}, predicted {names[column]}: {count} sample{'s' if count != 1 else ''}{share}"

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.report is None:
            return super().keyPressEvent(event)
        n = len(self.report.class_names)
        row, column = self.selected or (0, 0)
        moves = {Qt.Key.Key_Up: (-1, 0), Qt.Key.Key_Down: (1, 0), Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1)}
        key = Qt.Key(event.key())
        if key in moves:
            dr, dc = moves[key]
            self.selected = (min(max(row + dr, 0), n - 1), min(max(column + dc, 0), n - 1))
            self.setAccessibleDescription(self.describe(*self.selected))
            self.update()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self._choose((row, column))
        else:
            super().keyPressEvent(event)
