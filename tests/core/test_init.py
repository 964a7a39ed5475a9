"""Weight initialisation: every scheme has the statistics it promises, and a seed fixes the weights."""

from __future__ import annotations

import math

import pytest
import torch

from studio.core.build import build_model
from studio.core.errors import ConfigError
from studio.core.init import BIAS_INITS, INITS, apply_init
from studio.core.layers import LayerSettingError
from studio.core.project import LayerSpec, ModelSpec

FAN_IN, FAN_OUT = 400, 300  # 120k weights: std estimates within ~1%


def _linear(init: str, bias_init: str = "zeros", **init_params: object) -> torch.nn.Linear:
    spec = ModelSpec([LayerSpec("Linear", {"out_features": FAN_OUT})], init=init, init_params=dict(init_params),
                     bias_init=bias_init)
    return build_model(spec, (FAN_IN,), seed=3)[0]


def test_registries_list_the_promised_schemes() -> None:
    assert INITS.names() == ["default", "zeros", "constant", "small_random", "normal", "xavier_uniform",
                             "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal"]
    assert BIAS_INITS.names() == ["zeros", "default", "constant"]
    assert [p.name for p in INITS.get("constant").params] == ["value"]
    assert "nonlinearity" in [p.name for p in INITS.get("kaiming_normal").params]


@pytest.mark.parametrize("init, params, std", [
    ("small_random", {}, 0.01),
    ("normal", {}, 1.0),
    ("xavier_uniform", {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("xavier_normal", {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("xavier_normal", {"gain": 2.0}, 2 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("kaiming_uniform", {}, math.sqrt(2 / FAN_IN)),
    ("kaiming_normal", {}, math.sqrt(2 / FAN_IN)),
    ("kaiming_normal", {"mode": "fan_out"}, math.sqrt(2 / FAN_OUT)),
    ("kaiming_normal", {"nonlinearity": "tanh"}, 5 / 3 / math.sqrt(FAN_IN)),
    ("default", {}, 1 / math.sqrt(3 * FAN_IN)),  # uniform in ±1/√fan_in
])
def test_weight_scheme_std(init: str, params: dict, std: float) -> None:
    weight = _linear(init, **params).weight
    assert weight.mean().abs() < 0.05 * std
    assert weight.std().item() == pytest.approx(std, rel=0.03)


def test_zeros_constant_and_orthogonal() -> None:
    assert torch.count_nonzero(_linear("zeros").weight) == 0
    assert torch.all(_linear("constant", value=0.25).weight == 0.25)
    weight = _linear("orthogonal").weight  # 300×400: the rows are orthonormal
    assert torch.allclose(weight @ weight.T, torch.eye(FAN_OUT), atol=1e-4)


def test_kaiming_applies_to_convolutions_with_their_fan_in() -> None:
    spec = ModelSpec([LayerSpec("Conv2d", {"out_channels": 64, "kernel_size": 3})], init="kaiming_normal")
    weight = build_model(spec, (16, 8, 8), seed=0)[0].weight
    assert weight.std().item() == pytest.approx(math.sqrt(2 / (16 * 9)), rel=0.03)


def test_bias_schemes() -> None:
    assert torch.count_nonzero(_linear("kaiming_normal").bias) == 0  # zeros is the default
    assert torch.all(_linear("default", bias_init="constant").bias == 0.01)
    bias = _linear("default", bias_init="default").bias
    bound = 1 / math.sqrt(FAN_IN)
    assert bias.abs().max() <= bound and bias.std() > bound / 3


def test_normalisation_layers_keep_their_start_values() -> None:
    spec = ModelSpec([LayerSpec("Linear", {"out_features": 4}), LayerSpec("BatchNorm1d"), LayerSpec("LayerNorm")],
                     init="zeros")
    model = build_model(spec, (3,), seed=0)
    for index in (1, 2):
        assert torch.all(model[index].weight == 1) and torch.all(model[index].bias == 0)


def test_same_seed_same_weights_other_seed_other_weights() -> None:
    spec = ModelSpec([LayerSpec("Conv2d"), LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 5})],
                     init="xavier_uniform", bias_init="default")
    first, again, other = (build_model(spec, (1, 6, 6), seed) for seed in (7, 7, 8))
    for key, value in first.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])
        assert not torch.equal(value, other.state_dict()[key])


def test_building_leaves_the_global_random_stream_alone() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    build_model(ModelSpec([LayerSpec("Linear", {"out_features": 50})]), (50,), seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_per_layer_override_changes_only_that_layer() -> None:
    layers = [LayerSpec("Linear", {"out_features": 40}), LayerSpec("Linear", {"out_features": 40})]
    base = build_model(ModelSpec(layers), (40,), seed=0)
    layers[0] = LayerSpec("Linear", {"out_features": 40}, init="zeros")
    changed = build_model(ModelSpec(layers), (40,), seed=0)
    assert torch.count_nonzero(changed[0].weight) == 0
    assert torch.equal(changed[1].weight, base[1].weight)


def test_override_shares_the_network_parameters_its_scheme_knows() -> None:
    layers = [LayerSpec("Linear", {"out_features": FAN_OUT}, init="kaiming_uniform")]
    spec = ModelSpec(layers, init="kaiming_normal", init_params={"nonlinearity": "tanh"})
    weight = build_model(spec, (FAN_IN,), seed=0)[0].weight
    assert weight.std().item() == pytest.approx(5 / 3 / math.sqrt(FAN_IN), rel=0.03)
    assert weight.abs().max() <= 5 / 3 * math.sqrt(3 / FAN_IN)  # uniform: the override's own scheme


@pytest.mark.parametrize("spec, field", [
    (ModelSpec([LayerSpec("Linear")], init="magic"), "init"),
    (ModelSpec([LayerSpec("Linear")], bias_init="magic"), "bias_init"),
    (ModelSpec([LayerSpec("Linear")], init="constant", init_params={"value": "big"}), "init_params.value"),
    (ModelSpec([LayerSpec("Linear")], init="kaiming_normal", init_params={"value": 1}), "init_params.value"),
    (ModelSpec([LayerSpec("Linear")], init_params=[1]), "init_params"),  # type: ignore[arg-type]
])
def test_bad_init_settings_are_config_errors(spec: ModelSpec, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        apply_init(torch.nn.Sequential(torch.nn.Linear(4, 64)), spec, torch.Generator())
    assert info.value.field == field


def test_bad_layer_init_names_the_row() -> None:
    spec = ModelSpec([LayerSpec("ReLU"), LayerSpec("Linear", init="magic")])
    with pytest.raises(LayerSettingError) as info:
        build_model(spec, (4,), seed=0)
    assert info.value.index == 1 and info.value.field == "layers[1].init"
