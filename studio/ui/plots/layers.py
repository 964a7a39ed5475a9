"""Per-layer curves (activation mean, variance, gradient norm) and the list that toggles them.

One colour per layer in all three plots; the list next to the plots is their shared legend,
and unticking a layer hides its curve everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from studio.core.events import LayerStats
from studio.ui.plots.buffers import Series
from studio.ui.plots.live_plot import LivePlot
from studio.ui.plots.style import colour, pen

# LayerStats field shown by each plot key of the panel.
LAYER_FIELDS = {"activation": "act_mean", "variance": "act_var", "gradient": "grad_norm"}


def _swatch(value: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(value)
    return QIcon(pixmap)


class LayerList(QListWidget):
    """Checkable layer names with their colour; emits ``layerToggled(name, visible)``."""

    layerToggled = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerToggleList")
        self.setAccessibleName("Layers shown in the layer plots")
        self.setToolTip("Untick a layer to hide its curves in the activation and gradient plots.")
        self.itemChanged.connect(self._changed)

    def add_layer(self, name: str, value: QColor, checked: bool = True) -> None:
        item = QListWidgetItem(_swatch(value), name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.addItem(item)

    def set_checked(self, name: str, checked: bool) -> None:
        for item in self.findItems(name, Qt.MatchFlag.MatchExactly):
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _changed(self, item: QListWidgetItem) -> None:
        self.layerToggled.emit(item.text(), item.checkState() == Qt.CheckState.Checked)


class LayerCurves:
    """Buffers and curves of every layer in the three layer plots."""

    def __init__(self, plots: dict[str, LivePlot], layer_list: LayerList) -> None:
        self._plots = {key: plots[key] for key in LAYER_FIELDS}
        self._list = layer_list
        self._series: dict[str, dict[str, Series]] = {}  # layer name -> plot key -> series
        self._hidden: set[str] = set()
        self._dirty = False  # data added since the last push
        layer_list.layerToggled.connect(self.set_visible)

    def names(self) -> list[str]:
        return list(self._series)

    def series(self, name: str, key: str) -> Series:
        return self._series[name][key]

    def start(self, names: tuple[str, ...]) -> None:
        """Begin a run: the same layers as before keep their curves (only the data goes), others are rebuilt.

        Re-running the same network is the common case, and rebuilding 3 x layers curves costs the
        GUI thread tens of milliseconds just when training starts.
        """
        if tuple(self._series) != tuple(names):
            self.clear()
            self.ensure(names)
            return
        for by_plot in self._series.values():
            for series in by_plot.values():
                series.clear()
        self._dirty = True

    def ensure(self, names: tuple[str, ...]) -> None:
        """Create buffers, curves and list rows for layers not seen yet, in order."""
        for name in names:
            if name in self._series:
                continue
            value = colour(len(self._series))
            self._series[name] = {key: Series() for key in self._plots}
            for plot in self._plots.values():
                plot.add_curve(f"layer:{name}", name=name, pen=pen(value, width=1.0))
                plot.set_curve_visible(f"layer:{name}", name not in self._hidden)
            self._list.add_layer(name, value, checked=name not in self._hidden)

    def add(self, events: Sequence[LayerStats], xs: Sequence[float]) -> None:
        """Append the samples of ``events`` (one network, at ``xs``); the curves get them at the next :meth:`push`.

        One copy per layer and plot for the whole list: per sample, the GUI thread would take the
        GIL from training thousands of times a second.
        """
        names = events[0].names
        self.ensure(names)
        for key, field in LAYER_FIELDS.items():
            table = np.stack([getattr(event, field) for event in events])  # samples x layers
            for column, name in enumerate(names):
                self._series[name][key].extend(xs, table[:, column])
        self._dirty = True

    def push(self) -> None:
        """Hand the buffers to the curves if anything was added (once per refresh)."""
        if not self._dirty:
            return
        for name, by_plot in self._series.items():
            for key, series in by_plot.items():
                self._plots[key].set_data(f"layer:{name}", series.x, series.y)
        self._dirty = False

    def set_visible(self, name: str, visible: bool) -> None:
        """Show or hide one layer in all three plots (kept across runs with the same layer names)."""
        if visible:
            self._hidden.discard(name)
        else:
            self._hidden.add(name)
        if name in self._series:
            for plot in self._plots.values():
                plot.set_curve_visible(f"layer:{name}", visible)
            self._list.set_checked(name, visible)

    def clear(self) -> None:
        for name in self._series:
            for plot in self._plots.values():
                plot.remove_curve(f"layer:{name}")
        self._series.clear()
        self._list.clear()
