"""The loss plot adds "train + L2 penalty" for runs that report it; the training form edits the new settings."""

from __future__ import annotations

from studio.core.device import DeviceInfo
from studio.core.events import EpochEnd, FitStart
from studio.core.presets import default_project
from studio.ui.plots import PlotsPanel
from studio.ui.widgets.optimizer_panel import OptimizerPanel


def _epoch(epoch: int, loss: float, penalty: float | None) -> EpochEnd:
    return EpochEnd(epoch, loss, None, None, None, 1.0, 0.1, 100.0, penalty)


def test_the_total_curve_appears_only_with_a_penalty(qtbot) -> None:
    panel = PlotsPanel()
    qtbot.addWidget(panel)
    panel.show()  # hidden plots skip their updates
    loss = panel.plots["loss"]
    panel.on_epochs([_epoch(1, 0.5, None)])
    panel.refresh()
    assert not loss.has_curve("total")
    panel.on_epochs([_epoch(2, 0.6, 0.3), _epoch(3, 0.62, 0.2)])
    panel.refresh()
    x, y = loss.curve("total").getData()
    assert list(x) == [2, 3] and list(y) == [0.6 + 0.3, 0.62 + 0.2]
    panel.on_fit_started(FitStart(5, 10, 100, 0, "cpu", ("1 Linear 3",), 12, 0))
    assert not loss.has_curve("total")  # a new run starts without it


def test_the_training_form_edits_the_target_check_and_the_penalty(qtbot) -> None:
    panel = OptimizerPanel(devices=[DeviceInfo("cpu", "CPU")])
    qtbot.addWidget(panel)
    project = default_project()
    panel.load(project)
    panel.training.field("target_check").setCurrentIndex(1)
    panel.training.field("report_penalty").setChecked(True)
    panel.store(project)
    assert project.training.target_check == "batch" and project.training.report_penalty is True
