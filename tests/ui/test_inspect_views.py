"""The Inspect views: clicking a confusion cell, drawing on the pad, live boundaries, layers, exports."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from studio.core.inspect import Evaluation, ModelSnapshot, Samples, metrics_report
from studio.core.inspect.boundary import BoundaryGrid
from studio.core.presets import default_project
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec
from studio.ui.dialogs import ScriptedDialogs
from studio.ui.inspect import InspectPanel
from studio.ui.inspect.confusion_widget import PNG_SIZE
from studio.ui.inspect.evaluation_view import EvaluationView
from studio.ui.inspect.layer_view import LayerView
from studio.ui.inspect.try_panel import TryPanel

NAMES = ("cat", "dog", "bird")
CONTROLS = ("inspectPanel", "inspectTabs", "confusionMatrix", "galleryView", "metricsTable", "exportEvaluationButton",
            "exportCurvesButton", "boundaryView", "drawingPad", "clearPadButton", "brushSizeSpin", "loadImageButton",
            "sampleSpin", "pickSampleButton", "predictionLabel", "probabilityBars", "layerView", "layerSampleSpin",
            "showLayersButton")  # fmt: skip


def evaluation() -> Evaluation:
    """30 samples of 3 classes with 4x4 pictures; true dog predicted as bird 4 times."""
    y_true = np.repeat([0, 1, 2], 10)
    y_pred = y_true.copy()
    y_pred[[10, 11, 12, 13]] = 2
    rng = np.random.default_rng(0)
    probabilities = rng.random((30, 3)) * 0.3
    probabilities[np.arange(30), y_pred] += np.linspace(0.4, 1.0, 30)
    probabilities /= probabilities.sum(1, keepdims=True)
    images = rng.integers(0, 256, (30, 4, 4), dtype=np.uint8)
    return Evaluation(metrics_report(y_true, y_pred, NAMES), y_true, y_pred, probabilities, Samples(images=images))


@pytest.fixture
def view(qtbot, tmp_path):
    view = EvaluationView(ScriptedDialogs(paths=[str(tmp_path / "report")]))
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.set_evaluation(evaluation())
    return view


def test_clicking_a_confusion_cell_shows_its_samples_most_confident_first(qtbot, view):
    confusion = view.confusion
    with qtbot.waitSignal(confusion.cellClicked) as clicked:
        qtbot.mouseClick(confusion, Qt.MouseButton.LeftButton, pos=confusion.cell_rect(1, 2).center())
    assert clicked.args == [1, 2] and confusion.selected == (1, 2)
    gallery = view.gallery
    assert gallery.count() == 4
    assert sorted(gallery.item(i).data(Qt.ItemDataRole.UserRole) for i in range(4)) == [10, 11, 12, 13]
    confidences = [item.confidence for item in gallery.examples]
    assert confidences == sorted(confidences, reverse=True)
    first = gallery.item(0).text()
    assert first.startswith("pred bird · true dog\nbird ") and first.count("%") == 3
    assert not gallery.item(0).icon().isNull()
    assert "True dog predicted as bird: 4 samples" in view.gallery_title.text()


def test_the_keyboard_reaches_every_cell(qtbot, view):
    confusion = view.confusion
    confusion.setFocus()
    qtbot.keyClick(confusion, Qt.Key.Key_Down)
    qtbot.keyClick(confusion, Qt.Key.Key_Down)
    with qtbot.waitSignal(confusion.cellClicked) as chosen:
        qtbot.keyClick(confusion, Qt.Key.Key_Return)
    assert chosen.args == [2, 0] and view.gallery.count() == 0
    assert "True bird, predicted cat: 0 samples" in confusion.describe(2, 0)


def test_a_new_epoch_keeps_the_chosen_cell_and_refreshes_its_gallery(qtbot, view):
    qtbot.mouseClick(view.confusion, Qt.MouseButton.LeftButton, pos=view.confusion.cell_rect(0, 0).center())
    assert view.gallery.count() == 10
    later = evaluation()
    later.y_pred[0] = 1
    view.set_evaluation(Evaluation(metrics_report(later.y_true, later.y_pred, NAMES), later.y_true, later.y_pred,
                                   later.probabilities, later.samples, epoch=2))
    assert view.confusion.selected == (0, 0) and view.gallery.count() == 9
    assert view.summary.text().startswith("Epoch 2 · validation split · 30 samples")


def test_export_writes_the_metrics_the_matrix_and_its_picture(qtbot, view, tmp_path):
    with qtbot.waitSignal(view.exported) as done:
        qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    folder = tmp_path / "report"
    assert [p.name for p in done.args[0]] == ["metrics.csv", "confusion.csv", "confusion.png"]
    table = list(csv.reader((folder / "metrics.csv").open()))
    assert table[2][0] == "dog" and float(table[2][2]) == pytest.approx(0.6)  # recall of dog: 6 of 10
    assert list(csv.reader((folder / "confusion.csv").open()))[2] == ["dog", "0", "6", "4"]
    picture = QImage(str(folder / "confusion.png"))
    assert picture.size() == PNG_SIZE
    assert len({picture.pixel(x, y) for x in range(0, 900, 9) for y in range(0, 800, 8)}) > 5  # drawn, not blank


def make_snapshot(project: Project) -> ModelSnapshot:
    """A worker job: an untrained network with its data (the path from pixels to outputs is what matters)."""
    from studio.core.build import build_model
    from studio.core.data import prepare_data

    data = prepare_data(project.data)
    model = build_model(project.model, data.input_shape, seed=0)
    return ModelSnapshot.from_state(project, model.state_dict(), data)


def run_job(qtbot, host, fn, *args):
    job = host.worker.submit("test", fn, *args)
    with qtbot.waitSignal(job.finished, timeout=60_000) as done:
        pass
    return done.args[0]


@pytest.fixture
def digits(qtbot, host):
    project = default_project()
    project.data.subset_per_class = 5
    return run_job(qtbot, host, make_snapshot, project)


@pytest.fixture
def try_panel(qtbot, host, digits, tmp_path):
    panel = TryPanel(host.worker, ScriptedDialogs(paths=[str(tmp_path / "one.png")]))
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    panel.set_snapshot(digits)
    return panel


def at(pad, u: float, v: float) -> QPoint:
    rect = pad.picture_rect()
    return QPointF(rect.left() + u * rect.width(), rect.top() + v * rect.height()).toPoint()


def test_drawing_on_the_pad_gives_a_prediction_of_what_was_drawn(qtbot, try_panel):
    """A short stroke high on the left becomes a full-height line in the middle, as the digits are drawn; the
    picture the network saw is shown beside its answer."""
    from studio.core.inspect.drawing import data_style, fit_drawing

    pad = try_panel.pad
    assert pad.shape == (8, 8) and pad.isEnabled()
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=at(pad, 0.2, 0.1))
    for v in (0.2, 0.3, 0.4):
        qtbot.mouseMove(pad, at(pad, 0.2, v))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=at(pad, 0.2, 0.4))
    drawn = pad.pixels()
    assert drawn[6:, :].max() == 0.0 and drawn[:, 4:].max() == 0.0  # the stroke itself: top left only
    qtbot.waitUntil(lambda: try_panel.prediction is not None and not try_panel.job.busy, timeout=30_000)
    prediction = try_panel.prediction
    seen = prediction.image
    np.testing.assert_allclose(seen, fit_drawing(pad.canvas, data_style(try_panel.snapshot.data, (8, 8)), (8, 8)))
    assert (seen > 0.1).any(1).all() and seen[:, 3:5].min() > 0.3  # full height, in the middle columns
    assert try_panel.network_input.pixels is seen and try_panel.network_input.isVisible()
    assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert try_panel.prediction_label.text().startswith(f"Prediction: {prediction.predicted_name} (")


def train_digits() -> ModelSnapshot:
    from studio.core.engine import Trainer

    trainer = Trainer(default_project())
    trainer.fit()
    return ModelSnapshot.from_trainer(trainer)


def test_a_zero_drawn_with_the_mouse_reads_as_zero(qtbot, host, try_panel):
    """The issue's case: a clear, round "0" drawn in the middle of the pad read as "4 (100%)"."""
    import math

    try_panel.set_snapshot(run_job(qtbot, host, train_digits))
    pad = try_panel.pad
    points = [at(pad, 0.5 + 0.25 * math.sin(t), 0.5 - 0.25 * math.cos(t))
              for t in np.linspace(0, 2 * math.pi, 40)]
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=points[0])
    for point in points[1:]:
        qtbot.mouseMove(pad, point)
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=points[-1])
    qtbot.waitUntil(lambda: try_panel.prediction is not None and not try_panel.job.busy, timeout=60_000)
    qtbot.waitUntil(lambda: try_panel.prediction_label.text().startswith("Prediction: 0 ("), timeout=30_000)
    assert try_panel.network_input.pixels is not None and try_panel.network_input.pixels.shape == (8, 8)


