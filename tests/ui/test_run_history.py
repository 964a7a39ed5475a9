"""Run history: runs recorded from the worker's signals, shown in a table, selected for overlays."""

from __future__ import annotations

import pytest

from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart
from studio.core.history import FAILED, RunRecorder, epoch_position
from studio.core.project import Choice, Project
from studio.ui.plots import PlotsPanel
from studio.ui.widgets.run_history import COLUMNS, RunHistory

HEADERS = [header for header, _tip, _text in COLUMNS]


def epoch(n: int, val_acc: float | None = 0.9) -> EpochEnd:
    return EpochEnd(n, 0.5 / n, 0.8, 0.6 / n, val_acc, 1.0, 0.01, 100.0)


def play_run(history: RunHistory, project: Project, epochs: int = 2, reason: str = "completed") -> None:
    """Feed ``history`` the signals of one run, as the worker would."""
    history.on_training_started(project)
    history.on_fit_started(FitStart(project.training.epochs, 4, 64, 16, "cpu", ("1 Linear 10",), 100, 0))
    for n in range(1, epochs + 1):
        history.on_batches([BatchEnd(n, (n - 1) * 4 + b, b, 1.0 / b, 0.5, 0.01, 100.0) for b in range(1, 5)])
        history.on_epochs([epoch(n)])
    done = tuple(epoch(n) for n in range(1, epochs + 1))
    history.on_fit_end(FitEnd(reason, epochs, 4 * epochs, epochs, 0.3, "message", done))


def cell(history: RunHistory, row: int, header: str) -> str:
    return history.table.item(row, HEADERS.index(header)).text()


@pytest.fixture
def history(qtbot) -> RunHistory:
    widget = RunHistory()
    qtbot.addWidget(widget)
    return widget


def project(optimizer: str = "adam", lr: float = 0.01, batch_size: int = 16) -> Project:
    result = Project()
    result.optimizer = Choice(optimizer, {"lr": lr})
    result.training.batch_size = batch_size
    result.training.epochs = 5
    return result


def test_a_finished_run_becomes_a_row_with_settings_and_final_metrics(history: RunHistory) -> None:
    play_run(history, project("sgd", 0.05, 32), epochs=2, reason="stopped")
    assert history.objectName() == "runHistory"
    assert history.table.rowCount() == 1
    assert cell(history, 0, "Run") == "Run 1"
    assert cell(history, 0, "Dataset") == "digits"
    assert cell(history, 0, "Network") == "no weighted layers, 100 params"  # an empty Project(); FitStart's count
    assert cell(history, 0, "Settings") == "sgd · lr 0.05 · batch 32"
    assert cell(history, 0, "Epochs") == "2/5"
    assert cell(history, 0, "Loss") == "0.25 / 0.3"  # training / validation
    assert cell(history, 0, "Accuracy") == "80.0% / 90.0%"
    assert cell(history, 0, "Ended") == "stopped by you"
    record = history.runs()[0]
    assert len(record.batch_losses) == 8 and record.batch_epochs[-1] == pytest.approx(2.0)
    assert record.project.optimizer.name == "sgd"


def test_the_record_keeps_a_copy_of_the_project(history: RunHistory) -> None:
    original = project()
    play_run(history, original)
    original.optimizer.params["lr"] = 1.0
    assert history.runs()[0].project.optimizer.params["lr"] == 0.01


def test_a_failed_run_is_kept_with_its_message(history: RunHistory) -> None:
    history.on_training_started(project())
    history.on_training_failed("out of memory", "Try a smaller batch size.")
    record = history.runs()[0]
    assert record.reason == FAILED and "smaller batch" in record.message
    assert cell(history, 0, "Ended") == "failed"
    assert cell(history, 0, "Loss") == "–"


def test_selecting_runs_emits_their_records(qtbot, history: RunHistory) -> None:
    for lr in (0.1, 0.01, 0.001):
        play_run(history, project(lr=lr))
    with qtbot.waitSignal(history.selectionChanged, check_params_cb=lambda runs: len(runs) == 2) as selected:
        history.select_runs([1, 3])
    assert [record.id for record in selected.args[0]] == [1, 3]
    assert [record.id for record in history.selected_runs()] == [1, 3]
    with qtbot.waitSignal(history.selectionChanged) as cleared:
        history.table.clearSelection()
    assert cleared.args[0] == []


def test_selected_runs_are_overlaid_in_the_plots(qtbot, history: RunHistory) -> None:
    panel = PlotsPanel()
    qtbot.addWidget(panel)
    history.selectionChanged.connect(panel.show_runs)
    play_run(history, project(lr=0.1))
    play_run(history, project(lr=0.01))
    history.select_runs([2])
    assert panel.plots["loss"].has_curve("run:2") and not panel.plots["loss"].has_curve("run:1")
    assert panel.plots["accuracy"].has_curve("run:2")


def test_recorder_places_batches_on_an_epoch_axis() -> None:
    assert epoch_position(3, 32, 64) == pytest.approx(2.5)
    recorder = RunRecorder(7, Project())
    recorder.fit_start(FitStart(1, 10, 100, 0, "cpu", (), 0, 0))
    recorder.batches([BatchEnd(1, 5, 5, 0.7, None, 0.1, 1.0)])
    assert recorder.record.name == "Run 7"
    assert recorder.record.batch_epochs == [0.5] and recorder.record.batch_losses == [0.7]
