"""Loss registry: values equal torch's references, target conversion, outputs/predict per task, perceptron rule."""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.core.build import build_model
from studio.core.errors import ConfigError
from studio.core.optim import LOSSES, build_loss, build_optimizer, predict_classes
from studio.core.project import Choice, LayerSpec, ModelSpec

OUT3 = torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.3, -0.2], [-1.0, 0.0, 1.5], [0.4, 0.4, 0.1]])
Y3 = torch.tensor([0, 2, 2, 1])
OUT1 = torch.tensor([[1.5], [-0.5], [0.2], [-2.0]])
Y2 = torch.tensor([1, 1, 0, 0])
OUT_REG = torch.tensor([[0.5, 2.0], [1.0, -1.0], [3.0, 0.0]])
Y_REG = torch.tensor([[0.0, 2.5], [1.0, 1.0], [-1.0, 0.2]])


def _loss(name: str, task: str = "classification", num_classes: int | None = 3, **params: object):
    return build_loss(Choice(name, dict(params)), task, num_classes)


def test_registry_names_in_order() -> None:
    assert LOSSES.names() == ["cross_entropy", "mse", "l1", "huber", "bce_with_logits", "multi_margin", "perceptron"]


@pytest.mark.parametrize(
    ("name", "cls"),
    [("cross_entropy", nn.CrossEntropyLoss), ("huber", nn.HuberLoss), ("multi_margin", nn.MultiMarginLoss)],
)
def test_defaults_match_torch_signature(name: str, cls: type) -> None:
    signature = inspect.signature(cls)
    for param in LOSSES.get(name).params:
        assert param.default == signature.parameters[param.name].default


@pytest.mark.parametrize(
    ("loss", "reference"),
    [
        (_loss("cross_entropy"), F.cross_entropy(OUT3, Y3)),
        (_loss("cross_entropy", label_smoothing=0.1), F.cross_entropy(OUT3, Y3, label_smoothing=0.1)),
        (_loss("mse"), F.mse_loss(OUT3, F.one_hot(Y3, 3).float())),
        (_loss("l1"), F.l1_loss(OUT3, F.one_hot(Y3, 3).float())),
        (_loss("huber", delta=0.5), F.huber_loss(OUT3, F.one_hot(Y3, 3).float(), delta=0.5)),
        (_loss("bce_with_logits"), F.binary_cross_entropy_with_logits(OUT3, F.one_hot(Y3, 3).float())),
        (_loss("multi_margin"), F.multi_margin_loss(OUT3, Y3)),
        (_loss("multi_margin", p=2, margin=0.5), F.multi_margin_loss(OUT3, Y3, p=2, margin=0.5)),
        (_loss("perceptron"), (OUT3.max(dim=1).values - OUT3.gather(1, Y3[:, None])[:, 0]).mean()),
    ],
)
def test_classification_losses_equal_torch_reference(loss, reference: torch.Tensor) -> None:
    assert loss(OUT3, Y3).item() == pytest.approx(reference.item(), rel=1e-6)


def test_binary_single_output_losses() -> None:
    bce = _loss("bce_with_logits", num_classes=2)
    assert bce(OUT1, Y2).item() == pytest.approx(F.binary_cross_entropy_with_logits(OUT1[:, 0], Y2.float()).item())
    perceptron = _loss("perceptron", num_classes=2)
    signs = Y2.float() * 2 - 1
    assert perceptron(OUT1, Y2).item() == pytest.approx(torch.relu(-signs * OUT1[:, 0]).mean().item())
    assert perceptron(OUT1, Y2).item() > 0  # sample 3 (0.2, class 0) is on the wrong side


@pytest.mark.parametrize(
    ("name", "reference"),
    [("mse", F.mse_loss(OUT_REG, Y_REG)), ("l1", F.l1_loss(OUT_REG, Y_REG)), ("huber", F.huber_loss(OUT_REG, Y_REG))],
)
def test_regression_losses_equal_torch_reference(name: str, reference: torch.Tensor) -> None:
    assert _loss(name, "regression", None)(OUT_REG, Y_REG).item() == pytest.approx(reference.item())


def test_one_dimensional_regression_target_does_not_broadcast() -> None:
    output, y = torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([1.0, 1.0, 1.0])
    assert _loss("mse", "regression", None)(output, y).item() == pytest.approx((0 + 1 + 9) / 3)


@pytest.mark.parametrize(
    ("name", "outputs"),
    [
        ("cross_entropy", {2: 2, 10: 10}),
        ("mse", {2: 2, 10: 10}),
        ("bce_with_logits", {2: 1, 10: 10}),
        ("multi_margin", {2: 2, 10: 10}),
        ("perceptron", {2: 1, 10: 10}),
    ],
)
def test_outputs_for_classification(name: str, outputs: dict[int, int]) -> None:
    kind = LOSSES.get(name)
    for num_classes, expected in outputs.items():
        assert kind.outputs("classification", num_classes, None) == expected


