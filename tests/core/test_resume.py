"""Exact resume: a run interrupted (after an epoch or mid-epoch) and resumed ends bit-for-bit like a full run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from studio.core.callbacks import Callback
from studio.core.checkpoint import CheckpointCallback, list_checkpoints, load_checkpoint, resume_fit
from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec

EPOCHS = 3
# Timing fields differ between any two runs; everything else must be identical.
_TIMING = {"seconds", "samples_per_s"}


def _project() -> Project:
    layers = [LayerSpec("Linear", {"out_features": 24}), LayerSpec("ReLU"), LayerSpec("Dropout", {"p": 0.2}),
              LayerSpec("Linear", {"out_features": 10})]
    return Project(
        name="resume",
        model=ModelSpec(layers=layers),
        data=DataSpec(dataset="digits", subset_per_class=16, seed=3),
        optimizer=Choice("sgd", {"lr": 0.05, "momentum": 0.9}),
        schedule=Choice("one_cycle"),
        training=TrainingSpec(epochs=EPOCHS, batch_size=32, seed=7, device="cpu", stats_every=0),
    )


@pytest.fixture(scope="module")
def data():
    return prepare_data(_project().data)


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("full")
    trainer = Trainer(_project(), data, [CheckpointCallback(folder, every=1, keep=10)])
    end = trainer.fit()
    return folder, trainer.training_state(), end


def _metrics(history) -> list[dict]:
    return [{k: v for k, v in dataclasses.asdict(e).items() if k not in _TIMING} for e in history]


def _assert_same_run(state: dict, end, ref_state: dict, ref_end) -> None:
    for name, tensor in ref_state["model"].items():
        assert torch.equal(state["model"][name], tensor), name
    for ref_slot, slot in zip(ref_state["optimizer"]["state"].values(), state["optimizer"]["state"].values(),
                              strict=True):
        assert torch.equal(slot["momentum_buffer"], ref_slot["momentum_buffer"])
    assert state["schedule"] == ref_state["schedule"]
    assert _metrics(end.history) == _metrics(ref_end.history)
    assert (end.epochs_completed, end.steps) == (ref_end.epochs_completed, ref_end.steps)


def test_resume_after_epoch_k_matches_uninterrupted_run(reference, data, tmp_path: Path) -> None:
    folder, ref_state, ref_end = reference
    assert [p.name for p in list_checkpoints(folder)] == [f"epoch-000{i}.ckpt" for i in range(1, EPOCHS + 1)]
    checkpoint = load_checkpoint(folder / "epoch-0002.ckpt")
    assert checkpoint.epoch == 2 and checkpoint.project.name == "resume"
    assert len(checkpoint.history) == 2

    trainer, end = resume_fit(folder / "epoch-0002.ckpt", [CheckpointCallback(tmp_path, every=1)], data=data)

    _assert_same_run(trainer.training_state(), end, ref_state, ref_end)
    assert [p.name for p in list_checkpoints(tmp_path)] == [f"epoch-000{i}.ckpt" for i in range(3, EPOCHS + 1)]


class _StopAtStep(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, event) -> None:
        if event.step >= self.step:
            trainer.request_stop()


def test_stop_mid_epoch_saves_and_resumes_exactly(reference, data, tmp_path: Path) -> None:
    _, ref_state, ref_end = reference
    trainer = Trainer(_project(), data, [_StopAtStep(9), CheckpointCallback(tmp_path, every=0)], log_every=1)
    first = trainer.fit()
    assert first.reason == "stopped"
    (saved,) = list_checkpoints(tmp_path)
    assert "-batch-" in saved.name

    # The checkpoint alone is enough: the project and the data come from it (data prepared again).
    resumed, end = resume_fit(saved)

    _assert_same_run(resumed.training_state(), end, ref_state, ref_end)


def test_keep_deletes_the_oldest(data, tmp_path: Path) -> None:
    project = _project()
    project.training.epochs = 3
    Trainer(project, data, [CheckpointCallback(tmp_path, every=1, keep=2)]).fit()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["epoch-0002.ckpt", "epoch-0003.ckpt"]


def test_resume_can_train_longer(reference, data) -> None:
    folder, _, _ = reference
    trainer, end = resume_fit(folder / f"epoch-000{EPOCHS}.ckpt", data=data, epochs=EPOCHS + 1)
    assert end.epochs_completed == EPOCHS + 1 and len(end.history) == EPOCHS + 1
