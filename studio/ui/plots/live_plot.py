"""One live plot: curves made once and fed with ``setData``, repainted only when asked.

Speed rules from ``shared/conventions.md``: curves downsample ("peak") and clip to the view;
auto-range is off because each ``setData`` with auto-range on paints twice. Instead the plot
follows its data with one ``setRange`` per refresh (the panel refreshes a few times a second),
until the learner zooms or pans; "Follow the data" in the context menu turns it back on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPaintEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QFileDialog, QLabel, QWidget

from studio.ui.plots.axis import LogFriendlyAxis
from studio.ui.plots.export import EXPORT_FILTER, export_plot
from studio.ui.plots.ranges import Range, next_x_range, next_y_range
from studio.ui.plots.style import BACKGROUND, FOREGROUND

LEFT_AXIS_WIDTH = 64
LOG_MIN_SPAN = 1.0  # a log axis shows at least one decade, so a nearly constant rate looks constant
LEGEND_ROW = 4  # the PlotItem's grid row under the x axis (title 0, top axis 1, view 2, bottom axis 3)
LEGEND_COLUMNS = 2


@dataclass
class _Curve:
    item: pg.PlotDataItem
    x: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    dirty: bool = False
    name: str | None = None  # the legend's text; only curves with data are listed


class LivePlot(pg.PlotWidget):
    """A titled plot whose curves are addressed by key; :meth:`refresh` pushes new data to them."""

    def __init__(
        self,
        object_name: str,
        title: str,
        x_label: str,
        y_label: str,
        description: str,
        log_y: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, axisItems={"left": LogFriendlyAxis("left")})
        self.setObjectName(object_name)
        self.setAccessibleName(title)
        self.setAccessibleDescription(description)
        self.setToolTip(description)
        self.setMinimumSize(220, 140)
        self.setBackground(BACKGROUND)
        item = self.getPlotItem()
        item.setTitle(title, color=FOREGROUND, size="10pt")
        for side, label in (("bottom", x_label), ("left", y_label)):
            axis = item.getAxis(side)
            axis.setPen(FOREGROUND)
            axis.setTextPen(FOREGROUND)
            axis.setLabel(label)
            # "x0.001" multipliers confuse on log axes and for learning rates; plain numbers read better.
            axis.enableAutoSIPrefix(False)
        # A fixed width aligns the plots of a column and leaves room for ticks like "0.0009".
        item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        item.showGrid(x=False, y=True, alpha=0.2)
        item.setLogMode(y=log_y)
        item.hideButtons()  # the "A" button would switch pyqtgraph's auto-range back on
        item.vb.disableAutoRange()
        item.vb.sigRangeChangedManually.connect(self._stop_following)
        self.legend: pg.LegendItem | None = None
        self._min_y_span = LOG_MIN_SPAN if log_y else 0.0
        # Why the plot is empty, over its middle while no visible curve has data (QLabel: stays put when panned).
        self.empty_label = QLabel(self)
        self.empty_label.setObjectName(f"{object_name}Empty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(f"color: {FOREGROUND}; background: transparent;")
        self.empty_label.hide()
        self._curves: dict[str, _Curve] = {}
        self.x_span: Range | None = None  # the run's planned x extent, shown from the start
        self._following = True
        self._ranged = False  # False until the plot first set its own range
        self._range_dirty = False
        self._paint_seconds = 0.0
        # Brings this plot's curve data up to date; the panel that feeds it replaces this.
        self.sync: Callable[[], None] = lambda: None
        self._add_menu_actions()

    # --- curves -------------------------------------------------------------------------------

    def add_legend(self) -> pg.LegendItem:
        """A legend under the x axis, outside the data, so it never covers a curve; named curves join it."""
        legend = pg.LegendItem(labelTextSize="8pt", labelTextColor=FOREGROUND, verSpacing=-6, horSpacing=16,
                               colCount=LEGEND_COLUMNS)
        item = self.getPlotItem()
        item.layout.addItem(legend, LEGEND_ROW, 1)
        item.legend = legend  # PlotItem.addItem adds named curves to ``legend``
        self.legend = legend
        return legend

    def set_empty_text(self, text: str) -> None:
        """What the plot says while it has nothing to draw (why: no run yet, statistics off, no accuracy)."""
        self.empty_label.setText(text)
        self._update_empty()

    def _update_empty(self) -> None:
        drawn = [c for c in self._curves.values() if c.item.isVisible() and len(c.y)]
        self.empty_label.setVisible(not drawn and bool(self.empty_label.text()))
        if self.legend is None:
            return
        # A key to curves that are not there would only puzzle (no validation split, nothing trained yet).
        listed = [c for c in drawn if c.name]
        if [item for item, _label in self.legend.items] != [c.item for c in listed]:
            self.legend.clear()
            for curve in listed:
                self.legend.addItem(curve.item, curve.name)
            # LegendItem sizes itself with setGeometry(0, 0, ...): the plot's grid must place it again.
            self.legend.updateGeometry()
            self.getPlotItem().layout.invalidate()
        self.legend.setVisible(bool(listed))

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        label = self.__dict__.get("empty_label")  # pyqtgraph resizes once inside its own constructor
        if label is not None:
            margin = 12
            label.setGeometry(LEFT_AXIS_WIDTH + margin, margin, max(self.width() - LEFT_AXIS_WIDTH - 2 * margin, 40),
                              max(self.height() - 2 * margin, 20))

    def add_curve(self, key: str, name: str | None = None, **style: object) -> pg.PlotDataItem:
        """Create the curve ``key`` once (``style``: pen, symbol, symbolBrush ... as for ``plot``)."""
        item = self.getPlotItem().plot(name=name, **style)
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        self._curves[key] = _Curve(item, name=name)
        return item

    def remove_curve(self, key: str) -> None:
        curve = self._curves.pop(key, None)
        if curve is not None:
            self.getPlotItem().removeItem(curve.item)
            if self.legend is not None:
                self.legend.removeItem(curve.item)

    def has_curve(self, key: str) -> bool:
        return key in self._curves

    def curve(self, key: str) -> pg.PlotDataItem:
        return self._curves[key].item

    def keys(self) -> list[str]:
        """The keys of the curves in creation order."""
        return list(self._curves)

    def set_data(self, key: str, x: np.ndarray, y: np.ndarray) -> None:
        """Remember new data for ``key``; it reaches the screen at the next :meth:`refresh`."""
        curve = self._curves[key]
        curve.x, curve.y, curve.dirty = x, y, True
        self._range_dirty = True

    def set_curve_visible(self, key: str, visible: bool) -> None:
        self._curves[key].item.setVisible(visible)
        self._range_dirty = True

    # --- repainting ---------------------------------------------------------------------------

    def pending(self) -> bool:
        """True when data or visibility changed since the last :meth:`refresh`."""
        return self._range_dirty or any(curve.dirty for curve in self._curves.values())

    def paintEvent(self, event: QPaintEvent) -> None:
        start = time.thread_time()
        super().paintEvent(event)
        self._paint_seconds += time.thread_time() - start

    def take_paint_seconds(self) -> float:
        """CPU seconds spent painting since the last call (for the panel's repaint pacing)."""
        seconds, self._paint_seconds = self._paint_seconds, 0.0
        return seconds

    def showEvent(self, event: QShowEvent) -> None:
        # A plot hidden in another tab skipped its refreshes; catch up when it appears.
        super().showEvent(event)
        self.refresh()

    def refresh(self, force: bool = False) -> bool:
        """Push pending data to the curves; a hidden plot is skipped unless ``force``. True if it drew."""
        if not (force or self.isVisible()):
            return False
        for curve in self._curves.values():
            if curve.dirty:
                curve.item.setData(curve.x, curve.y)
                curve.dirty = False
        if self._following and self._range_dirty:
            self._follow_range()
        self._range_dirty = False
        self._update_empty()
        return True

    def fit_x_to_data(self) -> None:
        """Drop the planned end of the x axis (keep its start): a run that stopped early fills the plot instead
        of its first corner."""
        start = self.x_span[0] if self.x_span is not None else 0.0
        self.x_span = (start, start)
        self._ranged = False
        self._range_dirty = True

    def follow(self) -> None:
        """Track the data again after the learner zoomed or panned."""
        self._following = True
        self._ranged = False
        self._range_dirty = True
        self.refresh(force=True)

    def _stop_following(self) -> None:
        self._following = False

    def _follow_range(self) -> None:
        bounds = self._data_bounds()
        if bounds is None:
            return
        vb = self.getPlotItem().vb
        view_x, view_y = vb.viewRange() if self._ranged else (None, None)
        x = next_x_range(bounds[0], self.x_span, view_x)
        y = next_y_range(bounds[1], view_y, self._min_y_span)
        if x is not None or y is not None:
            vb.setRange(xRange=x or view_x, yRange=y or view_y, padding=0)
            self._ranged = True

    def _data_bounds(self) -> tuple[Range, Range] | None:
        """Finite bounds of the visible curves, in view coordinates (log10 on a log axis)."""
        log_y = bool(self.getPlotItem().vb.state["logMode"][1])
        xs: list[float] = []
        ys: list[float] = []
        for curve in self._curves.values():
            if not curve.item.isVisible() or len(curve.y) == 0:
                continue
            y = curve.y
            if log_y:
                with np.errstate(divide="ignore", invalid="ignore"):
                    y = np.log10(y)
            keep = np.isfinite(y) & np.isfinite(curve.x)
            if keep.any():
                xs.extend((float(curve.x[keep].min()), float(curve.x[keep].max())))
                ys.extend((float(y[keep].min()), float(y[keep].max())))
        if not xs:
            return None
        return (min(xs), max(xs)), (min(ys), max(ys))

    # --- export -------------------------------------------------------------------------------

    def export(self, path: str | Path) -> Path:
        """Save as PNG, SVG or CSV, chosen by the file's suffix; the data is brought up to date first."""
        self.sync()
        self.refresh(force=True)
        return export_plot(self.getPlotItem(), path)

    def _add_menu_actions(self) -> None:
        menu = self.getPlotItem().vb.menu
        menu.addSeparator()
        menu.addAction("Follow the data", self.follow)
        menu.addAction("Save plot as PNG, SVG or CSV…", self._ask_export)

    def _ask_export(self) -> None:
        name = self.accessibleName().lower().replace(" ", "-")
        path, _ = QFileDialog.getSaveFileName(self, "Save plot", f"{name}.png", EXPORT_FILTER)
        if path:
            self.export(path)