@pytest.mark.parametrize("name", ["mse", "l1", "huber"])
def test_outputs_for_regression_is_target_dim(name: str) -> None:
    assert LOSSES.get(name).outputs("regression", None, 3) == 3


def test_predict_argmax_or_sign() -> None:
    assert predict_classes(OUT3).tolist() == [0, 1, 2, 0]
    assert predict_classes(OUT1).tolist() == [1, 0, 1, 0]
    assert _loss("perceptron", num_classes=2).predict(OUT1).tolist() == [1, 0, 1, 0]


@pytest.mark.parametrize("name", ["cross_entropy", "bce_with_logits", "multi_margin", "perceptron"])
def test_classification_loss_on_regression_is_a_helpful_config_error(name: str) -> None:
    with pytest.raises(ConfigError, match="mse") as err:
        _loss(name, "regression", None)
    assert err.value.field == "loss"


def test_wrong_number_of_outputs_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs 3") as err:
        _loss("cross_entropy")(OUT1, Y3)
    assert err.value.field == "loss"
    with pytest.raises(ConfigError, match="needs 2"):
        _loss("mse", "regression", None)(OUT3[:3], Y_REG)


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("cross_entropy", {"label_smoothing": 2.0}, "label_smoothing"),
        ("multi_margin", {"p": 3}, "p"),
        ("huber", {"delta": 0}, "delta"),
        ("mse", {"delta": 1.0}, "delta"),
        ("hinge", {}, "loss"),
    ],
)
def test_bad_settings_name_the_field(name: str, params: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_loss(Choice(name, params), "classification", 3)
    assert err.value.field == field


@pytest.mark.parametrize(("label", "sign"), [(1, 1.0), (0, -1.0)])
def test_perceptron_sgd_step_is_rosenblatts_rule(label: int, sign: float) -> None:
    layer = nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.5, -0.25]]) * -sign)  # wrong side of x
        layer.bias.fill_(0.1 * -sign)
    x = torch.tensor([[2.0, -1.0]])
    w0, b0 = layer.weight.detach().clone(), layer.bias.detach().clone()
    loss_fn = _loss("perceptron", num_classes=2)
    optimizer = build_optimizer(Choice("sgd", {"lr": 1.0}), layer.parameters())
    loss_fn(layer(x), torch.tensor([label])).backward()
    optimizer.step()
    assert torch.allclose(layer.weight, w0 + sign * x)
    assert torch.allclose(layer.bias, b0 + sign)


@pytest.mark.parametrize(("zero", "label", "moves"), [
    (1, 0, True), (1, 1, False),  # sgn(0) = +1: the boundary is class +1, a mistake only for y = -1
    (-1, 0, False), (-1, 1, True),
    (0, 0, True), (0, 1, True),  # sgn(0) = 0 is neither class: a mistake either way (y·f(x) <= 0)
])
def test_a_point_on_the_boundary_is_a_mistake_when_the_sign_convention_says_so(zero: int, label: int,
                                                                                moves: bool) -> None:
    spec = ModelSpec([LayerSpec("Linear", {"out_features": 1}, init="values",
                                init_params={"weight": [[0.0, 0.0]], "bias": [0.0]}),
                      LayerSpec("Sign", {"zero": zero})])
    model = build_model(spec, (2,), seed=0)
    _loss("perceptron", num_classes=2)(model(torch.tensor([[2.0, -1.0]])), torch.tensor([label])).backward()
    assert bool(model[0].weight.grad.abs().sum() > 0) == moves
    if moves:
        sign = 1.0 if label == 1 else -1.0
        assert model[0].weight.grad.tolist() == [[-2.0 * sign, 1.0 * sign]]  # SGD with lr 1: w += y·x


def test_perceptron_ignores_correct_samples_and_multiclass_rule() -> None:
    layer = nn.Linear(2, 3, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
    x = torch.tensor([[2.0, 1.0]])  # scores 2, 1, -3: class 0 wins
    loss_fn = _loss("perceptron")
    assert loss_fn(layer(x), torch.tensor([0])).item() == 0
    w0 = layer.weight.detach().clone()
    optimizer = build_optimizer(Choice("sgd", {"lr": 1.0}), layer.parameters())
    loss_fn(layer(x), torch.tensor([1])).backward()
    optimizer.step()
    assert torch.allclose(layer.weight, w0 + torch.stack([-x[0], x[0], torch.zeros(2)]))
