"""Save a plot as an image or its data, with pyqtgraph's exporters, chosen by file suffix."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as exporters
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator

from studio.core.errors import ConfigError
from studio.core.io import atomic_path


class QtSvgExporter:
    """SVG through Qt's own generator: pyqtgraph 0.14's SVGExporter raises on the closing "Z" that
    Qt 6.11 writes into every path (pyqtgraph issue #3485). Same interface as pyqtgraph's exporters."""

    def __init__(self, item: pg.GraphicsObject) -> None:
        self.item = item

    def export(self, file_name: str) -> None:
        source = self.item.sceneBoundingRect()
        target = QRectF(0, 0, source.width(), source.height())
        generator = QSvgGenerator()
        generator.setFileName(file_name)
        generator.setSize(target.size().toSize())
        generator.setViewBox(target)
        generator.setTitle("Training Studio plot")
        painter = QPainter(generator)
        try:
            self.item.scene().render(painter, target, source)
        finally:
            painter.end()


EXPORTERS: dict[str, type] = {
    ".png": exporters.ImageExporter,
    ".svg": QtSvgExporter,
    ".csv": exporters.CSVExporter,
}
EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg);;CSV data (*.csv)"
# PNGs are drawn at twice the on-screen width so that they stay sharp in slides and reports.
PNG_SCALE = 2


def export_plot(item: pg.PlotItem, path: str | Path) -> Path:
    """Write ``item`` to ``path`` atomically; the suffix (.png, .svg, .csv) picks the format."""
    path = Path(path)
    kind = EXPORTERS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(EXPORTERS)
        raise ConfigError(f"cannot save a plot as '{path.suffix or path.name}'; use one of: {known}", field="path")
    exporter = kind(item)
    if kind is exporters.ImageExporter:
        exporter.parameters()["width"] = int(item.sceneBoundingRect().width() * PNG_SCALE)
    # Written next to the target, then renamed over it (atomic). The temporary name keeps the
    # suffix because Qt's image writer picks the format from it.
    with atomic_path(path, suffix=path.suffix) as tmp:
        exporter.export(str(tmp))
    return path
