"""The layer registry: completeness, JSON round-trip of every type, parameter validation, Sign's gradient."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from torch import nn

from studio.core.build import build_model, describe_layer, layer_label
from studio.core.errors import ConfigError, ShapeError
from studio.core.layers import GROUPS, LAYERS, LayerSettingError, LayerType, Sign, resolve_layer
from studio.core.params import Param
from studio.core.project import LayerSpec, ModelSpec, Project

REQUIRED = (
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "BatchNorm1d", "BatchNorm2d",
    "LayerNorm", "Dropout", "Dropout2d", "ReLU", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Tanh", "Sigmoid",
    "Softplus", "Identity", "Sign",
)
INPUT = {"flat": (8,), "image": (3, 8, 8), "any": (3, 8, 8)}


def _other_value(param: Param) -> Any:
    """A valid value different from the default, to prove non-default settings survive JSON."""
    if param.kind == "bool":
        return not param.default
    if param.kind == "choice":
        return next(c for c in param.choices if c != param.default)
    if param.kind == "str":  # free text has no generic other valid value (a backbone's weights name or file)
        return param.default
    if param.default is None:
        return param.min
    if param.kind == "int":
        return param.default + 1 if param.max is None or param.default + 1 <= param.max else param.default - 1
    return (param.default + param.max) / 2 if param.max is not None else param.default * 2


def _structure(model: nn.Module) -> tuple[str, dict[str, tuple[int, ...]]]:
    return repr(model), {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_registry_has_every_required_type_in_a_known_group() -> None:
    assert set(REQUIRED) <= set(LAYERS.names())
    for name, layer_type in LAYERS.items():
        assert layer_type.name == name
        assert layer_type.group in GROUPS
        assert layer_type.description and "\n" not in layer_type.description
        assert all(p.help for p in layer_type.params)
    assert LAYERS.get("Linear").key_params == ("out_features",)
    assert LAYERS.get("Conv2d").key_params == ("out_channels", "kernel_size")


def test_input_sizes_are_never_parameters() -> None:
    inferred = {"in_features", "in_channels", "num_features", "normalized_shape"}
    for _, layer_type in LAYERS.items():
        assert not inferred & {p.name for p in layer_type.params}


@pytest.mark.parametrize("name", LAYERS.names())
@pytest.mark.parametrize("non_default", [False, True])
def test_every_type_round_trips_through_project_json(name: str, non_default: bool) -> None:
    layer_type = LAYERS.get(name)
    params = {p.name: _other_value(p) for p in layer_type.params} if non_default else {}
    # A block needs rows; one that keeps the shape fits every kind of block and join.
    rows = [LayerSpec("Conv2d", {"out_channels": 3, "padding": 1})] if layer_type.block is not None else []
    spec = LayerSpec(name, params, layers=rows)
    project = Project(model=ModelSpec([spec]))
    loaded = Project.from_dict(json.loads(project.to_json()))
    assert loaded.model.layers == [spec]
    shape = INPUT[layer_type.expects]
    original = build_model(project.model, shape, seed=0)
    again = build_model(loaded.model, shape, seed=0)
    assert _structure(original) == _structure(again)
    for key, value in original.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])


def test_non_default_values_reach_the_module() -> None:
    conv = build_model(ModelSpec([LayerSpec("Conv2d", {"out_channels": 5, "kernel_size": 3, "stride": 2,
                                                       "padding": 1, "bias": False})]), (3, 8, 8), 0)[0]
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.bias) == (
        3, 5, (3, 3), (2, 2), (1, 1), None)
    assert build_model(ModelSpec([LayerSpec("LeakyReLU", {"negative_slope": 0.2})]), (4,), 0)[0].negative_slope == 0.2


def test_bad_values_name_the_row_and_field() -> None:
    with pytest.raises(LayerSettingError) as info:
        resolve_layer(LayerSpec("Conv2d", {"kernel_size": 0}), 2)
    assert str(info.value).startswith("Layer 3 (Conv2d): kernel size must be at least 1")
    assert info.value.field == "layers[2].kernel_size"
    assert (info.value.index, info.value.layer_type) == (2, "Conv2d")
    assert isinstance(info.value, ShapeError) and isinstance(info.value, ConfigError)


@pytest.mark.parametrize("spec, words", [
    (LayerSpec("Linear", {"out_features": "many"}), "must be a whole number"),
    (LayerSpec("Linear", {"units": 3}), "unknown setting 'units'"),
    (LayerSpec("Dense"), "unknown layer type 'Dense'"),
    (LayerSpec("Linear", [1, 2]), "must be a JSON object"),  # type: ignore[arg-type]
    (LayerSpec(["Linear"]), "unknown layer type"),  # type: ignore[arg-type]
])
def test_malformed_rows_are_user_errors(spec: LayerSpec, words: str) -> None:
    with pytest.raises(LayerSettingError, match=words):
        resolve_layer(spec, 0)


def test_layer_type_rejects_unknown_group_and_key_params() -> None:
    with pytest.raises(ValueError, match="group"):
        LayerType("X", "misc", "x", (), lambda p, s: nn.Identity())
    with pytest.raises(ValueError, match="key parameter"):
        LayerType("X", "core", "x", (), lambda p, s: nn.Identity(), key_params=("size",))


def test_labels_and_descriptions() -> None:
    assert layer_label(LayerSpec("Linear", {"out_features": 128}), 1) == "2 Linear 128"
    assert layer_label(LayerSpec("Conv2d", {"out_channels": 16, "kernel_size": 3}), 3) == "4 Conv2d 16@3×3"
    assert layer_label(LayerSpec("ReLU"), 0) == "1 ReLU"
    assert describe_layer(LayerSpec("Conv2d", {"out_channels": 8, "kernel_size": 5, "stride": 2})) == "8@5×5 /2"
    assert describe_layer(LayerSpec("MaxPool2d")) == "2×2"
    assert describe_layer(LayerSpec("Dropout", {"p": 0.25})) == "0.25"
    # Display must not fail while the user is typing a bad value.
    assert describe_layer(LayerSpec("Linear", {"out_features": -3})) == "-3"
    assert describe_layer(LayerSpec("Nope")) == ""


@pytest.mark.parametrize("zero", [1, 0, -1])
def test_sign_gives_its_zero_setting_at_exactly_zero(zero: int) -> None:
    spec = ModelSpec([LayerSpec("Sign", {"zero": zero})] if zero != 1 else [LayerSpec("Sign")])
    model = build_model(spec, (5,), seed=0)
    assert model(torch.tensor([[-2.0, -1e-30, 0.0, 1e-30, 5.0]])).tolist() == [[-1.0, -1.0, zero, 1.0, 1.0]]


def test_sign_zero_is_one_of_three_values() -> None:
    with pytest.raises(ConfigError, match="at most 1"):
        resolve_layer(LayerSpec("Sign", {"zero": 2}), 0)


def test_sign_forward_and_straight_through_gradient() -> None:
    x = torch.tensor([-2.0, -0.1, 0.0, 0.3, 5.0], requires_grad=True)
    y = Sign()(x)
    assert y.tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]  # the textbook's sgn(0) = +1 by default
    (y * torch.arange(5.0)).sum().backward()
    # Straight-through: the upstream gradient reaches x unchanged (torch.sign alone would give zeros).
    assert x.grad.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_perceptron_weights_get_gradients_through_sign() -> None:
    model = build_model(ModelSpec([LayerSpec("Linear", {"out_features": 1}), LayerSpec("Sign")]), (2,), seed=0)
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
    (-model(x).squeeze(1) * torch.tensor([1.0, -1.0])).sum().backward()
    assert torch.allclose(model[0].weight.grad, torch.tensor([[2.0, -3.0]]))


def test_roles_tell_the_lab_what_a_layer_is_for() -> None:
    from studio.core.layers import LayerRole, companion, has_role

    assert [n for n in LAYERS.names() if has_role(n, LayerRole.WEIGHTED)] == ["Linear", "Conv2d"]
    assert [n for n in LAYERS.names() if has_role(n, LayerRole.BATCH_NORM)] == ["BatchNorm1d", "BatchNorm2d"]
    assert [n for n in LAYERS.names() if has_role(n, LayerRole.DROPOUT)] == ["Dropout", "Dropout2d"]
    assert not has_role("LayerNorm", LayerRole.BATCH_NORM) and not has_role("nonsense", LayerRole.DROPOUT)
    assert companion(LayerRole.BATCH_NORM, "Linear") == "BatchNorm1d"
    assert companion(LayerRole.BATCH_NORM, "Conv2d") == "BatchNorm2d"
    assert companion(LayerRole.DROPOUT, "Linear") == "Dropout"
    assert companion(LayerRole.DROPOUT, "Conv2d") == "Dropout2d"
