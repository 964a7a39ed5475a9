"""Optimizer race: identical start weights and inputs, tagged events, divergence, stop, contestant parsing."""

from __future__ import annotations

import pytest
import torch

from studio.core.callbacks import EventLog
from studio.core.engine import DEFAULT_LOG_EVERY, Trainer
from studio.core.errors import ConfigError
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart
from studio.core.lab.race import DEFAULT_LINEUP, Race, parse_contestant, race
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec


def _tiny() -> Project:
    layers = [LayerSpec("Linear", {"out_features": 16}), LayerSpec("ReLU"), LayerSpec("Dropout", {"p": 0.5}),
              LayerSpec("Linear", {"out_features": 10})]
    return Project(model=ModelSpec(layers), data=DataSpec("digits", subset_per_class=6),
                   training=TrainingSpec(epochs=2, batch_size=20, stats_every=0))


def test_contestants_share_start_weights_inputs_and_dropout_masks() -> None:
    setup = Race(_tiny(), DEFAULT_LINEUP)
    first = setup.models[0].state_dict()
    for model in setup.models[1:]:
        assert all(torch.equal(first[k], v) for k, v in model.state_dict().items())
    inputs: list[list[torch.Tensor]] = [[] for _ in setup.models]
    masks: list[list[torch.Tensor]] = [[] for _ in setup.models]
    for i, model in enumerate(setup.models):
        model[0].register_forward_pre_hook(lambda m, args, i=i: inputs[i].append(args[0].clone()))
        model[2].register_forward_hook(lambda m, args, out, i=i: masks[i].append(out.clone() != 0))
    events: list[tuple[str, object]] = []
    result = setup.run(on_event=lambda tag, event: events.append((tag, event)))
    for i in range(1, len(setup.models)):
        assert torch.equal(inputs[0][0], inputs[i][0])  # first step: same batch
        assert torch.equal(inputs[0][-1], inputs[i][-1])  # and the last one
        assert torch.equal(masks[0][0], masks[i][0])  # same dropout mask at the same step
    # different optimizers leave different weights
    assert not torch.equal(setup.models[0][0].weight, setup.models[3][0].weight)
    labels = [c.label for c in DEFAULT_LINEUP]
    assert [c.label for c in result.contestants] == labels
    for label in labels:
        kinds = [type(e) for tag, e in events if tag == label]
        assert kinds[0] is FitStart and kinds[-1] is FitEnd
        assert kinds.count(EpochEnd) == 2 and BatchEnd in kinds
    assert all(len(c.run.epochs) == 2 and c.final_val_acc is not None for c in result.contestants)
    assert result.winner is not None


def test_a_diverging_contestant_stops_while_the_others_finish() -> None:
    project = Project(model=ModelSpec([LayerSpec("Linear", {"out_features": 1})]),
                      data=DataSpec("sine", {"n_samples": 200}), loss=Choice("mse"),
                      training=TrainingSpec(epochs=2, batch_size=10, stats_every=0))
    lineup = [parse_contestant("wild=sgd:lr=10"), parse_contestant("calm=sgd:lr=0.01")]
    result = race(project, lineup)
    wild, calm = result.contestants
    assert wild.diverged and wild.run.reason == "non_finite"
    assert not calm.diverged and len(calm.run.epochs) == 2 and calm.final_val_acc is None
    assert result.winner is calm


def test_stop_ends_the_race_with_partial_curves() -> None:
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 2  # 3 batches per epoch: stops inside the first

    result = race(_tiny(), DEFAULT_LINEUP[:2], stop=stop)
    assert all(c.run.reason == "stopped" and not c.run.epochs for c in result.contestants)


def _curves(events: list) -> list[tuple]:
    """Everything but the clocks: batch and epoch losses, accuracies, learning rates, the end."""
    rows: list[tuple] = []
    for e in events:
        if isinstance(e, BatchEnd):
            rows.append(("batch", e.epoch, e.step, e.batch, e.loss, e.acc, e.lr))
        elif isinstance(e, EpochEnd):
            rows.append(("epoch", e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.lr))
        elif isinstance(e, FitEnd):
            rows.append(("end", e.reason, e.epochs_completed, e.steps, e.best_epoch, e.best_val_loss))
    return rows


def test_a_lane_is_exactly_a_plain_fit_of_its_optimizer() -> None:
    project = _tiny()
    project.training.epochs, project.training.batch_size = 3, 4
    project.schedule = Choice("cosine")  # stepped every batch
    lineup = [parse_contestant("a=adam:lr=0.01"), parse_contestant("s=sgd:lr=0.1,momentum=0.9")]
    events: list[tuple[str, object]] = []
    race(project, lineup, on_event=lambda tag, event: events.append((tag, event)))
    for contestant in lineup:
        alone = project.copy()
        alone.optimizer = contestant.optimizer
        log = EventLog()
        Trainer(alone, callbacks=[log]).fit()
        lane = [e for tag, e in events if tag == contestant.label]
        assert _curves(lane) == _curves(log.events)  # bit for bit: same floats, dropout masks included
        per_epoch = lane[0].steps_per_epoch
        steps = [e.step for e in lane if isinstance(e, BatchEnd)]
        assert per_epoch > DEFAULT_LOG_EVERY and steps[:2] == [DEFAULT_LOG_EVERY, per_epoch]  # the log interval


def test_the_race_honours_the_target_loss() -> None:
    layers = [LayerSpec("Linear", {"out_features": 32}), LayerSpec("Tanh"), LayerSpec("Linear", {"out_features": 1})]
    project = Project(model=ModelSpec(layers), data=DataSpec("sine", {"n_samples": 200}), loss=Choice("mse"),
                      training=TrainingSpec(epochs=20, batch_size=10, stats_every=0, target_loss=0.1))
    lineup = [parse_contestant("fast=adam:lr=0.03"), parse_contestant("frozen=sgd:lr=1e-6")]
    result = race(project, lineup)
    fast, frozen = result.contestants
    assert fast.run.reason == "target_loss" and len(fast.run.epochs) < 20
    assert fast.final_train_loss <= 0.1
    assert frozen.run.reason == "completed" and len(frozen.run.epochs) == 20  # the others race on


def test_contestant_parsing_and_errors() -> None:
    assert parse_contestant("adam:lr=0.01").optimizer == Choice("adam", {"lr": 0.01})
    named = parse_contestant("Fast Adam=adam:lr=0.01,beta2=0.99")
    assert named.label == "Fast Adam" and named.optimizer.params == {"lr": 0.01, "beta2": 0.99}
    with pytest.raises(ConfigError, match="unknown optimizer"):
        parse_contestant("nadir:lr=1")
    with pytest.raises(ConfigError, match="learning rate"):
        parse_contestant("sgd:lr=-1")
    with pytest.raises(ConfigError, match="own label"):
        Race(_tiny(), [DEFAULT_LINEUP[0], DEFAULT_LINEUP[0]])
