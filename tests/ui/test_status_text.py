"""No stale text (issue 15, point 4): every message in the status bar and the editor says what is true now.

One test per defect the issue lists; the sanity check's one source for text and plot is proven in
tests/core/test_lab_sanity.py and tests/ui/test_lab_panels.py.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow, QToolButton

from studio.core.events import EpochEnd, FitStart
from studio.core.presets import load_preset
from studio.core.project import LayerSpec, ModelSpec, save_project
from studio.core.vocab import TrainingState
from studio.ui import style
from studio.ui.dialogs import ScriptedDialogs
from studio.ui.main_window import MainWindow
from studio.ui.status import NOT_STARTED, READY, TrainingStatus
from tests.ui.conftest import RUN_TIMEOUT_MS, emissions, open_window, tiny_project


def test_stop_during_loading_does_not_leave_loading_on_screen(qtbot, temp_settings, host) -> None:
    window = MainWindow(project=tiny_project(), host=host, dialogs=ScriptedDialogs())
    qtbot.addWidget(window)
    window.show()
    window.commands["train"].trigger()  # the data is still loading: the run waits for it
    assert window.training.state == TrainingState.PREPARING
    assert window.status.message.text() == "Loading the data…"
    window.commands["stop"].trigger()
    assert window.training.state == TrainingState.IDLE
    assert window.status.message.text() == NOT_STARTED
    qtbot.waitUntil(lambda: window.data_panel.prepared() is not None, timeout=RUN_TIMEOUT_MS)
    assert window.status.message.text() == NOT_STARTED and window.training.state == TrainingState.IDLE


def test_pause_is_not_overwritten_by_epoch_news(qtbot) -> None:
    bar_owner = QMainWindow()
    qtbot.addWidget(bar_owner)
    status = TrainingStatus(bar_owner.statusBar())
    status.show_state(TrainingState.RUNNING)
    status.on_fit_started(FitStart(9, 10, 640, 160, "cpu", ("1 Linear 10",), 650, 0))
    status.show_state(TrainingState.PAUSED)
    status.on_epochs([EpochEnd(3, 0.5, 0.8, 0.6, 0.75, 5.0, 1e-3, 1280.0)])  # queued before the pause took
    status.flush()
    assert status.message.text().startswith("Paused") and status.epochs.value() == 3
    status.show_state(TrainingState.RUNNING)
    assert status.message.text().startswith("Epoch 3: loss 0.5")


def test_new_project_and_a_fix_replace_old_messages(qtbot, temp_settings, host) -> None:
    project = tiny_project()
    project.model = ModelSpec([LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 10}),
                               LayerSpec("Linear", {"out_features": 5})])  # 5 outputs for 10 classes
    window = open_window(qtbot, host, project)
    window.commands["train"].trigger()
    assert window.status.message.text().startswith("The network cannot be built")
    window.editor.stack_view.select_row(2)
    window.editor.delete()  # the fix
    assert window.status.message.text() == READY
    window.status.show_message("Finished 3 epochs. Saved in /somewhere")
    window.document.dirty = False
    window.commands["new"].trigger()
    assert window.status.message.text() == "New project."


def test_save_is_confirmed(qtbot, temp_settings, host, tmp_path) -> None:
    target = tmp_path / "mine.json"
    window = open_window(qtbot, host, tiny_project(), ScriptedDialogs(paths=[str(target)]))
    window.commands["save"].trigger()
    assert target.is_file()
    assert window.status.message.text() == f"Saved to {target}."


def test_a_long_message_is_elided_before_the_speed_label(qtbot, temp_settings, host) -> None:
    window = open_window(qtbot, host, tiny_project())
    window.resize(1024, 700)
    window.status.set_running(True)
    window.status.speed.setText("12,345 samples/s")
    long = "Finished 3 epochs. " + "Saved in /a/very/long/folder/name/that/goes/on " * 8
    window.status.show_message(long)
    qtbot.waitUntil(lambda: window.status.message.is_elided())
    QApplication.processEvents()
    message, speed = window.status.message, window.status.speed
    right = message.mapTo(window, message.rect().topRight()).x()
    assert right < speed.mapTo(window, speed.rect().topLeft()).x()
    assert message.toolTip().startswith(long) and message.shown_text().endswith("…")


def test_first_launch_says_the_data_is_loading(qtbot, temp_settings, host) -> None:
    window = MainWindow(project=tiny_project(), host=host, dialogs=ScriptedDialogs())
    qtbot.addWidget(window)
    assert window.data_panel.prepared() is None
    text = window.editor.input_label.text()
    assert "loading" in text and "No dataset chosen" not in text
    qtbot.waitUntil(lambda: window.data_panel.prepared() is not None, timeout=RUN_TIMEOUT_MS)
    assert window.editor.input_label.text().startswith("Data: digits")


def test_train_after_open_checks_the_network_against_the_new_data(qtbot, temp_settings, host, tmp_path) -> None:
    other = load_preset("perceptron")  # another dataset, another input size: this network is wrong for digits
    path = tmp_path / "other.json"
    save_project(path, other)
    window = open_window(qtbot, host, tiny_project(), ScriptedDialogs(paths=[str(path)]))
    assert window.document.open()
    with qtbot.waitSignal(window.host.worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended:
        window.commands["train"].trigger()  # before its data has loaded
    assert not window.dialogs.shown, [m.text for m in window.dialogs.shown]
    assert ended.args[0].reason == "completed"
    qtbot.waitUntil(lambda: not window.training.busy(), timeout=RUN_TIMEOUT_MS)


def test_the_resume_button_shows_the_play_icon(qtbot, temp_settings, host) -> None:
    project = tiny_project(epochs=500)
    window = open_window(qtbot, host, project)
    seen = emissions(window.host.worker.batchesEnded)
    window.commands["train"].trigger()
    qtbot.waitUntil(lambda: len(seen) > 0, timeout=RUN_TIMEOUT_MS)
    button = window.findChild(QToolButton, "pauseButton")
    image = lambda name: style.icon(name).pixmap(16).toImage()  # noqa: E731
    assert button.icon().pixmap(16).toImage() == image("pause")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.accessibleName() == "Resume" and button.icon().pixmap(16).toImage() == image("play")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.icon().pixmap(16).toImage() == image("pause")
    with qtbot.waitSignal(window.host.worker.fitEnded, timeout=RUN_TIMEOUT_MS):
        window.commands["stop"].trigger()
    qtbot.waitUntil(lambda: not window.training.busy(), timeout=RUN_TIMEOUT_MS)
