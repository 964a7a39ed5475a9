"""Every shipped preset loads, passes the shape check, trains a short tiny epoch; digits-mlp reaches 95%;
the perceptron's first epoch equals the hand calculation."""

from __future__ import annotations

import pytest

import studio.core.lab  # noqa: F401  (registers the lab's typed-in table dataset)
from studio.core.callbacks import Callback
from studio.core.data import describe
from studio.core.engine import Trainer
from studio.core.lab.lessons import LESSONS
from studio.core.optim import LOSSES
from studio.core.presets import DEFAULT_PRESET, load_preset, preset_names
from studio.core.shapes import check_model

# Presets whose data must be downloaded are checked without training.
NEEDS_FILES: set[str] = {"resnet20-cifar10"}


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


class _EpochWeights(Callback):
    """The Linear unit's (w1, w2, b) after every epoch."""

    def __init__(self) -> None:
        self.after: list[tuple[float, float, float]] = []

    def on_epoch_end(self, trainer: Trainer, event: object) -> None:
        (w1, w2), (b,) = trainer.model[0].weight[0].tolist(), trainer.model[0].bias.tolist()
        self.after.append((w1, w2, b))


# The OR gate with targets ±1, from w = (0, 0), b = 0, sgn(0) = +1, lr 1, rows in the order typed.
# Worked by hand (docs/lab/perceptron.md); "mistake" means sgn(w·x + b) differs from y, then w += y·x, b += y.
#   epoch 1: (0,0) -1: sgn(0) = +1, mistake -> b = -1;  (0,1) +1: -1, mistake -> w = (0,1), b = 0;
#            (1,0) +1: sgn(0) = +1, right;  (1,1) +1: 1, right                       => (0, 1), 0
#   epoch 2: (0,0): sgn(0), mistake -> b = -1;  (0,1): sgn(0), right;  (1,0): -1, mistake -> w = (1,1), b = 0;
#            (1,1): 2, right                                                          => (1, 1), 0
#   epoch 3: (0,0): sgn(0), mistake -> b = -1;  (0,1), (1,0): sgn(0), right;  (1,1): 1, right  => (1, 1), -1
#   epoch 4: (0,0): -1, right; the rest right: no mistake, the weights stay            => (1, 1), -1
TEXTBOOK_OR = [(0.0, 1.0, 0.0), (1.0, 1.0, 0.0), (1.0, 1.0, -1.0), (1.0, 1.0, -1.0)]


def test_perceptron_lesson_learns_or_from_zero_weights_exactly_as_by_hand() -> None:
    project = load_preset("perceptron")
    assert project.model.layers[0].init_params == {"weight": [[0.0, 0.0]], "bias": [0.0]}
    assert project.training.shuffle is False and project.data.val_fraction == 0
    weights = _EpochWeights()
    result = Trainer(project, callbacks=[weights]).fit()
    assert weights.after == TEXTBOOK_OR
    assert result.history[-1].train_loss == 0 and result.history[-1].train_acc == 1.0


def test_with_sgn0_equal_to_0_the_boundary_is_a_mistake_for_both_classes() -> None:
    project = load_preset("perceptron")
    project.model.layers[1].params["zero"] = 0
    project.training.epochs = 1
    weights = _EpochWeights()
    Trainer(project, callbacks=[weights]).fit()
    # (0,0) -1: 0, mistake -> b = -1;  (0,1) +1: -1, mistake -> w = (0,1), b = 0;
    # (1,0) +1: 0 is not +1, mistake -> w = (1,1), b = 1;  (1,1) +1: 3, right
    assert weights.after == [(1.0, 1.0, 1.0)]
