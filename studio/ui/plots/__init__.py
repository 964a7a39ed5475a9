"""Live training plots: loss, accuracy, learning rate and per-layer statistics, with export."""

from studio.ui.plots.live_plot import LivePlot
from studio.ui.plots.panel import PlotsPanel

__all__ = ["LivePlot", "PlotsPanel"]
