"""File > Export dialog: runs the verified export on the worker thread and shows the report or the error."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.core.build import build_model
from studio.core.checkpoint import ModelInfo, save_checkpoint
from studio.core.project import LayerSpec, ModelSpec, Project
from studio.ui.dialogs import ScriptedDialogs
from studio.ui.widgets.export_dialog import ExportDialog


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    """A small checkpoint written directly (no training needed to test the dialog)."""
    layers = [LayerSpec("Linear", {"out_features": 8}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 10})]
    project = Project(name="dialog", model=ModelSpec(layers=layers))
    model = build_model(project.model, (64,), seed=0)
    state = {"model": model.state_dict(), "epoch": 1, "step": 3, "history": []}
    info = ModelInfo((64,), preprocessing={"name": "none", "mean": None, "std": None})
    return save_checkpoint(tmp_path / "epoch-0001.ckpt", project, state, info, torch.randn(4, 64))


def _dialog(qtbot, host, dialogs: ScriptedDialogs) -> ExportDialog:
    dialog = ExportDialog(host.worker, dialogs)
    qtbot.addWidget(dialog)
    return dialog


def test_export_runs_on_the_worker_and_reports_the_difference(qtbot, host, checkpoint, tmp_path) -> None:
    out = tmp_path / "out" / "model.onnx"
    dialog = _dialog(qtbot, host, ScriptedDialogs(paths=[str(checkpoint), str(out)]))
    dialog.format.setCurrentIndex(dialog.format.findData("onnx"))
    dialog._browse_source()
    dialog._browse_out()
    assert dialog.source.text() == str(checkpoint) and dialog.out.text() == str(out)

    with qtbot.waitSignal(dialog.exported, timeout=60_000) as blocker:
        dialog.export_button.click()
        assert not dialog.export_button.isEnabled()  # no second export while one runs
    assert dialog.export_button.isEnabled()
    assert out.is_file()
    assert blocker.args[0].max_abs_diff <= 1e-4
    assert "matches the in-app model on 4 real inputs" in dialog.result_label.text()


def test_errors_are_shown_in_place(qtbot, host, tmp_path) -> None:
    dialog = _dialog(qtbot, host, ScriptedDialogs())
    dialog.export_button.click()
    assert "Choose a trained run" in dialog.result_label.text()
    dialog.source.setText(str(tmp_path / "missing"))
    dialog.out.setText(str(tmp_path / "x.pt"))
    with qtbot.waitSignal(dialog.failed, timeout=60_000):
        dialog.export_button.click()
    assert "nothing to export" in dialog.result_label.text()


def test_format_change_describes_it_and_renames_the_destination(qtbot, host, tmp_path) -> None:
    dialog = _dialog(qtbot, host, ScriptedDialogs())
    dialog.out.setText(str(tmp_path / "weights.pt"))
    dialog.format.setCurrentIndex(dialog.format.findData("safetensors"))
    assert dialog.out.text() == str(tmp_path / "model.safetensors")
    assert "safetensors" in dialog.description.text()


@pytest.mark.parametrize("answer", ["no", "yes"])
def test_a_folder_with_the_users_files_is_written_only_after_asking(qtbot, host, checkpoint, tmp_path, answer) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    dialogs = ScriptedDialogs(answers=[answer])
    dialog = _dialog(qtbot, host, dialogs)
    dialog.format.setCurrentIndex(dialog.format.findData("python"))
    dialog.source.setText(str(checkpoint))
    dialog.out.setText(str(folder))
    if answer == "no":
        assert dialog.start() is None
        assert "cancelled" in dialog.result_label.text() and sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    else:
        with qtbot.waitSignal(dialog.exported, timeout=60_000):
            dialog.export_button.click()
        assert (folder / "model.py").is_file() and (folder / "notes.txt").read_text() == "mine"
    (question,) = dialogs.shown
    assert question.title == "Export into a folder that is not empty?" and question.default == "no"
    assert "every other file stays" in question.text


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_library_deprecation_warnings_stay_out_of_the_dialog(qtbot, host, checkpoint, tmp_path, fmt) -> None:
    """torch says TorchScript and the legacy ONNX exporter are deprecated: news for developers, logged; the
    learner reads only that the export matches."""
    dialog = _dialog(qtbot, host, ScriptedDialogs())
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    dialog.source.setText(str(checkpoint))
    dialog.out.setText(str(tmp_path / f"model.{fmt}"))
    with qtbot.waitSignal(dialog.exported, timeout=120_000) as blocker:
        dialog.export_button.click()
    text = dialog.result_label.text().replace(str(tmp_path), "")  # the test's folder is named after it
    assert "matches the in-app model" in text
    assert "deprecat" not in text.lower() and "Warning" not in text and "note:" not in text
    if fmt == "torchscript":  # the legacy ONNX exporter's notices are gone too when onnxscript is installed
        assert any("deprecated" in note for note in blocker.args[0].library_warnings)
