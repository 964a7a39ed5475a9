"""Optimizer registry: real torch defaults, every optimizer learns, weight decay, per-layer groups, errors."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

from studio.core.errors import ConfigError
from studio.core.optim import (
    OPTIMIZERS,
    build_model_optimizer,
    build_optimizer,
    current_lr,
    optimizer_lr,
    param_groups,
)
from studio.core.project import Choice, LayerSpec

TORCH_CLASSES = {
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adagrad": torch.optim.Adagrad,
    "adadelta": torch.optim.Adadelta,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
}
# Defaults deliberately different from PyTorch's; each must explain itself in its help text.
FRIENDLY_DEFAULTS = {("sgd", "lr")}


def _torch_default(cls: type, name: str) -> object:
    signature = inspect.signature(cls)
    if name in ("beta1", "beta2"):
        return signature.parameters["betas"].default[int(name[-1]) - 1]
    return signature.parameters[name].default


def test_registry_names_in_order() -> None:
    assert OPTIMIZERS.names() == list(TORCH_CLASSES)


@pytest.mark.parametrize("name", TORCH_CLASSES)
def test_defaults_match_torch_signature(name: str) -> None:
    for param in OPTIMIZERS.get(name).params:
        expected = _torch_default(TORCH_CLASSES[name], param.name)
        if (name, param.name) in FRIENDLY_DEFAULTS:
            assert param.default != expected
            assert "PyTorch" in param.help
        else:
            assert param.default == expected, f"{name}.{param.name}"


@pytest.mark.parametrize("name", TORCH_CLASSES)
def test_every_optimizer_has_log_lr_and_weight_decay(name: str) -> None:
    params = {p.name: p for p in OPTIMIZERS.get(name).params}
    lr = params["lr"]
    assert lr.log and 0 < lr.min < lr.default < lr.max
    assert params["weight_decay"].min == 0


def _quadratic(w: torch.Tensor) -> torch.Tensor:
    return (w[0] ** 2 + 3 * w[1] ** 2).sum()


@pytest.mark.parametrize("name", TORCH_CLASSES)
def test_defaults_build_the_torch_class_and_decrease_a_quadratic(name: str) -> None:
    w = nn.Parameter(torch.tensor([1.0, -2.0]))
    optimizer = build_optimizer(Choice(name), [w])
    assert type(optimizer) is TORCH_CLASSES[name] is OPTIMIZERS.get(name).torch_class
    start = _quadratic(w)
    start.backward()
    optimizer.step()
    assert _quadratic(w).item() < start.item()


def _norm_after_zero_gradient_steps(name: str, weight_decay: float) -> float:
    """Steps on a loss whose gradient is zero: only weight decay can move the weights."""
    w = nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    optimizer = build_optimizer(Choice(name, {"weight_decay": weight_decay}), [w])
    for _ in range(3):
        optimizer.zero_grad()
        (w * 0).sum().backward()
        optimizer.step()
    return w.norm().item()


@pytest.mark.parametrize("name", TORCH_CLASSES)
def test_weight_decay_shrinks_weights(name: str) -> None:
    start = torch.tensor([1.0, -2.0, 0.5]).norm().item()
    assert _norm_after_zero_gradient_steps(name, 0.0) == pytest.approx(start)
    assert _norm_after_zero_gradient_steps(name, 0.1) < start - 1e-6


def test_sgd_momentum_accumulates_velocity() -> None:
    w = nn.Parameter(torch.tensor([0.0]))
    optimizer = build_optimizer(Choice("sgd", {"lr": 1.0, "momentum": 0.5}), [w])
    for _ in range(2):
        optimizer.zero_grad()
        (-w).sum().backward()  # gradient -1 every step
        optimizer.step()
    assert w.item() == pytest.approx(1.0 + 1.5)  # velocity 1, then 0.5·1 + 1


def _model_and_layers() -> tuple[nn.Sequential, list[LayerSpec]]:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Linear(3, 1))
    layers = [
        LayerSpec("Linear", {"out_features": 3}),
        LayerSpec("ReLU"),
        LayerSpec("Linear", {"out_features": 3}, frozen=True),
        LayerSpec("Linear", {"out_features": 1}, lr_mult=0.1),
    ]
    return model, layers


def test_param_groups_one_per_trainable_layer_with_lr_multiplier() -> None:
    model, layers = _model_and_layers()
    groups = param_groups(model, layers, base_lr=0.5)
    assert [g["layer"] for g in groups] == [0, 3]
    assert [g["lr"] for g in groups] == pytest.approx([0.5, 0.05])
    assert groups[1]["params"] == list(model[3].parameters())


def test_frozen_layer_is_not_updated() -> None:
    model, layers = _model_and_layers()
    optimizer = build_model_optimizer(Choice("sgd", {"lr": 0.5}), model, layers)
    frozen_before = model[2].weight.detach().clone()
    first_before = model[0].weight.detach().clone()
    model(torch.randn(4, 2)).pow(2).sum().backward()
    optimizer.step()
    assert torch.equal(model[2].weight, frozen_before)
    assert not torch.equal(model[0].weight, first_before)
    assert current_lr(optimizer) == 0.5
    assert optimizer.param_groups[1]["lr"] == pytest.approx(0.05)


def test_param_groups_errors_name_the_field() -> None:
    model, layers = _model_and_layers()
    layers[3].lr_mult = -1.0
    with pytest.raises(ConfigError) as err:
        param_groups(model, layers, 0.1)
    assert err.value.field == "layers[3].lr_mult"
    layers[3].lr_mult = 1.0
    for layer in layers:
        layer.frozen = True
    with pytest.raises(ConfigError, match="frozen"):
        param_groups(model, layers, 0.1)


@pytest.mark.parametrize(
    ("choice", "field"),
    [
        (Choice("adam", {"lr": -1}), "lr"),
        (Choice("adam", {"lr": "fast"}), "lr"),
        (Choice("adam", {"beta1": 1.5}), "beta1"),
        (Choice("rmsprop", {"centered": "maybe"}), "centered"),
        (Choice("sgd", {"momentun": 0.9}), "momentun"),
        (Choice("sgd", {"nesterov": True}), "nesterov"),
        (Choice("sgd", {"weight_decay": -0.1}), "weight_decay"),
        (Choice("adamm"), "optimizer"),
    ],
)
def test_bad_settings_raise_config_error_naming_the_field(choice: Choice, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_optimizer(choice, [nn.Parameter(torch.zeros(1))])
    assert err.value.field == field


def test_optimizer_lr_is_the_validated_rate_or_default() -> None:
    assert optimizer_lr(Choice("adadelta")) == 1.0
    assert optimizer_lr(Choice("adam", {"lr": "0.02"})) == 0.02
    with pytest.raises(ConfigError):
        optimizer_lr(Choice("adam", {"lr": 0}))


def test_nesterov_with_momentum_builds() -> None:
    optimizer = build_optimizer(Choice("sgd", {"momentum": 0.9, "nesterov": True}), [nn.Parameter(torch.zeros(1))])
    assert optimizer.defaults["nesterov"] is True
