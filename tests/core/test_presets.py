"""Every shipped preset loads, passes the shape check, trains a short tiny epoch; digits-mlp reaches 95%;
the perceptron's first epoch equals the hand calculation."""

from __future__ import annotations

import pytest
import torch

import studio.core.lab  # noqa: F401  (registers the lab's typed-in table dataset)
from studio.core.data import describe, prepare_data
from studio.core.engine import Trainer
from studio.core.lab.lessons import LESSONS
from studio.core.optim import LOSSES
from studio.core.presets import DEFAULT_PRESET, load_preset, preset_names
from studio.core.shapes import check_model

# Presets whose data must be downloaded are checked without training; none ship today.
NEEDS_FILES: set[str] = set()


def test_the_classic_presets_are_shipped() -> None:
    assert set(preset_names()) >= {
        DEFAULT_PRESET, "init-tanh-deep", "init-relu-deep", "optimizer-race", "perceptron", "curve-fit-tanh",
        "deep-linear-exploding", "deep-linear-vanishing", "depth-vs-lr", "batchnorm", "dropout", "mean-subtraction",
    }
    assert set(LESSONS.names()) <= set(preset_names())


@pytest.mark.parametrize("name", preset_names())
def test_preset_checks_and_trains_a_tiny_epoch(name: str) -> None:
    project = load_preset(name)
    assert project.description and project.name
    info = describe(project.data)
    outputs = LOSSES.get(project.loss.name).outputs(info.task, info.num_classes or None, info.target_dim or None)
    report = check_model(project.model, info.input_shape, outputs)
    assert report.ok, report.error
    if name in NEEDS_FILES:
        return
    project.training.epochs = 1
    if info.task == "classification" and project.data.dataset != "table":
        project.data.subset_per_class = min(project.data.subset_per_class or 5, 5)
    result = Trainer(project).fit()
    assert result.epochs_completed == 1 or result.reason == "non_finite"


def test_exploding_preset_explodes_and_vanishing_preset_does_not_move() -> None:
    assert Trainer(load_preset("deep-linear-exploding")).fit().reason == "non_finite"
    history = Trainer(load_preset("deep-linear-vanishing")).fit().history
    assert history[-1].train_loss == pytest.approx(history[0].train_loss, rel=1e-3)


def test_digits_mlp_reaches_95_percent() -> None:
    result = Trainer(load_preset(DEFAULT_PRESET)).fit()
    assert result.history[-1].val_acc >= 0.95


def test_perceptron_weights_after_one_epoch_equal_the_hand_calculation() -> None:
    project = load_preset("perceptron")
    project.training.epochs = 1
    data = prepare_data(project.data)
    value = project.model.init_params["value"]
    w, b, lr = [value, value], 0.0, project.optimizer.params["lr"]
    updates = 0
    for (x1, x2), label in zip(data.x_train.tolist(), data.y_train.tolist(), strict=True):
        y = 1.0 if data.class_names[label] == "1" else -1.0  # class "-1" is index 0, "1" is index 1
        if y * (w[0] * x1 + w[1] * x2 + b) <= 0:  # Rosenblatt: update on a mistake
            w, b = [w[0] + lr * y * x1, w[1] + lr * y * x2], b + lr * y
            updates += 1
    trainer = Trainer(project, data=data)
    trainer.fit()
    assert updates >= 2  # the table is chosen so the first pass has something to check
    torch.testing.assert_close(trainer.model[0].weight.detach(), torch.tensor([w]))
    torch.testing.assert_close(trainer.model[0].bias.detach(), torch.tensor([b]))
