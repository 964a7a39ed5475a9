"""The dataset panel: every registered dataset, loading in the worker with progress, summary,
preview in the right form, errors shown in place."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QWidget

from studio.core.data import DATASETS
from studio.core.presets import default_project
from studio.ui.widgets.dataset_panel import DatasetPanel

LOAD_TIMEOUT_MS = 20_000


@pytest.fixture
def panel(qtbot, host):
    widget = DatasetPanel(host.worker)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.dataReady, timeout=LOAD_TIMEOUT_MS):
        widget.load(default_project())
    return widget


def choose(panel, qtbot, name: str, **params):
    combo = panel.findChild(QComboBox, "datasetCombo")
    combo.setCurrentIndex(combo.findData(name))
    if params:
        panel.dataset.form.set_values(params)
    with qtbot.waitSignal(panel.dataReady, timeout=LOAD_TIMEOUT_MS) as blocker:
        panel.request_load(immediate=True)
    return blocker.args[0]


def test_lists_every_registered_dataset(panel):
    combo = panel.findChild(QComboBox, "datasetCombo")
    assert [combo.itemData(i) for i in range(combo.count())] == DATASETS.names()
    assert combo.accessibleName()


def test_digits_load_shows_shape_classes_and_labelled_images(panel):
    assert panel.prepared().input_shape == (64,)
    text = panel.findChild(QLabel, "dataSummary").text()
    assert "64 features" in text and "10 classes" in text
    assert panel.preview.kind() == "images"
    labels = panel.preview.images.labels()
    assert len(labels) == 24 and set(labels) <= {str(d) for d in range(10)}
    assert not panel.progress.isVisible()


def test_two_d_points_show_a_scatter_and_regression_a_curve(panel, qtbot):
    prepared = choose(panel, qtbot, "moons", n_samples=200)
    assert prepared.input_shape == (2,) and panel.preview.kind() == "points"
    prepared = choose(panel, qtbot, "sine", n_samples=100)
    assert prepared.task == "regression" and panel.preview.kind() == "curve"


def test_settings_round_trip_to_the_project(panel, qtbot):
    choose(panel, qtbot, "blobs", n_samples=120, classes=3)
    panel.findChild(QSpinBox, "batchSizeSpin").setValue(16)
    project = default_project()
    panel.store(project)
    assert project.data.dataset == "blobs" and project.data.params["classes"] == 3
    assert project.training.batch_size == 16


def test_changing_batch_size_keeps_the_loaded_data(panel):
    before = panel.prepared()
    panel.findChild(QSpinBox, "batchSizeSpin").setValue(8)
    assert panel.prepared() is before and not panel.is_loading()


def test_load_error_is_shown_in_the_panel(panel, qtbot):
    combo = panel.findChild(QComboBox, "datasetCombo")
    combo.setCurrentIndex(combo.findData("sine"))
    panel.preparation.set_values({"subset_per_class": 5})  # a class subset of a regression set is impossible
    with qtbot.waitSignal(panel.loadFailed, timeout=LOAD_TIMEOUT_MS) as blocker:
        panel.request_load(immediate=True)
    error = panel.findChild(QLabel, "dataError")
    assert error.isVisibleTo(panel) and error.text() == blocker.args[0]
    assert panel.prepared() is None
    panel.preparation.set_values({"subset_per_class": None})
    with qtbot.waitSignal(panel.dataReady, timeout=LOAD_TIMEOUT_MS):
        panel.request_load(immediate=True)
    assert not error.isVisibleTo(panel)


def test_loading_shows_progress_without_blocking(panel, qtbot):
    combo = panel.findChild(QComboBox, "datasetCombo")
    combo.setCurrentIndex(combo.findData("circles"))
    panel.request_load(immediate=True)
    assert panel.is_loading() and panel.progress.isVisibleTo(panel)  # returned at once; the worker loads
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=LOAD_TIMEOUT_MS)
    assert panel.prepared() is not None


def test_locked_panel_cannot_be_edited(panel):
    panel.set_locked(True)
    assert not panel.findChild(QComboBox, "datasetCombo").isEnabled()
    assert not panel.findChild(QSpinBox, "batchSizeSpin").isEnabled()


def test_csv_file_loads_into_a_table_preview(panel, qtbot, tmp_path):
    path = tmp_path / "points.csv"
    rows = ["a,b,label"] + [f"{i * 0.1:.1f},{(i % 3) * 0.5:.1f},{'yes' if i % 2 else 'no'}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    prepared = choose(panel, qtbot, "csv", path=str(path), label_column="label")
    assert prepared.input_shape == (2,) and prepared.num_classes == 2
    assert panel.preview.kind() in ("table", "points")


def test_missing_files_show_an_error_not_a_crash(panel, qtbot, tmp_path):
    combo = panel.findChild(QComboBox, "datasetCombo")
    combo.setCurrentIndex(combo.findData("mnist"))
    panel.dataset.form.set_values({"root": str(tmp_path / "nowhere"), "download": False})
    with qtbot.waitSignal(panel.loadFailed, timeout=LOAD_TIMEOUT_MS) as blocker:
        panel.request_load(immediate=True)
    assert blocker.args[0] and panel.findChild(QLabel, "dataError").isVisibleTo(panel)
    assert panel.findChild(QWidget, "param_root_browse") is not None  # the folder chooser is there


def test_a_load_overtaken_by_new_settings_is_cancelled_and_only_the_newest_arrives(panel, qtbot):
    combo = panel.findChild(QComboBox, "datasetCombo")
    ready: list = []
    panel.dataReady.connect(ready.append)
    combo.setCurrentIndex(combo.findData("circles"))
    panel.request_load(immediate=True)
    first = panel._job
    combo.setCurrentIndex(combo.findData("moons"))
    panel.request_load(immediate=True)
    assert first.state == "cancelled" and panel._job is not first
    qtbot.waitUntil(lambda: not panel.is_loading(), timeout=LOAD_TIMEOUT_MS)
    assert [prepared.input_shape for prepared in ready] == [(2,)]
    assert panel.prepared() is ready[-1] and panel.spec().dataset == "moons"
