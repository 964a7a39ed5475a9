"""Train on N local processes (torchrun) or with a command: the window fills from the run's JSON events,
pauses and stops it cleanly, and shows why a process died."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox

from studio.core.checkpoint import list_checkpoints
from studio.core.history import FAILED
from studio.core.runs import load_run
from studio.core.targets import RunTarget, TargetKind
from studio.core.vocab import EndReason, TrainingState
from studio.ui.plots import LivePlot
from tests.ui.conftest import emissions, open_window, tiny_project
from tests.ui.test_training_flow import EVERY_PLOT

PROCESS_TIMEOUT_MS = 240_000  # three Python processes import torch on a busy 2-core machine


def curve_points(plot: LivePlot) -> int:
    """Points handed to a plot's curves (all of them: 100,000 planned epochs make the drawn part tiny)."""
    curves = [plot.curve(key) for key in plot.keys()]  # noqa: SIM118 - a LivePlot's curve names, not a dict
    return sum(len(curve.xData) for curve in curves if curve.xData is not None)


@pytest.fixture
def windows(qtbot, host):
    opened = []

    def open_(**kwargs: object):
        opened.append(open_window(qtbot, host, **kwargs))
        return opened[-1]

    yield open_
    for window in opened:
        window.shutdown()

def test_local_processes_fill_the_plots_and_stop_cleanly(qtbot, temp_settings, windows) -> None:
    window = windows(project=tiny_project(epochs=100_000, per_class=20))
    picker = window.features["targets"]
    combo = picker.findChild(QComboBox, "targetCombo")
    combo.setCurrentIndex(combo.findData("local"))
    picker.findChild(QSpinBox, "processesSpin").setValue(2)
    assert window.training.target == RunTarget(TargetKind.LOCAL, 2, picker.target().command)
    epochs, stats = emissions(window.worker.epochsEnded), emissions(window.worker.layerStats)
    started = emissions(window.training.processRunStarted)

    window.commands["train"].trigger()
    assert window.training.state == TrainingState.RUNNING
    qtbot.waitUntil(lambda: len(epochs) >= 2 and bool(stats), timeout=PROCESS_TIMEOUT_MS)
    for name in EVERY_PLOT:  # loss, accuracy, activations, gradients: the same events as a local run
        plot = window.findChild(LivePlot, name)
        qtbot.waitUntil(lambda p=plot: curve_points(p) > 0, timeout=10_000)
    assert window.status.epochs.value() >= 2

    window.commands["pause"].trigger()
    assert window.training.state == TrainingState.PAUSED
    window.commands["pause"].trigger()  # Resume
    window.commands["stop"].trigger()
    with qtbot.waitSignal(window.worker.fitEnded, timeout=PROCESS_TIMEOUT_MS) as ended:
        pass
    assert ended.args[0].reason == EndReason.STOPPED
    qtbot.waitUntil(lambda: window.training.state == TrainingState.IDLE, timeout=PROCESS_TIMEOUT_MS)
    folder = Path(started[0][0])
    run = load_run(folder)  # written by rank 0 after the clean stop
    assert run.metrics["reason"] == "stopped"
    assert list_checkpoints(folder / "checkpoints")  # the clean stop's checkpoint, to resume from
    assert len(window.history.runs()) == 1 and window.history.run_folder(window.history.runs()[0].id) == str(folder)
    qtbot.waitUntil(lambda: window.inspect.snapshot is not None, timeout=60_000)  # from the run folder's weights
    window.grab().save(str(Path(temp_settings).parent / "local-processes.png"))


def test_a_command_that_dies_shows_its_reason(qtbot, temp_settings, windows) -> None:
    window = windows(project=tiny_project(epochs=2, precision="fp16"))
    picker = window.features["targets"]
    combo = picker.findChild(QComboBox, "targetCombo")
    combo.setCurrentIndex(combo.findData("command"))
    edit = picker.findChild(QLineEdit, "commandEdit")
    edit.setText(f"{sys.executable} -m studio train {{project}} --out {{run}} --json --control-stdin")
    edit.editingFinished.emit()
    failures = emissions(window.worker.trainingFailed)
    window.commands["train"].trigger()
    qtbot.waitUntil(lambda: window.training.state == TrainingState.IDLE, timeout=PROCESS_TIMEOUT_MS)
    (message, _hint), = failures
    assert message.startswith("precision fp16 needs a CUDA device")  # the process's own one line
    shown = window.dialogs.shown[-1]
    assert shown.title == "Training stopped with an error" and "precision fp16" in shown.text
    assert window.history.runs()[-1].reason == FAILED


def test_a_command_without_the_event_stream_is_refused(qtbot, temp_settings, windows) -> None:
    window = windows(project=tiny_project())
    window.training.set_target(RunTarget(TargetKind.COMMAND, command="ssh box train {project}"))
    assert not window.training.train()
    assert "--json and --control-stdin" in window.dialogs.shown[-1].text
    assert window.training.state == TrainingState.IDLE
