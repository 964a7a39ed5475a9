"""Exact resume: a stopped fit continued from ``training_state()`` equals the uninterrupted fit, bit for bit."""

from __future__ import annotations

import io
import math

import pytest
import torch

from studio.core.callbacks import Callback, EventLog
from studio.core.engine import Trainer
from studio.core.errors import ProjectFileError
from studio.core.events import BatchEnd, EpochEnd, FitStart, LayerStats
from studio.core.project import Choice, LayerSpec, Project
from tests.core.test_engine import CallAt, blobs, metrics, mlp_project, weights


def resumable_project() -> Project:
    """Dropout (the global RNG), batch norm (buffers), momentum (optimizer state), a step schedule."""
    project = mlp_project(epochs=4)
    project.model.layers.insert(1, LayerSpec("BatchNorm1d"))
    project.model.layers.insert(3, LayerSpec("Dropout", {"p": 0.2}))
    project.schedule = Choice("step", {"step_size": 1, "gamma": 0.5})
    return project


class StopAfterEpoch(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer: Trainer, event: EpochEnd) -> None:
        if event.epoch == self.epoch:
            trainer.request_stop()


def through_torch_save(state: dict) -> dict:
    """What a checkpoint does: save, then load with the restricted unpickler."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def assert_same_weights(a: Trainer, b: Trainer) -> None:
    for (name, wa), wb in zip(weights(a).items(), weights(b).values(), strict=True):
        assert torch.equal(wa, wb), name


def test_fit_four_epochs_equals_two_plus_resumed_two() -> None:
    straight = Trainer(resumable_project(), data=blobs())
    full = straight.fit()

    first = Trainer(resumable_project(), data=blobs(), callbacks=[StopAfterEpoch(2)])
    stopped = first.fit()
    assert (stopped.reason, stopped.epochs_completed) == ("stopped", 2)
    state = through_torch_save(first.training_state())

    log = EventLog()
    second = Trainer(resumable_project(), data=blobs(), callbacks=[log])
    result = second.fit(resume=state)
    assert result.reason == "completed" and result.epochs_completed == 4 and result.steps == full.steps
    assert log.of_type(FitStart)[0].start_epoch == 2
    assert [e.epoch for e in log.of_type(EpochEnd)] == [3, 4]
    assert metrics(result.history) == metrics(full.history)
    assert (result.best_epoch, result.best_val_loss) == (full.best_epoch, full.best_val_loss)
    assert_same_weights(second, straight)


def test_resume_in_the_middle_of_an_epoch() -> None:
    straight_log = EventLog()
    straight = Trainer(resumable_project(), data=blobs(), callbacks=[straight_log], log_every=2)
    full = straight.fit()

    first = Trainer(resumable_project(), data=blobs(), callbacks=[CallAt(9, Trainer.request_stop)], log_every=1)
    assert first.fit().steps == 9  # 6 batches per epoch: 3 into the second epoch
    state = first.training_state()
    assert (state["epoch"], state["batch"], state["step"]) == (1, 3, 9)

    log = EventLog()
    second = Trainer(resumable_project(), data=blobs(), callbacks=[log], log_every=2)
    result = second.fit(resume=state)
    assert metrics(result.history) == metrics(full.history)
    assert_same_weights(second, straight)
    # Statistics are sampled on the same global steps as in the uninterrupted run.
    assert [s.step for s in log.of_type(LayerStats)] == [s.step for s in straight_log.of_type(LayerStats) if s.step > 9]
    resumed_batches = [b.step for b in straight_log.of_type(BatchEnd) if b.step > 9]
    assert [b.step for b in log.of_type(BatchEnd)] == resumed_batches == [10, 12, 14, 16, 18, 20, 22, 24]


def test_checkpoint_callback_sees_the_finished_epoch() -> None:
    class Checkpointer(Callback):
        def __init__(self) -> None:
            self.states: list[dict] = []

        def on_epoch_end(self, trainer: Trainer, event: EpochEnd) -> None:
            self.states.append(trainer.training_state())

    saver = Checkpointer()
    trainer = Trainer(resumable_project(), data=blobs(), callbacks=[saver])
    trainer.fit()
    assert [(s["epoch"], s["batch"], len(s["history"])) for s in saver.states] == [(1, 0, 1), (2, 0, 2), (3, 0, 3),
                                                                                    (4, 0, 4)]
    # The state is a copy: later training does not change it.
    assert not torch.equal(saver.states[0]["model"]["0.weight"], trainer.model[0].weight)
    # Resuming from the last checkpoint of a finished fit has nothing left to do.
    again = Trainer(resumable_project(), data=blobs()).fit(resume=saver.states[-1])
    assert again.reason == "completed" and again.epochs_completed == 4


def test_a_state_from_another_network_is_refused() -> None:
    state = Trainer(resumable_project(), data=blobs()).training_state()
    other = mlp_project()
    other.model.layers[0].params["out_features"] = 7
    with pytest.raises(ProjectFileError, match="does not fit"):
        Trainer(other, data=blobs()).fit(resume=state)


def test_a_non_finite_stop_keeps_the_last_good_optimizer_state_and_resumes(tmp_path) -> None:
    """Momentum as well as weights go back to the last finite step, so the checkpoint resumes (it used to
    hold NaN momentum buffers, and the resumed fit diverged at its first step)."""
    from studio.core.checkpoint import CheckpointCallback, load_checkpoint, resume_fit

    data = blobs()
    data.x_train[36, 0] = math.inf  # batch 5 of 6 (unshuffled, 8 per batch): its loss and gradients blow up
    project = mlp_project(epochs=1, shuffle=False)
    seen: dict[int, dict] = {}

    class RecordOptimizer(Callback):
        def on_train_batch_end(self, trainer: Trainer, event: BatchEnd) -> None:
            seen[event.step] = {"optimizer": trainer.optimizer.state_dict(), "model": weights(trainer)}
            seen[event.step] = through_torch_save(seen[event.step])  # a deep copy

    trainer = Trainer(project, data=data, callbacks=[RecordOptimizer(), CheckpointCallback(tmp_path)], log_every=1)
    result = trainer.fit()
    assert result.reason == "non_finite" and "the weights of step 4" in result.message
    checkpoint = load_checkpoint(tmp_path)
    kept = checkpoint.state["optimizer"]["state"]
    assert kept and all(torch.isfinite(buf["momentum_buffer"]).all() for buf in kept.values())
    want = seen[3]  # "the weights of step 4": those that gave its finite loss, after step 3 (momentum too)
    for key, buffers in want["optimizer"]["state"].items():
        assert torch.equal(kept[key]["momentum_buffer"], buffers["momentum_buffer"]), key
    for name, tensor in want["model"].items():
        assert torch.equal(checkpoint.model_state()[name], tensor), name

    clean = blobs()  # the same data without the bad sample: the rest of the epoch trains normally
    _, resumed = resume_fit(tmp_path, data=clean)
    assert resumed.reason == "completed", resumed.message
    assert math.isfinite(resumed.history[-1].train_loss)
