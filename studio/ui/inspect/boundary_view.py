"""Decision boundaries of 2-D classifiers and fits of regressors, redrawn as the network trains.

Two-dimensional sets: the background shows the predicted class of every point of a 100 x 100
grid, coloured by class and faded where the network is unsure (so the boundary is where the
colour washes out), with the training and validation points on top (validation outlined dark).
Regression: predicted against true values around the diagonal, and for one input the fitted
curve over the data. Only ``setData``/``setImage`` run per update; items are made once.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.core.inspect.boundary import BoundaryGrid, PointSet, RegressionFit
from studio.ui.plots.style import pen
from studio.ui.widgets.data_preview import CLASS_COLORS

STRENGTH = 0.65  # how much of a class colour a fully confident cell gets (the rest stays white)


def class_rgb(n: int) -> np.ndarray:
    """(n, 3) float colours of the first ``n`` classes, the data preview's colours."""
    colors = [QColor(CLASS_COLORS[i % len(CLASS_COLORS)]) for i in range(n)]
    return np.array([(c.redF(), c.greenF(), c.blueF()) for c in colors])


def boundary_image(probabilities: np.ndarray) -> np.ndarray:
    """(rows, columns, 3) uint8: the winning class's colour, faded to white as confidence drops to chance."""
    n = probabilities.shape[-1]
    winner = probabilities.argmax(-1)
    chance = 1.0 / n
    confidence = np.clip((probabilities.max(-1) - chance) / (1.0 - chance), 0.0, 1.0)[..., None]
    colours = class_rgb(n)[winner]
    rgb = 1.0 - STRENGTH * confidence * (1.0 - colours)
    return np.clip(rgb * 255.0, 0, 255).astype(np.uint8)


def _plot(title: str, x: str, y: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color="#333333")
    plot.setLabel("bottom", x)
    plot.setLabel("left", y)
    plot.showGrid(x=False, y=False)
    plot.setMenuEnabled(False)
    return plot


class BoundaryView(QWidget):
    """The decision-boundary plot (2-D sets) or the regression plots, whichever the data needs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("boundaryView")
        self.setAccessibleName("Decision boundary or regression fit")
        self.status = QLabel("Train on a 2-D set (moons, circles, spirals…) or a regression set to see the fit here.")
        self.status.setObjectName("boundaryStatus")
        self.status.setWordWrap(True)
        self.plane = _plot("Decision boundary", "x₁", "x₂")
        self.plane.setAspectLocked(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plane.addItem(self.image)
        self.legend = self.plane.addLegend(offset=(-10, 10))
        self.scatters: list[pg.ScatterPlotItem] = []
        self.fit_plot = _plot("Predicted against true (validation)", "true value", "predicted value")
        self.fit_points = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(31, 119, 180, 150))
        self.diagonal = pg.PlotDataItem(pen=pen("#888888", 1.5, dashed=True))
        self.fit_plot.addItem(self.diagonal)
        self.fit_plot.addItem(self.fit_points)
        self.curve_points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(120, 120, 120, 140))
        self.curve = pg.PlotDataItem(pen=pen("#d62728", 2.5))
        self.grid: BoundaryGrid | None = None
        self.fit: RegressionFit | None = None
        self.updates = 0  # how many pictures were drawn (tests, and a cheap liveness check)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.plane, 1)
        layout.addWidget(self.fit_plot, 1)
        self.show_mode(None)

    def show_mode(self, mode: str | None) -> None:
        """``"plane"``, ``"curve"`` (1-D regression: the curve above, predicted vs true below), ``"fit"`` or None."""
        self.plane.setVisible(mode in ("plane", "curve"))
        self.fit_plot.setVisible(mode in ("curve", "fit"))

    def clear(self) -> None:
        self.grid, self.fit = None, None
        self.image.clear()
        for item in self.scatters:
            self.plane.removeItem(item)
        self.scatters = []
        self.legend.clear()
        for item in (self.curve, self.curve_points):
            if item.scene() is not None:
                self.plane.removeItem(item)
        self.show_mode(None)

    # --- 2-D classification ---------------------------------------------------------------------
    def set_points(self, points: PointSet) -> None:
        """The data points, drawn over the boundary (once per fit)."""
        self.clear()
        self.plane.setTitle("Decision boundary", color="#333333")
        self.plane.setLabel("bottom", "x₁")
        self.plane.setLabel("left", "x₂")
        n = int(max(points.train_labels.max(initial=0), points.val_labels.max(initial=0))) + 1
        names = points.class_names or tuple(str(k) for k in range(n))
        for k in range(n):
            colour = CLASS_COLORS[k % len(CLASS_COLORS)]
            train = points.train[points.train_labels == k]
            val = points.val[points.val_labels == k]
            item = pg.ScatterPlotItem(name=names[k] if k < len(names) else str(k))
            item.addPoints(pos=train, size=7, brush=pg.mkBrush(colour), pen=pg.mkPen("w", width=0.8))
            item.addPoints(pos=val, size=7, brush=pg.mkBrush(colour), pen=pg.mkPen("#222222", width=1.4))
            self.plane.addItem(item)
            self.scatters.append(item)
        x0, x1, y0, y1 = points.extent()
        self.plane.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.status.setText("Background: the class the network predicts at each point, faded where it is unsure. "
                            "Outlined points are validation samples.")
        self.show_mode("plane")

    def set_grid(self, grid: BoundaryGrid) -> None:
        """Redraw the background from a new grid of probabilities."""
        self.grid = grid
        x0, x1, y0, y1 = grid.extent
        self.image.setImage(boundary_image(grid.probabilities), autoLevels=False, levels=(0, 255))
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.plane.setTitle(f"Decision boundary · epoch {grid.epoch} · step {grid.step}", color="#333333")
        self.show_mode("plane")
        self.updates += 1

    # --- regression -----------------------------------------------------------------------------
    def set_fit(self, fit: RegressionFit) -> None:
        """Predicted against true values, and the fitted curve for one input."""
        self.fit = fit
        true, predicted = fit.true.reshape(-1), fit.predicted.reshape(-1)
        self.fit_points.setData(true, predicted)
        low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
        self.diagonal.setData([low, high], [low, high])
        self.fit_plot.setTitle(f"Predicted against true (R² {fit.r2:.3f}) · epoch {fit.epoch}", color="#333333")
        if fit.curve_x is not None:
            if self.curve.scene() is None:
                self.plane.addItem(self.curve_points)
                self.plane.addItem(self.curve)
            self.curve_points.setData(fit.x, fit.true[:, 0])
            self.curve.setData(fit.curve_x, fit.curve_y)
            self.plane.setTitle(f"Fitted curve over the data · epoch {fit.epoch}", color="#333333")
            self.plane.setLabel("bottom", "x")
            self.plane.setLabel("left", "y")
        self.status.setText("Points on the dashed diagonal are predicted exactly."
                            + (" The red line is what the network computes for every x." if fit.curve_x is not None
                               else ""))
        self.show_mode("curve" if fit.curve_x is not None else "fit")
        self.updates += 1
