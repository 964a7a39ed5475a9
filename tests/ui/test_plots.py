"""Live plots: events fed straight into PlotsPanel reach the curves, smoothing, layers, export."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtGui import QImage

from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats
from studio.core.history import RunRecord
from studio.core.project import Project
from studio.ui.plots import LivePlot, PlotsPanel
from studio.ui.plots.buffers import Series, SmoothedSeries, ema
from studio.ui.plots.pacing import RepaintPacer
from studio.ui.plots.ranges import next_x_range, next_y_range, padded, snapped

NAMES = ("1 Linear 16", "2 ReLU", "3 Linear 10")
STEPS_PER_EPOCH = 20


def fit_start() -> FitStart:
    return FitStart(2, STEPS_PER_EPOCH, 640, 160, "cpu", NAMES, 1234, 0)


def batches(epoch: int, first: int, count: int) -> list[BatchEnd]:
    return [
        BatchEnd(epoch, (epoch - 1) * STEPS_PER_EPOCH + b, b, 2.0 / b, 0.1 * b % 1, 1e-3, 500.0)
        for b in range(first, first + count)
    ]


def layer_stats(step: int) -> LayerStats:
    n = len(NAMES)
    values = np.linspace(0.1, 1.0, n)
    grad = np.array([0.5, np.nan, 0.25])
    return LayerStats(step, 1, NAMES, values, values, np.zeros(n), np.full(n, np.nan), grad, np.zeros(n))


def epoch_end(epoch: int) -> EpochEnd:
    return EpochEnd(epoch, 1.0 / epoch, 0.5 + 0.1 * epoch, 1.2 / epoch, 0.4 + 0.1 * epoch, 1.0, 1e-3, 500.0)


def data_length(panel: PlotsPanel, plot: str, curve: str) -> int:
    x, _ = panel.plots[plot].curve(curve).getOriginalDataset()
    return 0 if x is None else len(x)


@pytest.fixture
def panel(qtbot) -> PlotsPanel:
    widget = PlotsPanel()
    qtbot.addWidget(widget)
    widget.resize(1200, 650)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_events_reach_every_plot_and_curves_grow(qtbot, panel: PlotsPanel) -> None:
    panel.on_fit_started(fit_start())
    assert panel.layers.names() == list(NAMES)
    panel.on_batches(batches(1, 1, 10))
    panel.on_layer_stats([layer_stats(10)])
    qtbot.waitUntil(lambda: data_length(panel, "loss", "train") == 10, timeout=3000)
    assert data_length(panel, "lr", "lr") == 10
    assert data_length(panel, "accuracy", "train_batch") == 10
    for plot in ("activation", "variance", "gradient"):
        assert data_length(panel, plot, f"layer:{NAMES[0]}") == 1

    panel.on_batches(batches(1, 11, 10))
    panel.on_layer_stats([layer_stats(20)])
    panel.on_epochs([epoch_end(1)])
    panel.on_fit_end(FitEnd("completed", 1, 20, 1, 1.2, "done", (epoch_end(1),)))
    assert data_length(panel, "loss", "raw") == 20
    assert data_length(panel, "loss", "val") == 1
    assert data_length(panel, "accuracy", "val") == 1
    assert data_length(panel, "gradient", f"layer:{NAMES[2]}") == 2
    x, _ = panel.plots["loss"].curve("raw").getOriginalDataset()
    assert x[-1] == pytest.approx(1.0)  # the last batch of epoch 1 sits at epoch 1 on the x axis


def test_refresh_timer_stops_when_nothing_is_pending(qtbot, panel: PlotsPanel) -> None:
    panel.on_fit_started(fit_start())
    panel.on_batches(batches(1, 1, 5))
    assert panel._timer.isActive()
    qtbot.waitUntil(lambda: not panel._timer.isActive(), timeout=3000)
    assert data_length(panel, "loss", "raw") == 5


def test_hidden_plot_is_skipped_until_shown(qtbot, panel: PlotsPanel) -> None:
    lr = panel.plots["lr"]
    lr.hide()
    panel.on_fit_started(fit_start())
    panel.on_batches(batches(1, 1, 8))
    panel.refresh()
    assert data_length(panel, "loss", "raw") == 8
    assert data_length(panel, "lr", "lr") == 0
    assert lr.pending()
    lr.show()
    assert data_length(panel, "lr", "lr") == 8


def test_smoothing_controls_agree_and_change_the_curve(qtbot, panel: PlotsPanel) -> None:
    panel.on_fit_started(fit_start())
    panel.on_batches(batches(1, 1, 10))
    panel.set_smoothing(0.0)
    panel.refresh()
    raw = panel.plots["loss"].curve("raw").getOriginalDataset()[1]
    np.testing.assert_allclose(panel.plots["loss"].curve("train").getOriginalDataset()[1], raw)
    panel.smoothing_slider.setValue(90)
    assert panel.smoothing() == pytest.approx(0.9)
    assert panel.smoothing_spin.value() == pytest.approx(0.9)
    panel.refresh()
    smoothed = panel.plots["loss"].curve("train").getOriginalDataset()[1]
    assert smoothed[-1] > raw[-1]  # the loss falls, so its moving average lags above it


def test_unticking_a_layer_hides_it_in_all_layer_plots(qtbot, panel: PlotsPanel) -> None:
    panel.on_fit_started(fit_start())
    panel.layer_list.set_checked(NAMES[1], False)
    for plot in ("activation", "variance", "gradient"):
        assert not panel.plots[plot].curve(f"layer:{NAMES[1]}").isVisible()
        assert panel.plots[plot].curve(f"layer:{NAMES[0]}").isVisible()
    panel.on_fit_started(fit_start())  # a new run with the same layers keeps the choice
    assert not panel.plots["gradient"].curve(f"layer:{NAMES[1]}").isVisible()


def test_plot_follows_data_until_the_learner_zooms(qtbot, panel: PlotsPanel) -> None:
    loss = panel.plots["loss"]
    panel.on_fit_started(fit_start())
    panel.on_batches(batches(1, 1, 20))
    panel.refresh()
    (x0, x1), (y0, y1) = loss.getPlotItem().vb.viewRange()
    assert x0 <= 0.05 and x1 >= 1.0 and y0 <= 0.1 and y1 >= 2.0
    loss.getPlotItem().vb.sigRangeChangedManually.emit([True, True])
    loss.getPlotItem().vb.setRange(xRange=(0.2, 0.3))
    panel.on_batches(batches(2, 1, 20))
    panel.refresh()
    assert loss.getPlotItem().vb.viewRange()[0][1] == pytest.approx(0.3, abs=0.05)
    loss.follow()
    assert loss.getPlotItem().vb.viewRange()[0][1] >= 2.0


def _record(run_id: int, with_batches: bool = True) -> RunRecord:
    record = RunRecord(run_id, f"Run {run_id}", Project(), epochs=[epoch_end(1), epoch_end(2)], reason="completed")
    if with_batches:
        record.batch_epochs = [0.25, 0.5, 0.75, 1.0]
        record.batch_losses = [2.0, 1.5, 1.0, 0.8]
    return record


def test_past_runs_are_overlaid_and_removed(qtbot, panel: PlotsPanel) -> None:
    panel.show_runs([_record(1), _record(2)])
    assert {"run:1", "run:2"} <= set(panel.plots["loss"].keys())
    assert {"run:1", "run:2"} <= set(panel.plots["accuracy"].keys())
    panel.refresh()
    assert data_length(panel, "loss", "run:1") == 4
    assert data_length(panel, "accuracy", "run:2") == 2
    panel.on_fit_started(fit_start())  # a new live run keeps the comparison on screen
    assert panel.plots["loss"].has_curve("run:1")
    panel.show_runs([])
    assert not any(panel.plots["loss"].has_curve(f"run:{run}") for run in (1, 2))


def test_export_png_svg_and_csv(qtbot, panel: PlotsPanel, tmp_path) -> None:
    panel.on_fit_started(fit_start())
    panel.on_batches(batches(1, 1, 12))
    loss = panel.plots["loss"]
    png = loss.export(tmp_path / "loss.png")
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= loss.width()
    assert "<svg" in loss.export(tmp_path / "loss.svg").read_text(encoding="utf-8")
    with loss.export(tmp_path / "loss.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 1 + 12  # a header, then one row per batch (the longest curve)
    assert float(rows[1][1]) == pytest.approx(2.0)  # first column pair: the raw loss of batch 1
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_export_rejects_unknown_formats(panel: PlotsPanel, tmp_path) -> None:
    from studio.core.errors import ConfigError

    with pytest.raises(ConfigError, match="png"):
        panel.plots["loss"].export(tmp_path / "loss.bmp")


# --- buffers -------------------------------------------------------------------------------------


def test_series_grows_past_its_capacity() -> None:
    series = Series(capacity=2)
    for i in range(5):
        series.append(i, 10 * i)
    series.extend([5, 6], [50, 60])
    assert series.x.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert series.y.tolist() == [0, 10, 20, 30, 40, 50, 60]
    with pytest.raises(ValueError):
        series.extend([7, 8], [70])
    assert len(series) == 7  # nothing half-written


def test_ema_is_debiased_and_incremental() -> None:
    smoothed, _, _ = ema(np.full(5, 3.0), 0.9)
    np.testing.assert_allclose(smoothed, 3.0)  # no pull towards zero at the start
    values = np.random.default_rng(0).normal(size=50)
    series = SmoothedSeries(alpha=0.8)
    series.extend(np.arange(20), values[:20])
    _ = series.smoothed
    series.extend(np.arange(20, 50), values[20:])
    np.testing.assert_allclose(series.smoothed, ema(values, 0.8)[0])


def test_ranges_move_only_when_the_data_needs_it() -> None:
    assert next_x_range((0.1, 0.5), (0.0, 10.0), None) == pytest.approx((-0.3, 10.3))  # the whole run at once
    assert next_x_range((0.1, 3.0), (0.0, 10.0), (-0.3, 10.3)) is None
    assert next_y_range((1.0, 2.0), (0.9, 2.1)) is None  # inside and filling the view: keep it
    assert next_y_range((0.5, 2.0), (0.9, 2.1)) == pytest.approx((0.4, 2.1))  # left the view: expand, rounded
    assert next_y_range((1.0, 1.2), (0.9, 2.1)) == pytest.approx((0.985, 1.215))  # shrank: zoom in
    assert padded(3.0, 3.0) == pytest.approx((2.7, 3.3))
    assert snapped(0.123, 0.871) == pytest.approx((0.12, 0.875))


def test_every_plot_is_named_and_offers_follow_and_save(panel: PlotsPanel) -> None:
    names = {plot.objectName() for plot in panel.plots.values()}
    assert {"lossPlot", "accuracyPlot", "activationPlot", "gradientPlot", "lrPlot"} <= names
    for plot in panel.plots.values():
        assert plot.accessibleName()
        texts = [action.text() for action in plot.getPlotItem().vb.menu.actions()]
        assert "Follow the data" in texts
        assert any(text.startswith("Save plot as") for text in texts)


def test_a_list_of_layer_statistics_lands_in_each_layers_curves_in_step_order(panel: PlotsPanel) -> None:
    panel.on_fit_started(fit_start())
    panel.on_layer_stats([layer_stats(10), layer_stats(20), layer_stats(30)])
    gradient = panel.layers.series(NAMES[0], "gradient")
    assert gradient.x.tolist() == pytest.approx([s / STEPS_PER_EPOCH for s in (10, 20, 30)])
    assert gradient.y.tolist() == [0.5, 0.5, 0.5]
    assert np.isnan(panel.layers.series(NAMES[1], "gradient").y).all()  # a layer without weights
    assert panel.layers.series(NAMES[2], "variance").y.tolist() == [1.0, 1.0, 1.0]


def test_a_new_run_of_the_same_network_keeps_its_layer_curves(panel: PlotsPanel) -> None:
    panel.on_fit_started(fit_start())
    panel.on_layer_stats([layer_stats(10)])
    curve = panel.plots["gradient"].curve(f"layer:{NAMES[0]}")
    panel.on_fit_started(fit_start())
    assert panel.plots["gradient"].curve(f"layer:{NAMES[0]}") is curve
    assert len(panel.layers.series(NAMES[0], "gradient")) == 0
    other = FitStart(2, STEPS_PER_EPOCH, 640, 160, "cpu", ("1 Conv2d 8", "2 ReLU"), 99, 0)
    panel.on_fit_started(other)
    assert panel.layers.names() == ["1 Conv2d 8", "2 ReLU"]
    assert not panel.plots["gradient"].has_curve(f"layer:{NAMES[0]}")
    assert panel.layer_list.count() == 2


def test_repaints_are_paced_by_their_measured_cost() -> None:
    pacer = RepaintPacer(budget=0.02, min_ms=250, max_ms=2000)
    assert pacer.interval_ms() == 250  # nothing measured yet: as lively as allowed
    pacer.record(0.002)
    assert pacer.interval_ms() == 250  # cheap repaints: the minimum interval
    pacer.record(0.030)
    assert 250 < pacer.interval_ms() <= 2000  # dearer repaints are spaced out to keep within budget
    for _ in range(20):
        pacer.record(1.0)
    assert pacer.interval_ms() == 2000


def test_panel_measures_its_repaints(qtbot, panel: PlotsPanel) -> None:
    panel.on_fit_started(fit_start())
    panel.on_batches(batches(1, 1, 10))
    panel.refresh()
    assert panel.pacer.cost_s is not None and panel.pacer.cost_s > 0


def test_a_nearly_constant_learning_rate_is_drawn_flat(qtbot, panel: PlotsPanel) -> None:
    """A 0.5% decay on the log axis: the view spans at least a decade, so it is not a plunge from top to bottom."""
    panel.on_fit_started(fit_start())
    events = batches(1, 1, STEPS_PER_EPOCH)
    decayed = [BatchEnd(e.epoch, e.step, e.batch, e.loss, e.acc, 1e-3 * (1 - 0.005 * i / len(events)), 500.0)
               for i, e in enumerate(events)]
    panel.on_batches(decayed)
    panel.refresh()
    low, high = panel.plots["lr"].getPlotItem().vb.viewRange()[1]  # decades
    assert high - low >= 1.0 and low < -3 < high
    assert next_y_range((-3.002, -3.0), None, min_span=1.0) == pytest.approx((-3.6, -2.4), abs=0.06)


def test_after_stop_the_x_axis_fits_the_run(qtbot, panel: PlotsPanel) -> None:
    panel.on_fit_started(FitStart(50, STEPS_PER_EPOCH, 640, 160, "cpu", NAMES, 1234, 0))  # 50 epochs planned
    panel.on_batches(batches(1, 1, STEPS_PER_EPOCH) + batches(2, 1, 5))
    panel.on_epochs([epoch_end(1)])
    panel.on_layer_stats([layer_stats(10), layer_stats(20)])
    panel.refresh()
    assert panel.plots["loss"].getPlotItem().vb.viewRange()[0][1] > 50  # while training: the planned run
    panel.on_fit_end(FitEnd("stopped", 1, 25, 1, 1.2, "Stopped.", ()))
    for key in ("loss", "accuracy", "lr", "gradient"):
        low, high = panel.plots[key].getPlotItem().vb.viewRange()[0]
        assert high < 1.5 and low < 0.1, key  # the 1.25 epochs trained fill the plot


def test_legends_sit_outside_the_curves(qtbot, panel: PlotsPanel) -> None:
    panel.on_fit_started(fit_start())
    panel.on_batches(batches(1, 1, STEPS_PER_EPOCH))
    panel.on_epochs([epoch_end(1)])
    panel.refresh()
    for key in ("loss", "accuracy"):
        plot = panel.plots[key]
        assert plot.legend is not None and plot.legend.isVisible()
        def below(p: LivePlot = plot) -> bool:  # once laid out: under the data, which the view holds
            return p.legend.sceneBoundingRect().top() >= p.getPlotItem().vb.sceneBoundingRect().bottom()

        qtbot.waitUntil(below)
        assert plot.legend.sceneBoundingRect().height() > 0, key
        assert len(plot.legend.items) == 2


def test_an_empty_plot_says_why(qtbot, panel: PlotsPanel) -> None:
    from studio.core.presets import load_preset
    from studio.ui.plots.panel import NO_ACCURACY, NO_RUN, STATS_OFF

    assert all(plot.empty_label.isVisible() and plot.empty_label.text() == NO_RUN for plot in panel.plots.values())
    project = load_preset("digits-mlp")
    project.training.stats_every = 0
    panel.on_training_started(project)
    panel.on_fit_started(fit_start())
    regression = [BatchEnd(1, b, b, 1.0 / b, None, 1e-3, 500.0) for b in range(1, 11)]  # no accuracy
    panel.on_batches(regression)
    panel.refresh()
    accuracy = panel.plots["accuracy"]
    assert accuracy.empty_label.isVisible() and accuracy.empty_label.text() == NO_ACCURACY
    assert not accuracy.legend.isVisible()
    for key in ("activation", "variance", "gradient"):
        assert panel.plots[key].empty_label.isVisible() and panel.plots[key].empty_label.text() == STATS_OFF
    assert not panel.plots["loss"].empty_label.isVisible()  # it has data
    assert [label.text for _item, label in panel.plots["loss"].legend.items] == ["train (smoothed)"]  # no val yet
    panel.clear()
    assert panel.plots["loss"].empty_label.text() == NO_RUN