def test_brush_size_and_clear(qtbot, try_panel):
    pad = try_panel.pad
    try_panel.brush_spin.setValue(3.0)
    assert pad.brush_size == 3.0
    qtbot.mouseClick(pad, Qt.MouseButton.LeftButton, pos=at(pad, 0.5, 0.5))
    wide = float(pad.pixels().sum())
    qtbot.mouseClick(try_panel.clear_button, Qt.MouseButton.LeftButton)
    assert pad.pixels().max() == 0.0
    try_panel.brush_spin.setValue(1.0)
    qtbot.mouseClick(pad, Qt.MouseButton.LeftButton, pos=at(pad, 0.5, 0.5))
    assert 0 < float(pad.pixels().sum()) < wide / 4  # ink grows with the square of the brush


def test_loading_an_image_shows_it_on_the_pad_as_the_network_sees_it(qtbot, try_panel, tmp_path):
    ink = np.full((32, 32), 255, np.uint8)
    ink[:, 12:20] = 0  # a black bar on white paper, input pixels 3 and 4 wide
    Image.fromarray(ink).save(tmp_path / "one.png")
    qtbot.mouseClick(try_panel.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: try_panel.prediction is not None and not try_panel.job.busy, timeout=30_000)
    pixels = try_panel.pad.pixels()
    assert pixels[4, 3:5].min() > 0.9 and pixels[4, 0] == 0.0  # inverted to light ink on black, like digits
    np.testing.assert_allclose(try_panel.prediction.image, pixels, atol=1e-6)


