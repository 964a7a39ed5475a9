"""Loss and accuracy of several tagged runs overlaid in two live plots (race contestants, runs A and B).

Lab experiments report the engine's own events tagged with a run's name; this keeps one buffer per tag
and plot, hands them to the plots' curves, and repaints from one timer a few times a second (the same
rules as the training dashboard: painting, not events, sets the GUI's cost).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QTimer, Slot

from studio.core.events import BatchEnd, EpochEnd, FitStart
from studio.core.history import epoch_position
from studio.core.lab.common import LabRun
from studio.ui.plots import LivePlot
from studio.ui.plots.buffers import Series, SmoothedSeries
from studio.ui.plots.panel import REFRESH_MS
from studio.ui.plots.style import PALETTE, pen

SMOOTHING = 0.6


def loss_plot(object_name: str, description: str) -> LivePlot:
    plot = LivePlot(object_name, "Loss", "epoch", "loss", description)
    plot.add_legend()  # under the x axis, as in the training plots
    return plot


def accuracy_plot(object_name: str, description: str) -> LivePlot:
    plot = LivePlot(object_name, "Accuracy", "epoch", "accuracy", description)
    plot.add_legend()
    return plot


@dataclass
class _Run:
    colour: str
    steps_per_epoch: int = 1
    loss: SmoothedSeries = field(default_factory=lambda: SmoothedSeries(SMOOTHING))
    val_loss: Series = field(default_factory=Series)
    acc: Series = field(default_factory=Series)
    acc_field: str = ""  # "val_acc" when the run has validation, else "train_acc"


class TaggedCurves(QObject):
    """Per-tag curves in a loss plot and an accuracy plot, fed by tagged engine events or finished runs.

    Loss: the smoothed training loss per batch (solid) and the validation loss per epoch (dashed, dots).
    Accuracy: validation accuracy per epoch, or training accuracy where there is no validation split.
    """

    def __init__(self, loss: LivePlot, accuracy: LivePlot, parent: QObject | None = None,
                 span_epochs: bool = True) -> None:
        super().__init__(parent)
        self.span_epochs = span_epochs  # False where a run may stop long before its planned epochs (sanity)
        self.loss, self.accuracy = loss, accuracy
        self._runs: dict[str, _Run] = {}
        self._labels: dict[str, str] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    def tags(self) -> list[str]:
        return list(self._runs)

    def clear(self) -> None:
        for tag in self._runs:
            for plot in (self.loss, self.accuracy):
                for key in (f"{tag}:train", f"{tag}:val"):
                    if plot.has_curve(key):
                        plot.remove_curve(key)
        self._runs.clear()
        self.refresh()

    def set_label(self, tag: str, label: str) -> None:
        """The legend text of ``tag`` (the tag itself by default); set before its first event."""
        self._labels[tag] = label

    def _run(self, tag: str) -> _Run:
        if tag not in self._runs:
            colour = PALETTE[len(self._runs) % len(PALETTE)]
            self._runs[tag] = _Run(colour)
            name = self._labels.get(tag, tag)
            self.loss.add_curve(f"{tag}:train", name=name, pen=pen(colour))
            self.loss.add_curve(f"{tag}:val", pen=pen(colour, width=1.4, dashed=True), symbol="o", symbolSize=5,
                                symbolBrush=colour, symbolPen=None)
            self.accuracy.add_curve(f"{tag}:val", name=name, pen=pen(colour), symbol="o", symbolSize=6,
                                    symbolBrush=colour, symbolPen=None)
        return self._runs[tag]

    # --- events (the runner's ``event`` signal) ---------------------------------------------------

    @Slot(str, object)
    def on_event(self, tag: str, event: object) -> None:
        if isinstance(event, FitStart):
            self._run(tag).steps_per_epoch = max(event.steps_per_epoch, 1)
            if self.span_epochs:  # the x axis spans the whole run from the start, as in the training plots
                for plot in (self.loss, self.accuracy):
                    plot.x_span = (0.0, float(event.total_epochs))
        elif isinstance(event, BatchEnd):
            run = self._run(tag)
            run.loss.append(epoch_position(event.epoch, event.batch, run.steps_per_epoch), event.loss)
            self._mark(tag)
        elif isinstance(event, EpochEnd):
            self._add_epoch(tag, event)
            self._mark(tag)

    def _add_epoch(self, tag: str, event: EpochEnd) -> None:
        run = self._run(tag)
        if event.val_loss is not None:
            run.val_loss.append(event.epoch, event.val_loss)
        run.acc_field = run.acc_field or ("val_acc" if event.val_acc is not None else "train_acc")
        value = getattr(event, run.acc_field)
        if value is not None:
            run.acc.append(event.epoch, value)

    # --- whole runs (an experiment's result) ------------------------------------------------------

    def show_runs(self, runs: list[LabRun]) -> None:
        """Draw finished runs from scratch (the result is authoritative over the live events)."""
        self.clear()
        for run in runs:
            self.set_label(run.tag, run.label)
            curves = self._run(run.tag)
            curves.loss.extend(run.batch_x, run.batch_loss)
            for event in run.epochs:
                self._add_epoch(run.tag, event)
            self._mark(run.tag)
        for plot in (self.loss, self.accuracy):
            plot.x_span = None
            plot.follow()  # fit the finished curves, even after the learner zoomed during the run
        self.refresh()

    # --- repainting -------------------------------------------------------------------------------

    def _mark(self, tag: str) -> None:
        run = self._runs[tag]
        self.loss.set_data(f"{tag}:train", run.loss.x, _finite(run.loss.smoothed))
        self.loss.set_data(f"{tag}:val", run.val_loss.x, run.val_loss.y)
        self.accuracy.set_data(f"{tag}:val", run.acc.x, run.acc.y)
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def refresh(self) -> None:
        """Push pending data to the plots; the timer stops once nothing is pending."""
        for plot in (self.loss, self.accuracy):
            plot.refresh()
        if not any(plot.pending() for plot in (self.loss, self.accuracy) if plot.isVisible()):
            self._timer.stop()

    def point_count(self, tag: str) -> int:
        """How many loss points ``tag`` has drawn (for tests and status lines)."""
        return len(self._runs[tag].loss) if tag in self._runs else 0


def _finite(values: np.ndarray) -> np.ndarray:
    """Diverged runs reach inf/NaN; NaN breaks the line there instead of wrecking the view's range."""
    return np.where(np.isfinite(values), values, np.nan)

