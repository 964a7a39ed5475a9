"""The optimizer panel: forms generated from the registries, round trip to the project, locking."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel

from studio.core.device import DeviceInfo
from studio.core.optim import LOSSES, OPTIMIZERS, SCHEDULES
from studio.core.presets import default_project
from studio.ui.widgets.optimizer_panel import OptimizerPanel

CPU_ONLY = [
    DeviceInfo("cuda", "CUDA GPU", available=False, reason="this PyTorch was installed without CUDA"),
    DeviceInfo("mps", "Apple GPU (MPS)", available=False, reason="MPS exists only on Macs with Apple silicon"),
    DeviceInfo("cpu", "CPU · 2 cores · 23.5 GB"),
]
TWO_GPUS = [DeviceInfo("cuda:0", "NVIDIA H200 · 139.8 GB"), DeviceInfo("cuda:1", "NVIDIA H200 · 139.8 GB"),
            *CPU_ONLY[1:]]


@pytest.fixture
def panel(qtbot):
    widget = OptimizerPanel(devices=CPU_ONLY)
    qtbot.addWidget(widget)
    widget.load(default_project())
    return widget


def test_lists_every_registered_optimizer_loss_and_schedule(panel):
    for section, registry in ((panel.optimizer, OPTIMIZERS), (panel.schedule, SCHEDULES)):
        assert [section.combo.itemData(i) for i in range(section.combo.count())] == registry.names()
    assert panel.loss.combo.count() == len(LOSSES)


def test_learning_rate_is_a_log_scale_spin_box_named_for_automation(panel):
    lr = panel.findChild(QDoubleSpinBox, "learningRateSpin")
    assert lr is not None and lr.accessibleName()
    lr.setValue(1e-3)
    lr.stepBy(1)
    assert lr.value() == pytest.approx(2e-3)  # a 1-2-5 ladder: multiplicative, not +0.01


def test_switching_optimizer_regenerates_its_form_and_remembers_values(panel, qtbot):
    combo = panel.findChild(QComboBox, "optimizerCombo")
    panel.findChild(QDoubleSpinBox, "learningRateSpin").setValue(0.02)
    with qtbot.waitSignal(panel.edited):
        combo.setCurrentIndex(combo.findData("sgd"))
    assert "momentum" in panel.optimizer.values()
    assert panel.findChild(QDoubleSpinBox, "learningRateSpin") is not None
    combo.setCurrentIndex(combo.findData("adam"))
    assert panel.optimizer.values()["lr"] == pytest.approx(0.02)


def test_store_writes_every_setting_into_the_project(panel):
    panel.findChild(QComboBox, "optimizerCombo").setCurrentIndex(panel.optimizer.combo.findData("sgd"))
    panel.training.set_values({"epochs": 3, "target_loss": 0.05, "early_stopping_patience": 4, "seed": 7})
    project = default_project()
    panel.store(project)
    assert project.optimizer.name == "sgd" and "momentum" in project.optimizer.params
    assert (project.training.epochs, project.training.target_loss) == (3, 0.05)
    assert (project.training.early_stopping_patience, project.training.seed) == (4, 7)
    assert project.training.device == "auto"
    assert (project.training.precision, project.training.channels_last, project.training.compile) == ("fp32", False,
                                                                                                       False)


def test_device_lists_only_present_devices_and_says_why_others_are_absent(qtbot):
    widget = OptimizerPanel(devices=CPU_ONLY)
    qtbot.addWidget(widget)
    combo = widget.findChild(QComboBox, "deviceCombo")
    assert [combo.itemText(i) for i in range(combo.count())] == ["auto", "cpu"]
    listed = widget.findChild(QLabel, "deviceList").text()
    assert "CUDA GPU: absent (this PyTorch was installed without CUDA)" in listed and "CPU · 2 cores" in listed


def test_each_gpu_is_listed_by_name_and_memory_and_can_be_chosen(qtbot):
    widget = OptimizerPanel(devices=TWO_GPUS)
    qtbot.addWidget(widget)
    combo = widget.findChild(QComboBox, "deviceCombo")
    assert [combo.itemData(i) for i in range(combo.count())] == ["auto", "cuda", "cpu", "cuda:0", "cuda:1"]
    assert widget.findChild(QLabel, "deviceList").text().count("NVIDIA H200 · 139.8 GB") == 2


def test_precision_channels_last_and_compile_round_trip(panel):
    project = default_project()
    project.training.precision, project.training.channels_last, project.training.compile = "bf16", True, True
    panel.load(project)
    assert panel.findChild(QComboBox, "precisionCombo").currentData() == "bf16"
    assert panel.findChild(QCheckBox, "channelsLastCheck").isChecked()
    assert panel.findChild(QCheckBox, "compileCheck").isChecked()
    assert panel.findChild(QCheckBox, "syncBatchNormCheck").isChecked()
    panel.findChild(QComboBox, "precisionCombo").setCurrentIndex(2)
    stored = default_project()
    panel.store(stored)
    assert (stored.training.precision, stored.training.channels_last, stored.training.compile) == ("fp16", True, True)


def test_regression_task_switches_to_a_fitting_loss(panel, qtbot):
    with qtbot.waitSignal(panel.lossChanged):
        panel.set_task("regression")
    assert "regression" in LOSSES.get(panel.loss.name()).tasks
    names = [panel.loss.combo.itemData(i) for i in range(panel.loss.combo.count())]
    assert all("regression" in LOSSES.get(n).tasks for n in names)


def test_locked_panel_cannot_be_edited(panel):
    panel.set_locked(True)
    assert not panel.findChild(QComboBox, "optimizerCombo").isEnabled()
    assert not panel.findChild(QDoubleSpinBox, "learningRateSpin").isEnabled()
    panel.set_locked(False)
    assert panel.findChild(QDoubleSpinBox, "learningRateSpin").isEnabled()
