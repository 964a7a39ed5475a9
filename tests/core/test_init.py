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
from studio.core.shapes import check_model

FAN_IN, FAN_OUT = 400, 300  # 120k weights: std estimates within ~1%


def _linear(init: str, bias_init: str = "zeros", **init_params: object) -> torch.nn.Linear:
    spec = ModelSpec([LayerSpec("Linear", {"out_features": FAN_OUT})], init=init, init_params=dict(init_params),
                     bias_init=bias_init)
    return build_model(spec, (FAN_IN,), seed=3)[0]


def test_registries_list_the_promised_schemes() -> None:
    assert INITS.names() == ["default", "zeros", "constant", "small_random", "normal", "xavier_uniform",
                             "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "values"]
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
    (ModelSpec([LayerSpec("Linear")], bias_init="constant", bias_init_params={"value": "x"}),
     "bias_init_params.value"),
    (ModelSpec([LayerSpec("Linear")], bias_init="zeros", bias_init_params={"value": 1}), "bias_init_params.value"),
    (ModelSpec([LayerSpec("Linear")], init="values"), "init"),
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


def _typed(weight: object, bias: object = None, out: int = 2, **extra: object) -> ModelSpec:
    params = {"weight": weight} if bias is None else {"weight": weight, "bias": bias}
    layer = LayerSpec("Linear", {"out_features": out}, init="values", init_params=params)
    return ModelSpec([layer, LayerSpec("ReLU")], init="normal", **extra)  # type: ignore[arg-type]


def test_typed_values_start_one_layer_exactly() -> None:
    model = build_model(_typed([[1, -2, 0.5], [0, 3, -1]], [0.25, -4]), (3,), seed=0)
    assert model[0].weight.tolist() == [[1, -2, 0.5], [0, 3, -1]]
    assert model[0].bias.tolist() == [0.25, -4]


def test_typed_weight_without_bias_takes_the_network_bias_init_with_its_own_value() -> None:
    spec = _typed([[0, 0, 0], [0, 0, 0]], bias_init="constant", bias_init_params={"value": -0.5})
    assert build_model(spec, (3,), seed=0)[0].bias.tolist() == [-0.5, -0.5]
    assert torch.all(_linear("default", bias_init="constant").bias == 0.01)  # the constant's default value


@pytest.mark.parametrize("weight, bias, field, words", [
    ([[1, 2], [3, 4]], None, "layers[0].init_params.weight", "the typed weight has shape 2×2, but this layer's "
     "weight is 2×3 (outputs × inputs)"),
    ([[1, 2, 3], [4, 5, 6]], [1, 2, 3], "layers[0].init_params.bias", "the typed bias has shape 3, but this "
     "layer's bias is 2"),
    ([[1, 2, 3], [4, 5]], None, "layers[0].init_params.weight", "equal-length lists"),
    ([[1, 2, "x"], [4, 5, 6]], None, "layers[0].init_params.weight", "a list of numbers"),
])
def test_typed_values_of_the_wrong_shape_name_the_layer_and_the_shape(weight: object, bias: object, field: str,
                                                                       words: str) -> None:
    spec = _typed(weight, bias)
    with pytest.raises(LayerSettingError) as info:
        build_model(spec, (3,), seed=0)
    assert info.value.index == 0 and info.value.field == field
    assert str(info.value).startswith("Layer 1 (Linear)") and words in str(info.value)
    report = check_model(spec, (3,), 2)  # the editor's check says the same before anything is built
    assert report.error is not None and str(report.error) == str(info.value) and report.error.index == 0


def test_typed_values_on_a_layer_without_weights_or_bias_are_refused() -> None:
    relu = ModelSpec([LayerSpec("Linear", {"out_features": 2}), LayerSpec("ReLU", init="values",
                                                                           init_params={"weight": [[1]]})])
    with pytest.raises(LayerSettingError, match="Layer 2 \\(ReLU\\) has no weights"):
        build_model(relu, (3,), seed=0)
    no_bias = ModelSpec([LayerSpec("Linear", {"out_features": 1, "bias": False}, init="values",
                                   init_params={"weight": [[1, 2, 3]], "bias": [1]})])
    with pytest.raises(LayerSettingError, match="has no bias"):
        build_model(no_bias, (3,), seed=0)


def test_typed_values_fill_a_convolution() -> None:
    kernel = [[[[0, 1], [2, 3]]]]
    spec = ModelSpec([LayerSpec("Conv2d", {"out_channels": 1, "kernel_size": 2}, init="values",
                                init_params={"weight": kernel, "bias": [0]})])
    assert build_model(spec, (1, 4, 4), seed=0)[0].weight.tolist() == kernel


def test_layer_init_params_are_the_layers_own() -> None:
    layers = [LayerSpec("Linear", {"out_features": 3}, init="constant", init_params={"value": 0.7}),
              LayerSpec("Linear", {"out_features": 3})]
    model = build_model(ModelSpec(layers, init="constant", init_params={"value": -0.2}), (3,), seed=0)
    assert torch.all(model[0].weight == 0.7) and torch.all(model[1].weight == -0.2)
    layers[0].init = None  # the network's scheme, with the row's own value
    assert torch.all(build_model(ModelSpec(layers, init="constant"), (3,), seed=0)[0].weight == 0.7)


def test_unknown_layer_init_params_name_the_row_and_field() -> None:
    spec = ModelSpec([LayerSpec("Linear", init="zeros", init_params={"value": 1})])
    with pytest.raises(LayerSettingError) as info:
        build_model(spec, (3,), seed=0)
    assert info.value.field == "layers[0].init_params.value"
