"""The learner's path through the window: build a network in the editor, pick data, train, watch
every plot fill, pause/resume/stop, get a broken network refused with the reason, survive errors,
and close while training without leaving a thread behind."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QSpinBox, QToolButton, QWidget

from studio.core.presets import default_project
from studio.core.project import Choice
from studio.core.vocab import TrainingState
from studio.ui.plots import LivePlot
from studio.ui.workers import WorkerHost
from tests.ui.conftest import emissions, open_window

RUN_TIMEOUT_MS = 90_000
EVERY_PLOT = ("lossPlot", "accuracyPlot", "activationPlot", "gradientPlot")


def wait_for_batches(qtbot, seen: list[tuple], more_than: int = 0) -> None:
    qtbot.waitUntil(lambda: len(seen) > more_than, timeout=RUN_TIMEOUT_MS)


def click(qtbot, window, name: str) -> None:
    qtbot.mouseClick(window.findChild(QToolButton, name), Qt.MouseButton.LeftButton)


def long_project(epochs: int = 200):
    project = default_project()
    project.training.epochs = epochs
    return project


def plotted_points(plot: LivePlot) -> int:
    keys = plot.keys()  # a LivePlot's curve names (not a dict)
    xs = (plot.curve(key).getData()[0] for key in keys)
    return sum(len(x) for x in xs if x is not None)


@pytest.fixture
def window(qtbot, temp_settings, host):
    win = open_window(qtbot, host, project=long_project())
    yield win
    win.shutdown()


def test_build_pick_data_train_and_see_every_plot(qtbot, temp_settings, host):
    empty = default_project()
    empty.model.layers = []
    window = open_window(qtbot, host, project=empty)
    window.show_settings("data")
    combo = window.findChild(QComboBox, "datasetCombo")
    with qtbot.waitSignal(window.data_panel.dataReady, timeout=RUN_TIMEOUT_MS):
        combo.setCurrentIndex(combo.findData("moons"))
    assert window.data_panel.prepared().input_shape == (2,)

    window.show_settings("network")
    editor = window.editor
    palette = window.findChild(QWidget, "layerPalette")
    for layer in ("Linear", "ReLU", "Linear"):
        palette.select_type(layer)
        qtbot.mouseClick(editor.findChild(QToolButton, "addLayerButton"), Qt.MouseButton.LeftButton)
    assert window.editor.problem()  # the last Linear has 64 outputs, the two moons need 2
    editor.stack_view.select_row(2)
    editor.properties.form.field("out_features").setValue(2)
    assert window.editor.problem() is None
    assert [layer.type for layer in window.document.project.model.layers] == ["Linear", "ReLU", "Linear"]

    window.findChild(QSpinBox, "epochsSpin").setValue(2)
    with qtbot.waitSignal(window.host.worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, window, "trainButton")
    assert ended.args[0].reason == "completed" and ended.args[0].epochs_completed == 2
    for name in EVERY_PLOT:
        plot = window.findChild(LivePlot, name)
        qtbot.waitUntil(lambda p=plot: plotted_points(p) > 0, timeout=5_000)
    qtbot.waitUntil(lambda: window.training.state == TrainingState.IDLE)
    assert len(window.history.runs()) == 1
    assert window.status.epochs.value() == 2
    window.document.dirty = False
    window.shutdown()


def test_pause_resume_stop_and_locked_editing(qtbot, window):
    worker = window.host.worker
    window.editor.stack_view.select_row(0)
    window.editor.properties.form.field("out_features").setValue(100)  # an edit that could be undone
    assert window.commands["undo"].isEnabled()
    seen = emissions(worker.batchesEnded)
    window.commands["train"].trigger()
    wait_for_batches(qtbot, seen)
    assert window.training.state == TrainingState.RUNNING
    assert not window.findChild(QWidget, "layerPalette").isEnabled()
    assert not window.findChild(QComboBox, "datasetCombo").isEnabled()
    assert not window.findChild(QComboBox, "optimizerCombo").isEnabled()
    assert not window.commands["train"].isEnabled() and not window.commands["open"].isEnabled()
    assert not window.commands["undo"].isEnabled()  # undo would change the network under the run

    click(qtbot, window, "pauseButton")
    assert window.training.state == TrainingState.PAUSED
    assert window.findChild(QToolButton, "pauseButton").accessibleName() == "Resume"
    click(qtbot, window, "pauseButton")
    assert window.training.state == TrainingState.RUNNING
    wait_for_batches(qtbot, seen, len(seen))  # batches arrive again after resuming

    with qtbot.waitSignal(worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, window, "stopButton")
    assert ended.args[0].reason == "stopped" and ended.args[0].epochs_completed < 200
    qtbot.waitUntil(lambda: window.training.state == TrainingState.IDLE)
    assert window.findChild(QWidget, "layerPalette").isEnabled() and window.commands["train"].isEnabled()
    assert window.commands["undo"].isEnabled()


def test_stop_while_paused_ends_the_run(qtbot, window):
    worker = window.host.worker
    seen = emissions(worker.batchesEnded)
    window.commands["train"].trigger()
    wait_for_batches(qtbot, seen)
    window.commands["pause"].trigger()
    with qtbot.waitSignal(worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended:
        window.commands["stop"].trigger()
    assert ended.args[0].reason == "stopped"


def test_invalid_stack_is_refused_with_the_reason(qtbot, window):
    window.editor.stack_view.select_row(4)
    window.editor.properties.form.field("out_features").setValue(7)  # digits has 10 classes
    reason = window.editor.problem()
    assert reason
    with qtbot.waitSignal(window.training.rejected) as refused:
        window.commands["train"].trigger()
    assert reason in refused.args[0]
    shown = window.dialogs.shown[-1]
    assert shown.kind == "error" and reason in shown.text
    assert window.training.state == TrainingState.IDLE and not window.host.worker.is_training()


def test_closing_during_training_asks_then_stops_cleanly(qtbot, window):
    seen = emissions(window.host.worker.batchesEnded)
    window.commands["train"].trigger()
    wait_for_batches(qtbot, seen)
    window.dialogs.answers.append("no")
    assert not window.close()
    assert window.dialogs.shown[-1].title == "Training is running" and window.host.worker.is_training()
    window.dialogs.answers.append("yes")
    assert window.close()
    assert not window.host.is_running() and not window.host.worker.is_training()


class _FailingTrainer:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def fit(self, resume=None):
        raise self.exc

    def request_stop(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...


def test_an_error_in_training_is_shown_with_what_to_try(qtbot, temp_settings):
    host = WorkerHost(trainer_factory=lambda project, data, callbacks: _FailingTrainer(MemoryError()))
    window = open_window(qtbot, host)
    with qtbot.waitSignal(host.worker.trainingFailed, timeout=RUN_TIMEOUT_MS):
        window.commands["train"].trigger()
    qtbot.waitUntil(lambda: window.training.state == TrainingState.IDLE)
    shown = window.dialogs.shown[-1]
    assert shown.kind == "error" and "What to try" in shown.text and "batch size" in shown.text
    assert window.commands["train"].isEnabled() and host.is_running()  # the app and its worker live on
    window.shutdown()


def test_a_diverged_run_is_reported(qtbot, temp_settings, host):
    project = default_project()
    project.optimizer = Choice("sgd", {"lr": 10.0})  # a real run that diverges within a few steps
    project.model.init = "normal"
    window = open_window(qtbot, host, project=project)
    with qtbot.waitSignal(host.worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended:
        window.commands["train"].trigger()
    assert ended.args[0].reason == "non_finite"
    qtbot.waitUntil(lambda: window.training.state == TrainingState.IDLE)
    assert len(window.dialogs.shown) == 1  # one message, not one per signal
    assert window.dialogs.shown[0].kind == "error" and "lower learning rate" in window.dialogs.shown[0].text
    window.shutdown()


def test_train_before_the_data_is_loaded_waits_for_it(qtbot, temp_settings, host):
    project = default_project()
    project.training.epochs = 1
    window = open_window(qtbot, host, project=project)
    window.data_panel.request_load(immediate=True, force=True)  # as at start-up: loading in progress
    assert window.data_panel.prepared() is None
    with qtbot.waitSignal(host.worker.fitEnded, timeout=RUN_TIMEOUT_MS):
        window.commands["train"].trigger()
    window.shutdown()


def test_widgets_named_in_this_flow_exist(window):
    for name in ("trainButton", "pauseButton", "stopButton", *EVERY_PLOT):
        assert window.findChild(QWidget, name) is not None


def test_status_bar_shows_progress_speed_and_time_left(qtbot):
    from PySide6.QtWidgets import QMainWindow

    from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart
    from studio.ui.status import TrainingStatus, format_duration

    now = [100.0]
    host = QMainWindow()
    qtbot.addWidget(host)
    status = TrainingStatus(host.statusBar(), clock=lambda: now[0])
    status.on_fit_started(FitStart(4, 10, 640, 160, "cpu", ("1 Linear 10",), 650, 0))
    now[0] += 5.0  # 10 of 40 steps in 5 s: 15 s to go
    status.on_batches([BatchEnd(1, 10, 10, 0.5, 0.8, 1e-3, 1280.0)])
    assert status.speed.text() == "1,280 samples/s"  # the first news after a quiet spell shows at once
    assert status.eta.text() == "0:15 left"
    now[0] += 0.1
    status.on_epochs([EpochEnd(1, 0.5, 0.8, 0.6, 0.75, 5.0, 1e-3, 1280.0)])
    assert "validation" not in status.message.text()  # 100 ms later: coalesced, the timer shows the latest
    qtbot.waitUntil(lambda: "validation accuracy 75.0%" in status.message.text())
    assert (status.epochs.value(), status.epochs.maximum()) == (1, 4)
    status.on_batches([BatchEnd(2, 11, 1, 0.5, 0.8, 1e-3, 1280.0)])
    status.on_epochs([EpochEnd(2, 0.4, 0.9, 0.5, 0.8, 5.0, 1e-3, 1280.0)])
    status.on_fit_end(FitEnd("completed", 2, 20, None, None, "Finished 2 epochs.", ()))
    assert status.epochs.value() == 2 and status.batches.value() == 1  # the end shows the last events at once
    assert status.eta.text() == "done" and status.message.text() == "Finished 2 epochs."
    assert format_duration(3700) == "1:01:40"


def test_ctrl_enter_trains_and_escape_stops(qtbot, window):
    window.activateWindow()
    qtbot.waitActive(window)
    seen = emissions(window.host.worker.batchesEnded)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_for_batches(qtbot, seen)
    with qtbot.waitSignal(window.host.worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended:
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert ended.args[0].reason == "stopped"