def test_picking_a_sample_shows_its_true_label(qtbot, try_panel, digits):
    try_panel.sample_spin.setValue(2)
    qtbot.mouseClick(try_panel.sample_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: try_panel.prediction is not None, timeout=30_000)
    assert try_panel.prediction.true == int(digits.data.y_val[2])
    assert f"true: {try_panel.prediction.true}" in try_panel.prediction_label.text()


def test_layer_view_shows_the_input_the_weights_and_every_layer(qtbot, host, digits):
    view = LayerView(host.worker)
    qtbot.addWidget(view)
    view.set_snapshot(digits)
    view.request(1)
    qtbot.waitUntil(lambda: view.shown is not None, timeout=30_000)
    titles = [w.text() for w in view.rows.findChildren(QWidget, "layerTitle")]
    assert titles[0].startswith("Input") and titles[1].startswith("Weights of 1 Linear 128: 64 of 128 units")
    assert [t.split(" · ")[0] for t in titles[2:]] == list(digits.layer_names())


def moons_project() -> Project:
    layers = [LayerSpec("Linear", {"out_features": 8}), LayerSpec("Tanh"), LayerSpec("Linear", {"out_features": 2})]
    return Project(model=ModelSpec(layers), data=DataSpec("moons", {"n_samples": 200}),
                   optimizer=Choice("adam", {"lr": 0.05}), training=TrainingSpec(epochs=3, batch_size=8, stats_every=0))


def test_the_boundary_updates_while_training_and_curves_export(qtbot, host, tmp_path):
    panel = InspectPanel(host.worker, ScriptedDialogs(paths=[str(tmp_path / "curves")]))
    qtbot.addWidget(panel)
    panel.show()
    grids: list[BoundaryGrid] = []
    panel.resultReady.connect(lambda r: grids.append(r) if isinstance(r, BoundaryGrid) else None)
    callbacks = panel.training_callbacks()
    callbacks[0]._min_interval = 0.0  # every 20 steps, however fast this machine is
    with qtbot.waitSignal(host.worker.fitEnded, timeout=120_000):
        host.worker.start_training(moons_project(), None, callbacks)
    qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=30_000)
    steps = [g.step for g in grids]
    assert len(steps) >= 5 and steps == sorted(steps) and steps[0] == 0
    assert panel.boundary.updates == len(grids) and panel.boundary.grid is grids[-1]
    assert panel.boundary.image.image.shape == (100, 100, 3)
    assert len(panel.boundary.scatters) == 2 and panel.boundary.plane.isVisibleTo(panel.boundary)
    assert panel.evaluation.evaluation.epoch == 3
    qtbot.mouseClick(panel.export_curves_button, Qt.MouseButton.LeftButton)
    rows = list(csv.reader((tmp_path / "curves" / "curves.csv").open()))
    assert [r[0] for r in rows] == ["epoch", "1", "2", "3"]
    assert (tmp_path / "curves" / "batch_losses.csv").exists()


def test_every_control_has_a_stable_name_and_an_accessible_name(qtbot, host):
    panel = InspectPanel(host.worker, ScriptedDialogs())
    qtbot.addWidget(panel)
    for name in CONTROLS:
        widget = panel if name == "inspectPanel" else panel.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName(), name


def test_regression_shows_the_curve_for_one_input_and_only_predicted_vs_true_otherwise(qtbot):
    from studio.core.inspect import RegressionFit
    from studio.ui.inspect.boundary_view import BoundaryView

    view = BoundaryView()
    qtbot.addWidget(view)
    view.show()
    x = np.linspace(-3, 3, 20, dtype=np.float32)
    curve = RegressionFit(np.sin(x)[:, None], np.sin(x)[:, None] * 0.9, x, x, np.sin(x) * 0.9, epoch=4)
    view.set_fit(curve)
    assert view.plane.isVisible() and view.fit_plot.isVisible()
    np.testing.assert_allclose(view.curve.yData, np.sin(x) * 0.9)
    assert "R² 0.9" in view.fit_plot.plotItem.titleLabel.text
    view.set_fit(RegressionFit(np.ones((5, 2)), np.zeros((5, 2))))
    assert view.fit_plot.isVisible() and not view.plane.isVisible()
    assert len(view.fit_points.data) == 10  # both targets
