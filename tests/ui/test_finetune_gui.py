"""File > Fine-tune From…: preview of what loads, network options through the undo stack, the next run
starting from the weights (loaded in the worker) with a report, and refusal of files that could run code."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtWidgets import QWidget
from safetensors.torch import save_file

from studio.core.build import build_model
from studio.core.presets import default_project
from studio.ui.widgets.finetune_dialog import FineTunePlan
from tests.payloads import Payload
from tests.ui.conftest import RUN_TIMEOUT_MS, open_window, tiny_project, train_until_idle


def small_project(epochs: int = 2):
    return tiny_project(epochs, per_class=20, batch_size=32)


@pytest.fixture
def window(qtbot, temp_settings, host):
    win = open_window(qtbot, host, project=small_project())
    yield win
    win.document.dirty = False
    win.shutdown()



def open_dialog(qtbot, window, source: str | None = None):
    """Open File > Fine-tune From… (on ``source``) and wait for its first preview."""
    dialog = window.runs.fine_tune(source)
    qtbot.waitUntil(lambda: dialog.last_report() is not None or dialog.error.isVisibleTo(dialog),
                    timeout=RUN_TIMEOUT_MS)
    return dialog


def test_next_run_starts_from_the_latest_run_and_reports_what_loaded(qtbot, window):
    fresh = train_until_idle(qtbot, window)
    window.commands["fine_tune"].trigger()
    dialog = window.runs.fine_tune_dialog
    assert dialog.isVisible() and dialog.source.text() == str(window.runs.tracker.latest_checkpoint())
    qtbot.waitUntil(lambda: dialog.last_report() is not None, timeout=RUN_TIMEOUT_MS)
    assert "into 3 of 3 layers" in dialog.report.toPlainText()
    assert dialog.ok.isEnabled()
    dialog.ok.click()
    assert window.training.prepare_next is not None

    tuned = train_until_idle(qtbot, window)
    report = window.dialogs.shown[-1]
    assert report.kind == "info" and "into 3 of 3 layers" in report.text and "loaded: 1 Linear 128" in report.details
    assert window.training.prepare_next is None  # only the next run
    # Starting from trained weights, the first epoch is already better than the fresh run's last one.
    assert tuned.history[0].train_loss < fresh.history[-1].train_loss < fresh.history[0].train_loss


def test_a_smaller_output_layer_is_skipped_with_its_reason(qtbot, window, tmp_path):
    other = default_project().model
    other.layers[-1].params["out_features"] = 5  # trained elsewhere on 5 classes
    weights = tmp_path / "five.safetensors"
    save_file(build_model(other, (64,), seed=1).state_dict(), str(weights))
    dialog = open_dialog(qtbot, window, str(weights))
    text = dialog.report.toPlainText()
    assert "into 2 of 3 layers" in text
    assert "not loaded: 5 Linear 10: weight shape 5×64 in the source, 10×64 here" in text

    with qtbot.waitSignal(dialog.previewed, timeout=RUN_TIMEOUT_MS):
        dialog.replace.setChecked(True)
    assert "kept its new weights" in dialog.report.toPlainText()


def test_options_edit_the_network_as_one_undo_step(qtbot, window, tmp_path):
    weights = tmp_path / "w.safetensors"
    save_file(build_model(window.document.project.model, (64,), seed=3).state_dict(), str(weights))
    dialog = open_dialog(qtbot, window, str(weights))
    dialog.freeze.setChecked(True)
    dialog.freeze_count.setValue(2)
    assert dialog.freeze_label.text() == "(up to 2 ReLU)"
    dialog.ramp.setChecked(True)
    dialog.ramp_first.setValue(0.1)
    with qtbot.waitSignal(dialog.previewed, timeout=RUN_TIMEOUT_MS):
        dialog.replace.setChecked(True)
    dialog.ok.click()

    layers = window.document.project.model.layers
    assert [layer.frozen for layer in layers] == [True, True, False, False, False]
    assert layers[0].lr_mult == pytest.approx(0.1) and layers[-1].lr_mult == pytest.approx(1.0)
    assert window.document.dirty
    assert window.undo_stack.undoText() == "Fine-tuning settings"
    window.undo_stack.undo()
    assert not any(layer.frozen for layer in window.document.project.model.layers)
    assert all(layer.lr_mult == 1.0 for layer in window.document.project.model.layers)


def test_replacing_the_output_layer_follows_the_data(window):
    plan = FineTunePlan("x", replace_output=True, n_outputs=3)
    spec = plan.apply(window.document.project.model)
    assert spec.layers[-1].params["out_features"] == 3
    assert plan.exclude(spec) == (4,)
    assert window.document.project.model.layers[-1].params["out_features"] == 10  # the input is untouched



def test_a_crafted_pickle_is_refused_in_the_dialog(qtbot, window, tmp_path):
    evil, marker = tmp_path / "weights.pt", tmp_path / "pwned"
    torch.save({"state_dict": Payload(marker)}, evil)
    dialog = window.runs.fine_tune(str(evil))
    with qtbot.waitSignal(dialog.failed, timeout=RUN_TIMEOUT_MS):
        pass
    assert dialog.error.isVisibleTo(dialog)
    assert "refused to load" in dialog.error.text() and "could run code" in dialog.error.text()
    assert not dialog.ok.isEnabled() and not marker.exists()
    assert window.training.prepare_next is None


def test_opening_another_project_drops_the_chosen_weights(qtbot, window, tmp_path):
    weights = tmp_path / "w.safetensors"
    save_file(build_model(window.document.project.model, (64,), seed=3).state_dict(), str(weights))
    window.runs.apply_plan(FineTunePlan(str(weights)))
    assert window.training.prepare_next is not None and window.runs.fine_tune_plan is not None
    window.commands["new"].trigger()
    assert window.training.prepare_next is None and window.runs.fine_tune_plan is None


def test_dialog_controls_have_stable_and_accessible_names(qtbot, window):
    dialog = window.runs.fine_tune("")
    names = ("fineTuneSource", "fineTuneBrowseFile", "fineTuneBrowseFolder", "fineTuneReplaceOutput", "fineTuneFreeze",
             "fineTuneFreezeCount", "fineTuneFreezeLabel", "fineTuneLrRamp", "fineTuneLrFirst", "fineTuneReport",
             "fineTuneError", "fineTuneAccept")
    for name in names:
        control = dialog.findChild(QWidget, name)
        assert control is not None and control.accessibleName(), name
    assert dialog.objectName() == "fineTuneDialog" and not dialog.ok.isEnabled()
