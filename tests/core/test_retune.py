"""Resuming with a new learning rate: the saved optimizer state takes the project's changed settings, the
schedule keeps its place, and anything that would not fit the saved state is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.core.callbacks import Callback
from studio.core.checkpoint import CheckpointCallback, load_checkpoint
from studio.core.engine import Trainer
from studio.core.errors import ConfigError
from studio.core.keypath import apply_settings
from studio.core.presets import load_preset
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec
from studio.core.retune import check_resumable, optimizer_changes, resume_changed, retune_state


def _blobs(schedule: Choice) -> Project:
    layers = [LayerSpec("Linear", {"out_features": 8}, lr_mult=0.5), LayerSpec("ReLU"),
              LayerSpec("Linear", {"out_features": 3})]
    return Project(model=ModelSpec(layers), data=DataSpec("blobs", seed=2), optimizer=Choice("sgd", {
        "lr": 0.1, "momentum": 0.9}), schedule=schedule,
        training=TrainingSpec(epochs=2, batch_size=32, seed=1, device="cpu", stats_every=0))


def _checkpoint(project: Project, folder: Path) -> Path:
    Trainer(project, callbacks=[CheckpointCallback(folder, every=0)]).fit()
    return folder


@pytest.mark.parametrize("schedule", [Choice("none"), Choice("step", {"step_size": 1, "gamma": 0.5})])
def test_resume_continues_at_the_new_rate_and_keeps_the_momentum(tmp_path: Path, schedule: Choice) -> None:
    project = _blobs(schedule)
    checkpoint = load_checkpoint(_checkpoint(project, tmp_path))
    saved = checkpoint.state["optimizer"]
    new = apply_settings(project, ["optimizer.params.lr=0.01", "training.epochs=3"])
    seen: list[list[float]] = []

    class FirstStep(Callback):
        def on_train_batch_end(self, trainer: Trainer, event: object) -> None:
            if not seen:
                seen.append([group["lr"] for group in trainer.optimizer.param_groups])

    trainer, end = resume_changed(checkpoint, new, [FirstStep()])
    assert end.epochs_completed == 3
    decay = 0.25 if schedule.name == "step" else 1.0  # two epochs of gamma 0.5 before the resume
    assert seen[0] == pytest.approx([0.01 * 0.5 * decay, 0.01 * decay])  # lr_mult 0.5 keeps its ratio
    if schedule.name == "step":
        assert trainer.schedule.state_dict()["base_lrs"] == pytest.approx([0.005, 0.01])
    # Only the rates change: the momentum buffers go back into the optimizer as saved.
    groups = [Trainer(p).optimizer.state_dict()["param_groups"] for p in (project, new)]
    retuned = retune_state(checkpoint.state, *groups)["optimizer"]
    assert saved["state"] and retuned["state"].keys() == saved["state"].keys()
    for key, buffers in saved["state"].items():
        assert torch.equal(retuned["state"][key]["momentum_buffer"], buffers["momentum_buffer"])
    assert [g["momentum"] for g in retuned["param_groups"]] == [0.9, 0.9]


def test_unchanged_settings_resume_exactly_like_an_unbroken_run(tmp_path: Path) -> None:
    project = _blobs(Choice("none"))
    checkpoint = load_checkpoint(_checkpoint(project, tmp_path))
    longer = apply_settings(project, ["training.epochs=3"])
    trainer, _ = resume_changed(checkpoint, longer)
    unbroken = Trainer(longer)
    unbroken.fit()
    for name, tensor in unbroken.model.state_dict().items():
        assert torch.equal(tensor, trainer.model.state_dict()[name]), name


def test_a_resumed_run_keeps_its_network_data_loss_and_optimizer() -> None:
    project = load_preset("perceptron")
    for key in ("model.layers[1].params.zero=0", "data.val_fraction=0.5", "optimizer.name=adam", "loss.name=mse"):
        with pytest.raises(ConfigError, match="a resumed run cannot change"):
            check_resumable(project, apply_settings(project, [key]))
    check_resumable(project, apply_settings(project, ["optimizer.params.lr=0.5", "training.epochs=9"]))


def test_changes_are_worded_for_the_report() -> None:
    project = load_preset("perceptron")
    new = apply_settings(project, ["optimizer.params.lr=0.5", "optimizer.params.momentum=0.9"])
    assert optimizer_changes(project, new) == ["lr 0.5 (was 1)", "momentum 0.9 (was 0)"]
