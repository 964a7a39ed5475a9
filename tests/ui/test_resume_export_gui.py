"""Run folders, File > Resume Run… and File > Export… from the window, and project files from other versions.

Every GUI run writes its checkpoints into its own folder; a run resumed from one of its checkpoints continues
exactly (the same losses as the unbroken run); a crafted pickle is refused with a message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QSpinBox

from studio.core import project as project_module
from studio.core.checkpoint import list_checkpoints
from studio.core.project import load_project, save_project
from studio.core.runs import is_run_folder
from studio.core.vocab import TrainingState
from studio.ui.plots import LivePlot
from studio.ui.runs import CHECKPOINTS
from tests.payloads import Payload
from tests.ui.conftest import RUN_TIMEOUT_MS, open_window, tiny_project, train_until_idle

METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")


def small_project(epochs: int = 2):
    return tiny_project(epochs, per_class=20, batch_size=32, checkpoint_every=1, keep_checkpoints=3)


@pytest.fixture
def window(qtbot, temp_settings, host):
    win = open_window(qtbot, host, project=small_project())
    yield win
    win.document.dirty = False
    win.shutdown()



def run_folders(temp_settings) -> list[Path]:
    root = temp_settings.parent / "runs"
    return sorted(p for p in root.iterdir() if p.is_dir())


def metrics(event) -> tuple[float, ...]:
    return tuple(getattr(event, name) for name in METRICS)


def test_each_run_checkpoints_into_its_own_folder(qtbot, window, temp_settings):
    window.document.project.training.keep_checkpoints = 1
    end = train_until_idle(qtbot, window)
    assert end.reason == "completed"
    [folder] = run_folders(temp_settings)
    assert [p.name for p in list_checkpoints(folder / CHECKPOINTS)] == ["epoch-0002.ckpt"]  # keep 1
    assert is_run_folder(folder)  # project.json + model.safetensors: the CLI's run-folder layout
    assert json.loads((folder / "metrics.json").read_text())["reason"] == "completed"
    assert f"Saved in {folder}" in window.status.message.text()
    record = window.history.runs()[0]
    assert window.history.run_folder(record.id) == str(folder)
    assert str(folder) in window.history.table.item(0, 0).toolTip()
    assert window.runs.tracker.latest_checkpoint() == folder / CHECKPOINTS / "epoch-0002.ckpt"

    train_until_idle(qtbot, window)
    assert len(run_folders(temp_settings)) == 2  # a second run never overwrites the first


def test_stop_leaves_a_final_checkpoint_and_run_commands_wait(qtbot, window, temp_settings):
    window.document.project.training.epochs = 200
    window.document.project.training.checkpoint_every = 0  # only the final checkpoint
    window.commands["train"].trigger()
    # Polled, not waitSignal: queued batch signals still pending after a blocker is gone crash PySide.
    qtbot.waitUntil(lambda: window.status.batches.value() > 0, timeout=RUN_TIMEOUT_MS)
    assert not any(window.commands[key].isEnabled() for key in ("resume_run", "fine_tune", "export"))
    with qtbot.waitSignal(window.host.worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended:
        window.commands["stop"].trigger()
    assert ended.args[0].reason == "stopped"
    [folder] = run_folders(temp_settings)
    assert len(list_checkpoints(folder / CHECKPOINTS)) == 1
    qtbot.waitUntil(lambda: all(window.commands[key].isEnabled() for key in ("resume_run", "fine_tune", "export")))


def test_resume_run_continues_exactly_and_the_plots_continue(qtbot, window, temp_settings):
    unbroken = train_until_idle(qtbot, window)
    [first] = run_folders(temp_settings)
    after_one = first / CHECKPOINTS / "epoch-0001.ckpt"
    window.document.project.name = "edited since"  # the checkpoint's project replaces this one
    window.document.dirty = False

    window.dialogs.paths.append(str(after_one))
    worker = window.host.worker
    with (  # both listen before the start: a one-epoch fit can end within one round of events
        qtbot.waitSignal(worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended,
        qtbot.waitSignal(worker.fitStarted, timeout=RUN_TIMEOUT_MS) as started,
    ):
        window.commands["resume_run"].trigger()
    assert started.args[0].start_epoch == 1
    resumed = ended.args[0]
    assert resumed.epochs_completed == 2
    assert metrics(resumed.history[1]) == metrics(unbroken.history[1])  # bit for bit on the CPU
    assert window.document.project.name == small_project().name
    assert window.status.epochs.value() == 2

    window.plots.refresh()
    val_x = window.findChild(LivePlot, "lossPlot").curve("val").getData()[0]
    assert list(val_x) == [1.0, 2.0]  # epoch 1 from the checkpoint, epoch 2 from the resumed fit
    loss_x = window.findChild(LivePlot, "lossPlot").curve("raw").getData()[0]
    assert min(loss_x) > 1.0  # per-batch losses start after the checkpoint's epoch
    assert len(run_folders(temp_settings)) == 2  # the resumed run has a new folder; the old one is intact
    assert [p.name for p in list_checkpoints(first / CHECKPOINTS)] == ["epoch-0001.ckpt", "epoch-0002.ckpt"]


def test_resuming_a_finished_run_offers_to_train_longer(qtbot, window, temp_settings):
    train_until_idle(qtbot, window)
    [first] = run_folders(temp_settings)
    window.dialogs.answers.append("yes")
    with qtbot.waitSignal(window.host.worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended:
        window.runs.resume_run(str(first))  # a run folder: its newest checkpoint
    assert window.dialogs.shown[-1].title == "Train longer?"
    assert ended.args[0].epochs_completed == 4
    assert window.document.project.training.epochs == 4


def test_declining_to_train_longer_changes_nothing(qtbot, window, temp_settings):
    train_until_idle(qtbot, window)
    [first] = run_folders(temp_settings)
    window.document.project.name = "mine"
    window.dialogs.answers.append("no")
    job = window.runs.resume_run(str(first))
    with qtbot.waitSignal(job.finished, timeout=RUN_TIMEOUT_MS):
        pass
    assert window.dialogs.shown[-1].title == "Train longer?"
    assert window.document.project.name == "mine" and window.training.state == TrainingState.IDLE
    assert window.status.message.text() == "Resume cancelled."



def test_a_crafted_checkpoint_is_refused_and_nothing_changes(qtbot, window, tmp_path):
    evil, marker = tmp_path / "epoch-0001.ckpt", tmp_path / "pwned"
    torch.save({"format": "training-studio-checkpoint", "payload": Payload(marker)}, evil)
    before = window.document.project.to_dict()
    job = window.runs.resume_run(str(evil))
    with qtbot.waitSignal(job.failed, timeout=RUN_TIMEOUT_MS):
        pass
    qtbot.waitUntil(lambda: bool(window.dialogs.shown))
    shown = window.dialogs.shown[-1]
    assert shown.kind == "error" and "refused to load" in shown.text and "code" in shown.text
    assert not marker.exists()
    assert window.document.project.to_dict() == before and window.training.state == TrainingState.IDLE


def test_export_opens_on_the_latest_checkpoint_and_exports(qtbot, window, tmp_path):
    train_until_idle(qtbot, window)
    latest = window.runs.tracker.latest_checkpoint()
    window.commands["export"].trigger()
    dialog = window.runs.export_dialog
    assert dialog.isVisible() and dialog.source.text() == str(latest)
    dialog.format.setCurrentIndex(dialog.format.findData("state_dict"))
    dialog.out.setText(str(tmp_path / "weights.pt"))
    with qtbot.waitSignal(dialog.exported, timeout=RUN_TIMEOUT_MS):
        dialog.export_button.click()
    assert (tmp_path / "weights.pt").is_file()

    chosen = window.runs.export(str(tmp_path / "other.ckpt"))
    assert chosen.source.text() == str(tmp_path / "other.ckpt") and window.runs.export_dialog is chosen


def test_actions_have_stable_names(window):
    for name in ("resumeRunAction", "fineTuneAction", "exportAction"):
        action = window.findChild(QAction, name)
        assert action is not None and action in window.commands.menus["file"].actions()


# --- project files from other versions ---------------------------------------------------------------


def test_an_older_project_file_is_migrated_when_opened(window, tmp_path):
    old = small_project(epochs=7).to_dict()
    training = old["training"]
    training["snapshot_every"] = training.pop("checkpoint_every")
    training["keep_snapshots"] = training.pop("keep_checkpoints")
    old["schema_version"] = 1  # as version 1 wrote it: the checkpoint settings were called snapshots
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    assert window.document.open(path)
    assert window.document.project.training.epochs == 7
    opened = window.document.project.training
    assert (opened.checkpoint_every, opened.keep_checkpoints) == (1, 3)
    assert window.findChild(QSpinBox, "epochsSpin").value() == 7
    window.document.save()
    saved = json.loads(path.read_text())
    assert saved["schema_version"] == project_module.SCHEMA_VERSION == 2  # saved in the current schema
    assert (saved["training"]["checkpoint_every"], saved["training"]["keep_checkpoints"]) == (1, 3)
    assert "snapshot_every" not in saved["training"]


def test_a_project_from_a_newer_version_is_refused_and_nothing_changes(window, tmp_path):
    data = small_project().to_dict()
    data["schema_version"] = 99
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    before = window.document.project.to_dict()
    assert not window.document.open(path)
    shown = window.dialogs.shown[-1]
    assert shown.kind == "error" and "newer Training Studio" in shown.text and "future.json" in shown.text
    assert window.document.project.to_dict() == before and window.document.path is None


def test_open_save_round_trip_keeps_the_project(window, tmp_path):
    path = tmp_path / "p.json"
    save_project(path, small_project(epochs=5))
    assert window.document.open(path)
    assert load_project(path).to_dict() == window.document.project.to_dict()
