"""Shape inference: shapes and parameter counts agree with the real model; each mistake gets clear words."""

from __future__ import annotations

import pytest
from torch import nn

from studio.core.build import build_model
from studio.core.errors import ShapeError
from studio.core.layers import LAYERS, LayerType
from studio.core.project import LayerSpec, ModelSpec
from studio.core.shapes import NETWORK, check_model, format_shape, infer_shapes


def L(type_: str, **params: object) -> LayerSpec:
    return LayerSpec(type_, dict(params))


LENET = [
    L("Conv2d", out_channels=6, kernel_size=5), L("ReLU"), L("MaxPool2d"),
    L("Conv2d", out_channels=16, kernel_size=5), L("ReLU"), L("MaxPool2d"),
    L("Flatten"), L("Linear", out_features=120), L("ReLU"), L("Linear", out_features=84), L("ReLU"),
    L("Linear", out_features=10),
]
MLP = [L("Linear", out_features=32), L("ReLU"), L("Linear", out_features=10)]


def _error(layers: list[LayerSpec], shape: tuple[int, ...], n_outputs: int | None = None, **kw: object) -> ShapeError:
    report = check_model(ModelSpec(layers), shape, n_outputs, **kw)
    assert not report.ok
    return report.error


def _assert_matches_real_model(layers: list[LayerSpec], shape: tuple[int, ...]) -> None:
    rows = infer_shapes(layers, shape)
    model = build_model(ModelSpec(layers), shape, seed=0)
    for row, module in zip(rows, model, strict=True):
        assert row.params == sum(p.numel() for p in module.parameters())
    assert check_model(ModelSpec(layers), shape, None).total_params == sum(p.numel() for p in model.parameters())


def test_mlp_shapes_and_counts() -> None:
    rows = infer_shapes(MLP, (64,))
    assert [r.out_shape for r in rows] == [(32,), (32,), (10,)]
    assert [r.in_shape for r in rows] == [(64,), (32,), (32,)]
    assert [r.params for r in rows] == [64 * 32 + 32, 0, 32 * 10 + 10]
    assert [r.label for r in rows] == ["1 Linear 32", "2 ReLU", "3 Linear 10"]
    _assert_matches_real_model(MLP, (64,))


def test_lenet_shapes_and_counts() -> None:
    rows = infer_shapes(LENET, (1, 28, 28))
    assert [r.out_shape for r in rows] == [
        (6, 24, 24), (6, 24, 24), (6, 12, 12), (16, 8, 8), (16, 8, 8), (16, 4, 4), (256,),
        (120,), (120,), (84,), (84,), (10,),
    ]
    report = check_model(ModelSpec(LENET), (1, 28, 28), 10)
    assert report.ok and report.total_params == report.trainable_params == 44426
    _assert_matches_real_model(LENET, (1, 28, 28))


def test_normalisation_layers_infer_their_sizes() -> None:
    layers = [L("Conv2d", out_channels=4), L("BatchNorm2d"), L("LayerNorm"), L("AdaptiveAvgPool2d", output_size=2),
              L("Flatten"), L("BatchNorm1d"), L("Dropout"), L("Linear", out_features=3)]
    rows = infer_shapes(layers, (3, 10, 10))
    assert [r.params for r in rows[1:3]] == [2 * 4, 2 * 4 * 8 * 8]
    assert rows[5].params == 2 * 16
    _assert_matches_real_model(layers, (3, 10, 10))


def test_frozen_rows_count_no_trainable_parameters() -> None:
    layers = [LayerSpec("Linear", {"out_features": 32}, frozen=True), L("ReLU"), L("Linear", out_features=10)]
    report = check_model(ModelSpec(layers), (64,), 10)
    assert report.ok
    assert [r.trainable for r in report.rows] == [0, 0, 330]
    assert (report.total_params, report.trainable_params) == (64 * 32 + 32 + 330, 330)


def test_linear_after_an_image_asks_for_flatten() -> None:
    error = _error(LENET[:6] + [L("Linear", out_features=10)], (1, 28, 28))
    assert str(error) == ("Layer 7 (Linear): Linear expects a flat vector of features but receives "
                          "16×4×4 = 256 values; add Flatten before it")
    assert (error.index, error.layer_type) == (6, "Linear")


@pytest.mark.parametrize("name", ["Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d"])
def test_image_layers_reject_flat_vectors(name: str) -> None:
    error = _error([L("Flatten"), L(name)], (1, 4, 4))
    assert str(error).startswith(f"Layer 2 ({name}): {name} expects an image (channels×height×width) but receives "
                                 "a flat vector of 16 values")
    assert error.index == 1


