"""Initialisation probe: one batch forward and backward under each chosen initialisation, side by side.

Four plots show a statistic per layer with one curve per scheme (activation mean and spread, the gradient
at each layer's output and of its weights); a row of small histograms shows one layer's activations under
each scheme. A scheme that leaves a layer's units identical (zeros) is flagged as a symmetry failure.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.core.lab.probe import DEFAULT_SCHEMES, SCHEMES, ProbeResult, SchemeProbe, probe_init
from studio.ui.lab.controls import RunBar, named, wrapping_label
from studio.ui.lab.runner import ExperimentRunner
from studio.ui.lab.source import LabSource
from studio.ui.plots import LivePlot
from studio.ui.plots.style import FOREGROUND, colour, pen
from studio.ui.workers import Worker

INTRO = ("Builds your network once per initialisation and sends one batch forward and backward, without "
         "training. Good schemes keep the activations' spread and the gradients about the same size from "
         "layer to layer; bad ones make them shrink to nothing or blow up.")

# Learner-facing names of the core's probe schemes (the registry name is the id).
SCHEME_TEXT = {
    "zeros": "zeros",
    "small_random": "small random 0.01",
    "normal": "naive N(0, 1)",
    "xavier": "Xavier",
    "he": "He",
}

# key: (SchemeProbe field, title, y label, log y, description)
STATS: dict[str, tuple[str, str, str, bool, str]] = {
    "mean": ("act_mean", "Activation mean", "mean", False, "Mean of each layer's output for one batch."),
    "std": ("act_std", "Activation standard deviation", "std (log)", True,
            "Spread of each layer's output: it should stay about the same from layer to layer."),
    "act_grad": ("act_grad_norm", "Gradient norm at each layer's output", "norm (log)", True,
                 "How much of the loss's gradient reaches each layer's output (vanishing or exploding)."),
    "weight_grad": ("weight_grad_norm", "Weight gradient norm", "norm (log)", True,
                    "Norm of the gradient of each layer's weights: what the optimizer would move them by."),
}  # fmt: skip
HISTOGRAM_HEIGHT = 150


def scheme_text(name: str) -> str:
    return SCHEME_TEXT.get(name, name)


MAX_NAMED_TICKS = 8  # beyond this many rows, type names overlap: ticks show row numbers only


def layer_ticks(names: tuple[str, ...]) -> list[tuple[float, str]]:
    """Tick per row: ``"1 Linear"`` (number and type) for short stacks, the row number for long ones."""
    if len(names) > MAX_NAMED_TICKS:
        return [(i + 1, str(i + 1)) for i in range(len(names))]
    return [(i + 1, " ".join(name.split()[:2])) for i, name in enumerate(names)]


def layer_list(names: list[str]) -> str:
    """``"1 Linear 128, 3 Linear 64"``; a long list keeps its ends: ``"11 layers (1 Linear 500 … 21 Linear 10)"``."""
    if len(names) <= 3:
        return ", ".join(names)
    return f"{len(names)} layers ({names[0]} … {names[-1]})"


class ProbePanel(QWidget):
    """Choose initialisations, probe them with one batch, compare per-layer statistics side by side."""

    def __init__(self, worker: Worker, source: LabSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "probePanel", "Initialisation probe")
        self.source = source
        self.result: ProbeResult | None = None
        self.runner = ExperimentRunner(worker, "Initialisation probe", self)
        self.run_bar = RunBar(self.runner, "Probe", "probeRunButton",
                              "Run one batch forward and backward under each chosen initialisation.", "probeStopButton")
        self.checks = {name: self._check(name) for name in SCHEMES.names()}
        self.plots = {key: self._stat_plot(key, *spec) for key, spec in STATS.items()}
        self.key = named(wrapping_label(), "probeKey", "Colour of each initialisation")
        self.key.setVisible(False)
        self.layer_combo = named(QComboBox(), "probeLayerCombo", "Layer shown in the histograms")
        self.layer_combo.currentIndexChanged.connect(self._show_histograms)
        self.histograms: dict[str, LivePlot] = {}
        self.histogram_row = QHBoxLayout()
        self.warning = named(wrapping_label(), "probeWarning", "Initialisation warnings")
        self.warning.setStyleSheet("color: #b71c1c;")
        self.warning.setVisible(False)  # shown when a scheme fails; the key once there are curves
        self._lay_out()
        self.run_bar.run_button.clicked.connect(self.start)
        self.runner.finished.connect(self.show_result)

    def _check(self, name: str) -> QCheckBox:
        box = named(QCheckBox(scheme_text(name)), f"probeScheme_{name}", scheme_text(name),
                    SCHEMES.get(name).init.replace("_", " "))
        box.setChecked(name in DEFAULT_SCHEMES)
        return box

    def _stat_plot(self, key: str, field: str, title: str, y_label: str, log_y: bool, description: str) -> LivePlot:
        return LivePlot(f"probe_{key}Plot", title, "layer", y_label, description, log_y=log_y)

    def _lay_out(self) -> None:
        schemes = QHBoxLayout()
        schemes.addWidget(QLabel("Initialisations:"))
        for box in self.checks.values():
            schemes.addWidget(box)
        schemes.addStretch(1)
        grid = QGridLayout()
        grid.setSpacing(4)
        for index, plot in enumerate(self.plots.values()):
            grid.addWidget(plot, index // 2, index % 2)
        layer_row = QHBoxLayout()
        label = QLabel("Histogram of the activations of layer")
        label.setBuddy(self.layer_combo)
        layer_row.addWidget(label)
        layer_row.addWidget(self.layer_combo)
        layer_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(wrapping_label(INTRO))
        layout.addLayout(schemes)
        layout.addWidget(self.run_bar)
        layout.addWidget(self.warning)
        layout.addWidget(self.key)
        layout.addLayout(grid, 3)
        layout.addLayout(layer_row)
        layout.addLayout(self.histogram_row, 1)

    def chosen(self) -> list[str]:
        return [name for name, box in self.checks.items() if box.isChecked()]

    def set_locked(self, locked: bool, reason: str = "") -> None:
        self.run_bar.set_locked(locked, reason)

    @Slot()
    def start(self) -> None:
        """Probe the chosen schemes on the current project, in the worker thread."""
        schemes = self.chosen()
        if not schemes:
            self.run_bar.show_error("Tick at least one initialisation to probe.")
            return
        project, data = self.source.for_worker()
        self.runner.run(probe_init, project, schemes, data)

    # --- results ----------------------------------------------------------------------------------

    @Slot(object)
    def show_result(self, result: ProbeResult) -> None:
        self.result = result
        for key, plot in self.plots.items():
            self._fill_stat(plot, STATS[key][0], result)
        self._fill_layers(result)
        self.key.setText("Colours: " + "&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{colour(i).name()}'>■</span> {scheme_text(p.scheme.label)}"
            for i, p in enumerate(result.schemes)))
        self.key.setVisible(True)
        self._make_histograms(result)
        self._show_histograms()
        self._show_warnings(result)
        self.run_bar.show_message(f"Probed {len(result.schemes)} initialisation(s) with one batch of "
                                  f"{result.batch_size} samples.")

    def _fill_stat(self, plot: LivePlot, field: str, result: ProbeResult) -> None:
        old = plot.keys()  # a list copy: removing while iterating is safe
        for key in old:
            plot.remove_curve(key)
        x = np.arange(1, len(result.layer_names) + 1, dtype=np.float64)
        log_y = plot.getPlotItem().vb.state["logMode"][1]
        for index, probe in enumerate(result.schemes):
            name = probe.scheme.label
            y = np.asarray(getattr(probe, field), dtype=np.float64)
            # Rows without the statistic (no weights) are left out so the line joins the rows that have it;
            # zero has no logarithm, so on a log axis it is left out too (the warning names that case).
            keep = np.isfinite(y) & (y > 0) if log_y else np.isfinite(y)
            plot.add_curve(name, name=scheme_text(name), pen=pen(colour(index)), symbol="o", symbolSize=7,
                           symbolBrush=colour(index), symbolPen=None)
            plot.set_data(name, x[keep], y[keep])
        plot.getPlotItem().getAxis("bottom").setTicks([layer_ticks(result.layer_names)])
        plot.refresh(force=True)
        plot.getPlotItem().vb.setXRange(0.5, len(x) + 0.5, padding=0)  # room for the first and last tick

    def _fill_layers(self, result: ProbeResult) -> None:
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItems(list(result.layer_names))
        # Default: the last hidden layer's output, where bad scaling has compounded the most.
        self.layer_combo.setCurrentIndex(max(len(result.layer_names) - 2, 0))
        self.layer_combo.blockSignals(False)

    def _make_histograms(self, result: ProbeResult) -> None:
        for plot in self.histograms.values():
            self.histogram_row.removeWidget(plot)
            plot.deleteLater()
        self.histograms = {}
        for probe in result.schemes:
            name = probe.scheme.label
            title = ("⚠ " if probe.symmetry_failure else "") + scheme_text(name) + \
                (": symmetric" if probe.symmetry_failure else "")
            plot = LivePlot(f"probeHistogram_{name}", title, "activation", "share", f"Histogram of the chosen "
                            f"layer's activations under {scheme_text(name)}.")
            plot.setMinimumSize(150, HISTOGRAM_HEIGHT)
            plot.getPlotItem().getAxis("left").setWidth(44)
            if probe.symmetry_failure:
                plot.getPlotItem().setTitle(title, color="#b71c1c", size="9pt")
            self.histograms[name] = plot
            self.histogram_row.addWidget(plot)

    @Slot()
    def _show_histograms(self) -> None:
        row = self.layer_combo.currentIndex()
        if self.result is None or row < 0:
            return
        for index, probe in enumerate(self.result.schemes):
            self._draw_histogram(self.histograms[probe.scheme.label], probe, row, index)

    def _draw_histogram(self, plot: LivePlot, probe: SchemeProbe, row: int, index: int) -> None:
        item = plot.getPlotItem()
        item.clear()
        counts = probe.hist_counts[row].astype(np.float64)
        edges = probe.hist_edges[row]
        share = counts / max(counts.sum(), 1.0)
        bars = pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=share, brush=colour(index, 200),
                               pen=pg.mkPen(FOREGROUND, width=0.3))
        item.addItem(bars)
        item.vb.setRange(xRange=(edges[0], edges[-1]), yRange=(0, max(share.max(), 1e-9)), padding=0.05)

    def _show_warnings(self, result: ProbeResult) -> None:
        lines = []
        for probe in result.schemes:
            if probe.symmetry_failure:
                layers = layer_list([result.layer_names[i] for i in probe.symmetric_rows])
                lines.append(f"⚠ <b>{scheme_text(probe.scheme.label)}: symmetry failure</b> in {layers}. "
                             "All units of such a layer start with the same weights and get the same gradient, so "
                             "they stay identical however long you train. Use a random initialisation (Xavier "
                             "or He).")
        self.warning.setText("<br>".join(lines))
        self.warning.setVisible(bool(lines))
