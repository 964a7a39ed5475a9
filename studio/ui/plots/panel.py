"""The live training dashboard: loss, accuracy, learning rate and per-layer statistics.

Slots only append to numpy buffers; one timer pushes the buffers to the curves at most a few
times a second and skips hidden plots. Painting competes with training for the same cores (one
plot at 60 frames/s cost a tiny MLP 27-60% of its speed), so the repaint rate, not the event
rate, sets the GUI's cost; :class:`RepaintPacer` keeps it within a measured CPU budget.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats
from studio.core.history import RunRecord, epoch_position
from studio.core.project import Project
from studio.ui.plots.buffers import Series, SmoothedSeries
from studio.ui.plots.layers import LayerCurves, LayerList
from studio.ui.plots.live_plot import LivePlot
from studio.ui.plots.overlays import RunOverlays
from studio.ui.plots.pacing import RepaintPacer
from studio.ui.plots.style import RAW_ALPHA, TRAIN, VALIDATION, pen
from studio.ui.workers import Worker

# The fastest repaint interval; the pacer spaces repaints further when they are dear.
REFRESH_MS = 250
DEFAULT_SMOOTHING = 0.6

NO_RUN = "No run yet: press Train and the curves appear here."
WAITING = "Waiting for the first batches…"
WAITING_STATS = "Waiting for the first layer statistics (every {every} steps)…"
STATS_OFF = "Layer statistics are off in this project (training.stats_every is 0), so there is nothing to draw here."
NO_ACCURACY = ("Accuracy does not apply to regression: the network predicts numbers, not classes. The loss plot "
               "shows how far off they are.")
LAYER_PLOTS = ("activation", "variance", "gradient")

# key: (objectName, title, y label, description, log y); the x axis is always "epoch".
PLOTS: dict[str, tuple[str, str, str, str, bool]] = {
    "loss": ("lossPlot", "Loss", "loss", "Training loss per batch (smoothed) and validation loss per epoch.", False),
    "accuracy": ("accuracyPlot", "Accuracy", "accuracy", "Training and validation accuracy per epoch.", False),
    "lr": ("lrPlot", "Learning rate", "learning rate (log)", "The optimizer's learning rate over training.", True),
    "activation": (
        "activationPlot", "Activation mean", "mean", "Mean output of each layer, one curve per layer.", False,
    ),
    "variance": (
        "activationVarPlot", "Activation variance", "variance (log)",
        "Variance of each layer's output; collapsing or exploding variance shows a badly scaled network.", True,
    ),
    "gradient": (
        "gradientPlot", "Gradient norm", "norm (log)",
        "L2 norm of each layer's weight gradients; tiny values mean the layer barely learns.", True,
    ),
}  # fmt: skip
GRID = (("loss", "accuracy", "lr"), ("activation", "variance", "gradient"))


class PlotsPanel(QWidget):
    """All live plots of a run, the smoothing control, the layer list and past-run overlays."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plotsPanel")
        self.setAccessibleName("Training plots")
        self.plots = {
            key: LivePlot(name, title, "epoch", y_label, tip, log_y)
            for key, (name, title, y_label, tip, log_y) in PLOTS.items()
        }
        self.layer_list = LayerList()
        self.layers = LayerCurves(self.plots, self.layer_list)
        self.overlays = RunOverlays(self.plots["loss"], self.plots["accuracy"])
        self._steps_per_epoch = 1
        self._series = {key: Series() for key in ("val_loss", "train_acc_batch", "train_acc", "val_acc", "lr",
                                                  "total_loss")}
        self._loss = SmoothedSeries(DEFAULT_SMOOTHING)
        self._dirty = False  # the run's own series changed since the last refresh
        self._earlier: list[EpochEnd] = []  # epochs of a saved run that the next fit continues
        self.pacer = RepaintPacer(min_ms=REFRESH_MS)
        self._timer = QTimer(self)
        self._timer.setInterval(self.pacer.interval_ms())
        self._timer.timeout.connect(self.refresh)
        for plot in self.plots.values():
            plot.sync = self._sync
            plot.set_empty_text(NO_RUN)
        self._create_curves()
        self._build_layout()

    # --- construction -------------------------------------------------------------------------

    def _create_curves(self) -> None:
        loss, accuracy, lr = self.plots["loss"], self.plots["accuracy"], self.plots["lr"]
        loss.add_legend()
        accuracy.add_legend()
        loss.add_curve("raw", pen=pen(TRAIN, width=1.0, alpha=RAW_ALPHA))
        loss.add_curve("train", name="train (smoothed)", pen=pen(TRAIN))
        loss.add_curve("val", name="validation", pen=pen(VALIDATION), symbol="o", symbolSize=6,
                       symbolBrush=VALIDATION, symbolPen=None)  # fmt: skip
        accuracy.add_curve("train_batch", pen=pen(TRAIN, width=1.0, alpha=RAW_ALPHA))
        accuracy.add_curve("train", name="train", pen=pen(TRAIN), symbol="o", symbolSize=6, symbolBrush=TRAIN,
                           symbolPen=None)  # fmt: skip
        accuracy.add_curve("val", name="validation", pen=pen(VALIDATION), symbol="o", symbolSize=6,
                           symbolBrush=VALIDATION, symbolPen=None)  # fmt: skip
        lr.add_curve("lr", pen=pen("#2ca02c"))

    def _build_layout(self) -> None:
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setObjectName("smoothingSlider")
        self.smoothing_slider.setAccessibleName("Loss smoothing")
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_spin = QDoubleSpinBox()
        self.smoothing_spin.setObjectName("smoothingSpin")
        self.smoothing_spin.setAccessibleName("Loss smoothing")
        self.smoothing_spin.setRange(0.0, 0.99)
        self.smoothing_spin.setSingleStep(0.05)
        self.smoothing_spin.setDecimals(2)
        tip = "Exponential moving average of the per-batch loss: 0 shows the raw loss, 0.99 smooths the most."
        for control in (self.smoothing_slider, self.smoothing_spin):
            control.setToolTip(tip)
        self.smoothing_slider.valueChanged.connect(lambda value: self.set_smoothing(value / 100))
        self.smoothing_spin.valueChanged.connect(self.set_smoothing)
        self.set_smoothing(DEFAULT_SMOOTHING)

        controls = QHBoxLayout()
        label = QLabel("Loss smoothing")
        label.setBuddy(self.smoothing_spin)
        controls.addWidget(label)
        controls.addWidget(self.smoothing_slider, 1)
        controls.addWidget(self.smoothing_spin)
        controls.addStretch(2)

        grid = QGridLayout()
        grid.setSpacing(4)
        for row, keys in enumerate(GRID):
            for column, key in enumerate(keys):
                grid.addWidget(self.plots[key], row, column)

        side = QVBoxLayout()
        side.addWidget(QLabel("Layers"))
        side.addWidget(self.layer_list, 1)
        self.layer_list.setMaximumWidth(180)

        body = QHBoxLayout()
        body.addLayout(grid, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addLayout(body, 1)

    # --- engine events (connected to the worker's signals) ------------------------------------

    def connect_worker(self, worker: Worker) -> None:
        """Feed this panel from a :class:`studio.ui.workers.Worker`'s training signals."""
        worker.trainingStarted.connect(self.on_training_started)
        worker.fitStarted.connect(self.on_fit_started)
        worker.batchesEnded.connect(self.on_batches)
        worker.layerStats.connect(self.on_layer_stats)
        worker.epochsEnded.connect(self.on_epochs)
        worker.fitEnded.connect(self.on_fit_end)

    @Slot(object)
    def on_training_started(self, project: Project | None) -> None:
        """Say what each plot waits for; the layer plots why they will stay empty when statistics are off."""
        for plot in self.plots.values():
            plot.set_empty_text(WAITING)
        if project is not None:
            every = project.training.stats_every
            for key in LAYER_PLOTS:
                self.plots[key].set_empty_text(WAITING_STATS.format(every=every) if every else STATS_OFF)

    @Slot(object)
    def on_fit_started(self, event: FitStart) -> None:
        """A new run: empty the live curves (overlays stay) and prepare one curve per layer."""
        self._clear_series()
        self.layers.start(event.layer_names)
        self._steps_per_epoch = max(event.steps_per_epoch, 1)
        for plot in self.plots.values():
            plot.x_span = (0.0, float(event.total_epochs))
        earlier, self._earlier = self._earlier, []
        if earlier:
            self.on_epochs(earlier)
        self._mark()

    def continue_from(self, epochs: Sequence[EpochEnd]) -> None:
        """The next fit resumes a saved run: draw its earlier ``epochs`` when that fit starts (after clearing)."""
        self._earlier = list(epochs)

    @Slot(list)
    def on_batches(self, events: Sequence[BatchEnd]) -> None:
        if not events:
            return
        xs = [epoch_position(e.epoch, e.batch, self._steps_per_epoch) for e in events]
        self._loss.extend(xs, [e.loss for e in events])
        self._series["lr"].extend(xs, [e.lr for e in events])
        with_acc = [(x, e.acc) for x, e in zip(xs, events, strict=True) if e.acc is not None]
        if with_acc:
            self._series["train_acc_batch"].extend(*zip(*with_acc, strict=True))
        elif not len(self._series["train_acc_batch"]):  # a regression run: no accuracy to come
            self.plots["accuracy"].set_empty_text(NO_ACCURACY)
        self._mark()

    @Slot(list)
    def on_layer_stats(self, events: Sequence[LayerStats]) -> None:
        if events:
            self.layers.add(events, [event.step / self._steps_per_epoch for event in events])
        self._schedule()  # the layer curves track their own changes

    @Slot(list)
    def on_epochs(self, events: Sequence[EpochEnd]) -> None:
        for event in events:
            for key in ("val_loss", "train_acc", "val_acc"):
                value = getattr(event, key)
                if value is not None:
                    self._series[key].append(event.epoch, value)
            if event.penalty is not None:  # report_penalty: what weight decay minimises, beside the data loss
                self._series["total_loss"].append(event.epoch, event.train_loss + event.penalty)
        self._mark()

    @Slot(object)
    def on_fit_end(self, event: FitEnd) -> None:
        """Draw the last points at once rather than at the next tick, each x axis fitted to what was trained
        (after Stop, the planned epochs would squeeze the run into a corner)."""
        for plot in self.plots.values():
            plot.fit_x_to_data()
        self._mark()
        self.refresh()

    # --- state --------------------------------------------------------------------------------

    def clear(self) -> None:
        """Empty the live curves and the layer list; past-run overlays are kept."""
        self._clear_series()
        self.layers.clear()
        for plot in self.plots.values():
            plot.set_empty_text(NO_RUN)
        self._mark()

    def _clear_series(self) -> None:
        self._loss.clear()
        for series in self._series.values():
            series.clear()
        if self.plots["loss"].has_curve("total"):
            self.plots["loss"].remove_curve("total")

    def show_runs(self, records: list[RunRecord]) -> None:
        """Overlay the curves of ``records`` (e.g. the runs selected in the run history)."""
        self.overlays.show(records, self._loss.alpha)
        self._schedule()

    def smoothing(self) -> float:
        return self._loss.alpha

    @Slot(float)
    def set_smoothing(self, alpha: float) -> None:
        """Set the loss smoothing (0..0.99) and keep the slider, the spin box and the overlays in step."""
        alpha = min(max(round(alpha, 2), 0.0), 0.99)
        with QSignalBlocker(self.smoothing_slider), QSignalBlocker(self.smoothing_spin):
            self.smoothing_slider.setValue(round(alpha * 100))
            self.smoothing_spin.setValue(alpha)
        if alpha != self._loss.alpha:
            self._loss.set_alpha(alpha)
            if self.overlays.records():
                self.overlays.show(self.overlays.records(), alpha)
            self._mark()

    # --- repainting ---------------------------------------------------------------------------

    def _mark(self) -> None:
        """The run's own series changed: push them at the next refresh."""
        self._dirty = True
        self._schedule()

    def _sync(self) -> None:
        """Push whatever changed since the last refresh to the curves."""
        if self._dirty:
            self._push()
            self._dirty = False
        self.layers.push()

    def _push(self) -> None:
        """Hand the buffers to the curves (views, no copies, no drawing); once per refresh, not per event."""
        loss, accuracy = self.plots["loss"], self.plots["accuracy"]
        loss.set_data("raw", self._loss.x, self._loss.y)
        loss.set_data("train", self._loss.x, self._loss.smoothed)
        for plot, key, series in (
            (loss, "val", "val_loss"),
            (accuracy, "train_batch", "train_acc_batch"),
            (accuracy, "train", "train_acc"),
            (accuracy, "val", "val_acc"),
            (self.plots["lr"], "lr", "lr"),
        ):
            plot.set_data(key, self._series[series].x, self._series[series].y)
        total = self._series["total_loss"]
        if len(total):
            if not loss.has_curve("total"):  # only runs that report the L2 penalty have this curve and legend
                loss.add_curve("total", name="train + L2 penalty", pen=pen(TRAIN, dashed=True), symbol="s",
                               symbolSize=5, symbolBrush=TRAIN, symbolPen=None)
            loss.set_data("total", total.x, total.y)

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def refresh(self) -> None:
        """Push pending data to every visible plot; the timer stops once nothing is pending.

        The CPU time of this and of the paints since the last refresh sets the next interval.
        """
        start = time.thread_time()
        self._sync()
        for plot in self.plots.values():
            plot.refresh()
        painted = sum(plot.take_paint_seconds() for plot in self.plots.values())
        self.pacer.record(time.thread_time() - start + painted)
        self._timer.setInterval(self.pacer.interval_ms())
        if not any(plot.pending() for plot in self.plots.values() if plot.isVisible()):
            self._timer.stop()
