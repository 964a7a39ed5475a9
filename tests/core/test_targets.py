"""Target loss everywhere (train, compare, race; per epoch or per batch) and the L2 penalty beside the loss."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.cli import main
from studio.cli.reporting import format_epoch
from studio.core.callbacks import Callback
from studio.core.checkpoint import CheckpointCallback, load_checkpoint
from studio.core.engine import Trainer
from studio.core.errors import StudioError
from studio.core.events import BatchEnd
from studio.core.keypath import apply_settings
from studio.core.lab.compare import compare
from studio.core.lab.race import Contestant, race
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec
from studio.core.retune import resume_changed


def _blobs(**training: object) -> Project:
    spec = TrainingSpec(**{"epochs": 30, "batch_size": 20, "stats_every": 0, "seed": 3, **training})
    return Project(model=ModelSpec([LayerSpec("Linear", {"out_features": 3})]),
                   data=DataSpec("blobs", val_fraction=0.0), optimizer=Choice("sgd", {"lr": 0.5}), training=spec)


class _Batches(Callback):
    def __init__(self) -> None:
        self.events: list[BatchEnd] = []

    def on_train_batch_end(self, trainer: Trainer, event: BatchEnd) -> None:
        self.events.append(event)


def test_a_batch_check_stops_right_after_the_first_batch_at_the_target() -> None:
    target = 0.25
    batches = _Batches()
    trainer = Trainer(_blobs(target_loss=target, target_check="batch"), callbacks=[batches])
    end = trainer.fit()
    losses = [e.loss for e in batches.events]  # one BatchEnd per batch: every loss is checked
    assert [e.step for e in batches.events] == list(range(1, len(losses) + 1))
    assert end.reason == "target_loss" and losses[-1] <= target and all(loss > target for loss in losses[:-1])
    last = batches.events[-1]
    assert f"batch {last.batch} of epoch {last.epoch} (step {last.step})" in end.message
    by_epoch = Trainer(_blobs(target_loss=target)).fit()  # an epoch's mean loss gets there later, if at all
    assert by_epoch.steps > end.steps


def test_full_batch_training_closes_the_epoch_that_reached_the_target() -> None:
    end = Trainer(_blobs(target_loss=0.75, target_check="batch", batch_size=10_000)).fit()
    assert end.reason == "target_loss" and end.steps == end.epochs_completed == len(end.history)
    assert end.history[-1].train_loss <= 0.75 < end.history[-2].train_loss


def test_an_unknown_target_check_is_named() -> None:
    with pytest.raises(StudioError, match='training.target_check must be one of: epoch, batch; got "step"') as info:
        Trainer(_blobs(target_check="step"))
    assert info.value.field == "training.target_check"


def test_compare_and_race_honour_the_target_loss() -> None:
    project = _blobs(target_loss=0.3, target_check="batch")
    pair = compare(project, "lr", 0.1)
    assert pair.a.reason == pair.b.reason == "target_loss"
    result = race(project, [Contestant("plain", Choice("sgd", {"lr": 0.5})), Contestant("slow", Choice("sgd", {
        "lr": 1e-4}))])
    reasons = {lane.label: lane.run.reason for lane in result.contestants}
    assert reasons == {"plain": "target_loss", "slow": "completed"}


def test_the_penalty_is_half_the_decay_times_the_squared_weights() -> None:
    project = _blobs(epochs=2, report_penalty=True)
    project.optimizer.params["weight_decay"] = 0.1
    batches = _Batches()
    trainer = Trainer(project, callbacks=[batches])
    end = trainer.fit()
    expected = 0.5 * 0.1 * sum(float(p.detach().pow(2).sum()) for p in trainer.model.parameters())
    assert end.history[-1].penalty == pytest.approx(expected, rel=1e-5)
    assert all(e.penalty is not None and e.penalty > 0 for e in batches.events)
    assert Trainer(_blobs(epochs=1)).fit().history[-1].penalty is None  # off unless asked for
    line = format_epoch(end.history[-1], 2)
    total = end.history[-1].train_loss + end.history[-1].penalty
    assert f"+ L2 penalty {end.history[-1].penalty:.4f} = {total:.4f}" in line


def test_turning_weight_decay_on_raises_the_data_loss_while_the_total_falls(tmp_path: Path) -> None:
    project = _blobs(epochs=30, batch_size=10_000, report_penalty=True)  # full batch: each epoch is one step
    Trainer(project, callbacks=[CheckpointCallback(tmp_path, every=0)]).fit()
    decayed = apply_settings(project, ["optimizer.params.weight_decay=0.05", "training.epochs=40"])
    _, end = resume_changed(load_checkpoint(tmp_path), decayed)
    after = end.history[30:]
    data = [e.train_loss for e in after]
    total = [e.train_loss + e.penalty for e in after]
    assert all(b > a for a, b in zip(data, data[1:], strict=False))  # the data loss rises...
    assert all(b < a for a, b in zip(total, total[1:], strict=False))  # ...while what is minimised falls


def test_the_cli_prints_and_streams_the_penalty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--preset", "perceptron", "--epochs", "1", "--set", "training.report_penalty=true",
                 "--set", "optimizer.params.weight_decay=0.5"]) == 0
    assert "+ L2 penalty" in capsys.readouterr().err
    assert main(["train", "--preset", "perceptron", "--epochs", "1", "--json", "--set",
                 "training.report_penalty=true"]) == 0
    assert '"penalty": 0.0' in capsys.readouterr().out