def test_batchnorm1d_rejects_images() -> None:
    assert "BatchNorm1d expects a flat vector of features but receives 3×4×4 = 48 values" in str(
        _error([L("BatchNorm1d")], (3, 4, 4)))


def test_kernel_larger_than_input() -> None:
    layers = LENET[:6] + [L("MaxPool2d"), L("MaxPool2d"), L("MaxPool2d")]
    error = _error(layers, (1, 28, 28))
    assert str(error) == ("Layer 9 (MaxPool2d): MaxPool2d with kernel 2 needs at least 2×2 pixels but receives 1×1; "
                          "remove a pooling layer or use a smaller kernel")
    assert error.index == 8
    conv = _error([L("Conv2d", kernel_size=7)], (1, 5, 5))
    assert str(conv).startswith("Layer 1 (Conv2d): Conv2d with kernel 7 needs at least 7×7 pixels but receives 5×5;")
    # Padding counts towards the size.
    assert check_model(ModelSpec([L("Conv2d", kernel_size=7, padding=1)]), (1, 5, 5), None).ok


def test_pool_padding_larger_than_half_the_kernel() -> None:
    assert "padding can be at most half the kernel size" in str(_error([L("AvgPool2d", padding=2)], (1, 8, 8)))


def test_output_size_mismatch_names_the_last_linear() -> None:
    layers = [L("Linear", out_features=32), L("ReLU"), L("Linear", out_features=32), L("ReLU")]
    error = _error(layers, (64,), 10, target="digits has 10 classes")
    assert str(error) == ("Layer 3 (Linear): the last layer outputs 32 values but digits has 10 classes; "
                          "set out_features of the last Linear to 10")
    assert error.index == 2
    assert "but the data and loss need 10;" in str(_error(layers, (64,), 10))


def test_output_not_flat_or_without_linear() -> None:
    error = _error(LENET[:6], (1, 28, 28), 10)
    assert "ends with 16×4×4 = 256 values per sample" in str(error)
    assert "add Flatten and a Linear with out_features 10 at the end" in str(error)
    assert "add a Linear with out_features 3 at the end" in str(_error([L("Conv2d", out_channels=4),
                                                                       L("AdaptiveAvgPool2d"), L("Flatten")],
                                                                     (1, 8, 8), 3))


def test_empty_stack_and_nothing_to_learn() -> None:
    error = _error([], (64,), 10)
    assert "has no layers" in str(error) and error.index == NETWORK
    with pytest.raises(ShapeError, match="has no layers"):
        infer_shapes([], (64,))
    assert "nothing to learn" in str(_error([L("ReLU")], (4,)))
    frozen = [LayerSpec("Linear", {"out_features": 4}, frozen=True)]
    assert "nothing to learn" in str(_error(frozen, (4,), 4))


@pytest.mark.parametrize("layers, words, index", [
    ([L("Linear", out_features=8), L("Dense")], "Layer 2 (Dense): unknown layer type 'Dense'", 1),
    ([L("Linear", out_features=0)], "Layer 1 (Linear): out features must be at least 1", 0),
    ([LayerSpec("Linear", init="magic")], "Layer 1 (Linear): unknown weight initialisation 'magic'", 0),
])
def test_check_model_reports_bad_rows_instead_of_raising(layers: list[LayerSpec], words: str, index: int) -> None:
    error = _error(layers, (4,))
    assert str(error).startswith(words) and error.index == index


def test_check_model_reports_bad_network_init() -> None:
    report = check_model(ModelSpec([L("Linear")], init="xavier_normal", init_params={"value": 1}), (4,), None)
    assert "unknown setting 'value'" in str(report.error)
    assert report.error.index == NETWORK


def test_rows_before_the_problem_are_kept() -> None:
    report = check_model(ModelSpec(LENET[:6] + [L("Linear")]), (1, 28, 28), 10)
    assert [r.index for r in report.rows] == list(range(6))


def test_unexpected_problems_fall_back_to_the_real_module(monkeypatch: pytest.MonkeyPatch) -> None:
    def make(params: dict, in_shape: tuple[int, ...]) -> nn.Module:
        return nn.Linear(in_shape[0] + 1, 2)  # a type whose own check misses a mismatch

    monkeypatch.setitem(LAYERS._entries, "Broken", LayerType("Broken", "core", "test", (), make))
    error = _error([L("Linear", out_features=5), L("Broken")], (4,))
    assert str(error).startswith("Layer 2 (Broken): cannot take an input of 5 values (")
    assert (error.index, error.layer_type) == (1, "Broken")


def test_format_shape() -> None:
    assert format_shape((16, 5, 5)) == "16×5×5 = 400"
    assert format_shape((64,)) == "64"
