"""The studio as a place you come back to (issue 15, point 2): the last project reopens, past runs are
read back from their folders (with curves to overlay), can be opened, renamed and deleted, the
history names their dataset and network, and an edited project is not still called "Digits MLP".

Settings live in a temporary folder (``temp_settings``); each "launch" is a new window on a new
worker thread, as a restart would be.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from studio.app import start_window
from studio.core.project import load_project, save_project
from studio.core.run_records import NAME_FILE
from studio.core.summary import derived_name, network_summary
from studio.ui.dialogs import ScriptedDialogs
from studio.ui.widgets.run_history import COLUMNS
from studio.ui.workers import WorkerHost
from tests.ui.conftest import LOAD_TIMEOUT_MS, open_window, tiny_project, train_until_idle

HEADERS = [header for header, _tip, _text in COLUMNS]


def launch(qtbot, dialogs: ScriptedDialogs | None = None, project: str | None = None):
    """Start the studio as ``main`` does (its own worker thread), and wait for its data."""
    host = WorkerHost()
    window = start_window(project, host=host, dialogs=dialogs or ScriptedDialogs())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.data_panel.prepared() is not None, timeout=LOAD_TIMEOUT_MS)
    return window


def quit_studio(window) -> None:
    window.document.dirty = False
    window.close()
    assert not window.host.is_running()


def cell(window, row: int, header: str) -> str:
    return window.history.table.item(row, HEADERS.index(header)).text()


def click(qtbot, window, name: str) -> None:
    button = window.history.findChild(QToolButton, name)
    assert button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture
def trained(qtbot, temp_settings, tmp_path) -> Path:
    """A first session: the learner saves a project as mine.json, trains it once and quits."""
    path = tmp_path / "mine.json"
    first = launch(qtbot, ScriptedDialogs(paths=[str(path)]))
    first.document.adopt(tiny_project(epochs=2))
    first.document.save()
    train_until_idle(qtbot, first)
    quit_studio(first)
    return path


def test_restarting_opens_the_last_project(qtbot, trained: Path) -> None:
    window = launch(qtbot)
    assert window.document.path == trained.resolve() or window.document.path == trained
    assert window.document.project.name == "mine" and window.windowTitle().startswith("mine.json")
    quit_studio(window)


def test_past_runs_are_read_back_with_curves_dataset_and_network(qtbot, trained: Path) -> None:
    window = launch(qtbot)
    history = window.history
    assert history.table.rowCount() == 1
    record = history.runs()[0]
    assert record.folder is not None and record.folder.parent == Path(window.runs.tracker.root())
    assert len(record.epochs) == 2 and record.param_count and record.param_count > 1000
    assert cell(window, 0, "Dataset") == "digits"
    assert cell(window, 0, "Network") == network_summary(record.project, record.param_count)
    assert cell(window, 0, "Network").startswith("Linear×2 → Linear 10, ")
    assert cell(window, 0, "Epochs") == "2/2"
    history.select_runs([record.id])
    assert window.plots.plots["loss"].has_curve(f"run:{record.id}")  # overlaid like a run of this session
    train_until_idle(qtbot, window)  # a new run is numbered after the past ones
    assert [r.id for r in history.runs()] == [1, 2] and history.runs()[1].folder is not None
    quit_studio(window)


def test_a_past_run_can_be_renamed_opened_and_deleted(qtbot, trained: Path, tmp_path: Path) -> None:
    dialogs = ScriptedDialogs(texts=["Baseline  run"], answers=["cancel", "delete"])
    window = launch(qtbot, dialogs)
    history = window.history
    record = history.runs()[0]
    folder = record.folder
    history.select_runs([record.id])
    click(qtbot, window, "runRenameButton")
    assert cell(window, 0, "Run") == "Baseline run"
    assert (folder / NAME_FILE).read_text(encoding="utf-8").strip() == "Baseline run"

    window.document.adopt(tiny_project(epochs=7))  # something else in the editors
    click(qtbot, window, "runOpenButton")
    assert window.document.project.training.epochs == 2  # the run's project
    assert window.runs.tracker.latest == folder  # Export/Resume start from this run now

    click(qtbot, window, "runDeleteButton")  # answered "cancel": nothing happens
    assert folder.is_dir() and history.table.rowCount() == 1
    click(qtbot, window, "runDeleteButton")  # answered "delete"
    assert "cannot be undone" in dialogs.shown[-1].text
    assert not folder.exists() and history.table.rowCount() == 0
    assert window.runs.tracker.latest is None
    quit_studio(window)

    again = launch(qtbot)
    assert again.history.runs() == []  # gone for good, not just from the table
    quit_studio(again)


def test_renamed_runs_keep_their_name_after_a_restart(qtbot, trained: Path) -> None:
    window = launch(qtbot, ScriptedDialogs(texts=["First try"]))
    window.history.select_runs([1])
    click(qtbot, window, "runRenameButton")
    quit_studio(window)
    again = launch(qtbot)
    assert cell(again, 0, "Run") == "First try"
    quit_studio(again)


def test_the_name_follows_what_the_learner_built(qtbot, temp_settings, host, tmp_path: Path) -> None:
    window = open_window(qtbot, host, tiny_project())
    assert window.document.project.name == "Digits MLP"  # the preset, untouched
    window.editor.stack_view.select_row(2)
    window.editor.properties.form.field("out_features").setValue(32)
    name = window.document.project.name
    assert name == derived_name(window.document.project) and "Digits MLP" not in name
    assert "Linear×2 → Linear 10" in name and window.windowTitle().startswith(name)
    train_until_idle(qtbot, window)
    folder = window.runs.tracker.latest
    assert folder is not None and "digits-mlp" not in folder.name and "linear" in folder.name
    assert load_project(folder / "project.json").name == name  # what the model card and exports are named after
    window.document.dirty = False
    window.commands["new"].trigger()
    assert window.document.project.name != "Digits MLP"
    window.shutdown()


def test_a_file_the_learner_named_keeps_its_name(qtbot, temp_settings, host, tmp_path: Path) -> None:
    project = tiny_project()
    project.name = "My digits"
    path = tmp_path / "digits.json"
    save_project(path, project)
    window = open_window(qtbot, host, dialogs=ScriptedDialogs(paths=[str(path)]))
    assert window.document.open()
    window.editor.stack_view.select_row(2)
    window.editor.properties.form.field("out_features").setValue(32)
    assert window.document.project.name == "My digits"
    window.document.dirty = False
    window.shutdown()
