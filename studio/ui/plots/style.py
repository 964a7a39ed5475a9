"""Colours and pens shared by the plots, so a layer or a run has one colour everywhere."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

# Tableau 10: distinct, colour-blind friendlier than pyqtgraph's hue wheel, readable on white.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
TRAIN = "#1f77b4"
VALIDATION = "#d62728"
BACKGROUND = "w"
FOREGROUND = "#333333"
RAW_ALPHA = 70  # the unsmoothed loss stays visible behind the smoothed line without dominating it
OVERLAY_ALPHA = 150


def colour(index: int, alpha: int = 255) -> QColor:
    """The ``index``-th palette colour (cycling)."""
    result = QColor(PALETTE[index % len(PALETTE)])
    result.setAlpha(alpha)
    return result


def pen(value: str | QColor, width: float = 2.0, alpha: int = 255, dashed: bool = False) -> pg.QtGui.QPen:
    qcolour = QColor(value)
    qcolour.setAlpha(alpha)
    result = pg.mkPen(qcolour, width=width)
    if dashed:
        result.setStyle(Qt.PenStyle.DashLine)
    result.setCosmetic(True)
    return result
