"""Blocks (Residual, Parallel, Repeat): shapes, counts and errors inside them, building, JSON, paths."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from studio.core.blocks import Parallel, Repeat, Residual
from studio.core.build import build_model
from studio.core.errors import ShapeError
from studio.core.layers import LayerSettingError
from studio.core.memory import estimate
from studio.core.project import LayerSpec, ModelSpec, Project
from studio.core.shapes import check_model, infer_shapes
from studio.core.units import model_units


def L(type_: str, *rows: LayerSpec, **params: object) -> LayerSpec:
    return LayerSpec(type_, dict(params), layers=list(rows))


def conv(channels: int, stride: int = 1) -> LayerSpec:
    return L("Conv2d", out_channels=channels, kernel_size=3, padding=1, stride=stride)


def _error(layers: list[LayerSpec], shape: tuple[int, ...]) -> ShapeError:
    report = check_model(ModelSpec(layers), shape, None)
    assert report.error is not None
    return report.error


def _counts_match_the_model(layers: list[LayerSpec], shape: tuple[int, ...]) -> nn.Sequential:
    """Every row's parameter count (blocks: totals) agrees with the built modules, and the output shape too."""
    report = check_model(ModelSpec(layers), shape, None)
    assert report.ok, report.error
    model = build_model(ModelSpec(layers), shape, seed=0)
    for info, module in zip(report.rows, model, strict=True):
        assert info.params == sum(p.numel() for p in module.parameters()), info.label
    assert tuple(model(torch.zeros(2, *shape)).shape[1:]) == report.rows[-1].out_shape
    return model


# --- Residual ------------------------------------------------------------------------------------


def test_residual_with_matching_shapes_adds_the_input_unchanged() -> None:
    block = L("Residual", L("Linear", out_features=16), L("ReLU"), L("Linear", out_features=16))
    model = _counts_match_the_model([block], (16,))
    residual = model[0]
    assert isinstance(residual, Residual) and isinstance(residual.shortcut, nn.Identity)
    x = torch.randn(4, 16)
    assert torch.allclose(residual(x), residual.body(x) + x)
    (info,) = infer_shapes([block], (16,))
    assert [c.path for c in info.children] == [(0, 0), (0, 1), (0, 2)]
    assert [c.label for c in info.children] == ["1.1 Linear 16", "1.2 ReLU", "1.3 Linear 16"]
    assert info.params == 2 * (16 * 16 + 16)


@pytest.mark.parametrize(("shape", "rows", "projection"), [
    ((16,), [L("Linear", out_features=8)], nn.Linear),
    ((4, 8, 8), [conv(8, stride=2), L("ReLU"), conv(8)], nn.Conv2d),
    ((4, 7, 7), [conv(6, stride=2)], nn.Conv2d),  # 7 -> 4: a stride-2 1x1 convolution gives 4 too
])
def test_residual_projects_the_shortcut_when_the_shape_changes(shape, rows, projection) -> None:
    model = _counts_match_the_model([L("Residual", *rows)], shape)
    assert isinstance(model[0].shortcut, projection)


def test_projection_always_projects_even_when_shapes_match() -> None:
    model = _counts_match_the_model([L("Residual", conv(4), projection="always")], (4, 8, 8))
    assert isinstance(model[0].shortcut, nn.Conv2d)
    assert infer_shapes([L("Residual", conv(4), projection="always")], (4, 8, 8))[0].params == 2 * (4 * 4 * 9 + 4) - \
        4 * 4 * 9 + 4 * 4


def test_projection_never_with_a_changed_shape_is_an_error_on_the_block_row() -> None:
    error = _error([L("Linear", out_features=16), L("ReLU"),
                    L("Residual", L("Linear", out_features=8), projection="never")], (64,))
    assert (error.index, error.path, error.layer_type) == (2, (2,), "Residual")
    assert str(error).startswith("Layer 3 (Residual): its rows turn 16 values into 8 values")
    assert "set projection to auto" in str(error)


def test_a_residual_cannot_project_an_image_to_a_vector() -> None:
    error = _error([L("Residual", L("Flatten"))], (2, 4, 4))
    assert error.path == (0,) and "keep Flatten outside the block" in str(error)


def test_a_residual_cannot_match_an_uneven_shrink() -> None:
    error = _error([L("Residual", L("Conv2d", out_channels=4, kernel_size=4))], (4, 9, 9))
    assert "whole-number stride" in str(error)


# --- Parallel ------------------------------------------------------------------------------------


def test_parallel_concat_stacks_channels_of_the_branches() -> None:
    block = L("Parallel", conv(3), L("Conv2d", out_channels=5, kernel_size=1), L("MaxPool2d", kernel_size=3,
                                                                                  stride=1, padding=1))
    (info,) = infer_shapes([block], (2, 6, 6))
    assert info.out_shape == (3 + 5 + 2, 6, 6)
    assert [c.in_shape for c in info.children] == [(2, 6, 6)] * 3  # every branch sees the block's input
    model = _counts_match_the_model([block], (2, 6, 6))
    assert isinstance(model[0], Parallel)


def test_parallel_sum_adds_branches_of_one_shape() -> None:
    block = L("Parallel", L("Linear", out_features=8), L("Linear", out_features=8), join="sum")
    model = _counts_match_the_model([block], (5,))
    x = torch.randn(3, 5)
    assert torch.allclose(model(x), model[0].branches[0](x) + model[0].branches[1](x))


@pytest.mark.parametrize(("join", "rows", "words"), [
    ("sum", [conv(4), conv(6)], "join sum adds the branches, so they need the same shape, but branch 1 outputs a "
     "4×8×8 image and branch 2 a 6×8×8 image"),
    ("concat", [conv(4), L("Conv2d", out_channels=4, kernel_size=3)],
     "their height and width must agree, but branch 1 outputs a 4×8×8 image and branch 2 a 4×6×6 image"),
    ("concat", [conv(4), L("Flatten")], "needs branches of one kind (all images or all vectors), but branch 1 "
     "outputs a 4×8×8 image and branch 2 128 values"),
])
def test_mismatched_joins_are_errors_on_the_block_row(join: str, rows: list[LayerSpec], words: str) -> None:
    error = _error([conv(2), L("Parallel", *rows, join=join)], (2, 8, 8))
    assert error.path == (1,) and error.layer_type == "Parallel"
    assert str(error).startswith("Layer 2 (Parallel): ") and words in str(error)


# --- Repeat --------------------------------------------------------------------------------------


def test_repeat_makes_copies_with_their_own_weights() -> None:
    block = L("Repeat", L("Linear", out_features=8), L("Tanh"), times=3)
    report = check_model(ModelSpec([block]), (8,), None)
    assert report.rows[0].params == 3 * (8 * 8 + 8)
    assert report.rows[0].label == "1 Repeat ×3"
    model = _counts_match_the_model([block], (8,))
    copies = model[0].copies
    assert isinstance(model[0], Repeat) and len(copies) == 3
    assert not torch.equal(copies[0][0].weight, copies[1][0].weight)


def test_an_error_in_a_later_copy_names_the_copy() -> None:
    # The first copy turns 6 features into 4; the second copy's LayerNorm... sees 4, fine; a Linear 4 -> 4 too.
    # A Residual with projection never inside a Repeat fails only in copy 1 here: 6 -> 4 cannot be added.
    error = _error([L("Repeat", L("Linear", out_features=4), L("BatchNorm2d"), times=2)], (6,))
    assert error.path == (0, 1) and str(error).startswith("Block 1 › row 2 (BatchNorm2d):")
    shrink = _error([L("Repeat", L("MaxPool2d", kernel_size=2), times=4)], (1, 4, 4))
    assert shrink.path == (0, 0) and ", copy 3:" in str(shrink)


# --- nesting, errors inside blocks, paths ----------------------------------------------------------


def resnet_like() -> list[LayerSpec]:
    """Blocks inside blocks: a Repeat of Residuals, one with a Parallel inside."""
    stage = L("Residual", conv(8), L("BatchNorm2d"), L("ReLU"), conv(8), L("BatchNorm2d"))
    mixed = L("Residual", L("Parallel", conv(4), L("Conv2d", out_channels=4, kernel_size=1)), L("ReLU"))
    return [conv(8), L("ReLU"), L("Repeat", stage, times=2), mixed, L("AdaptiveAvgPool2d"), L("Flatten"),
            L("Linear", out_features=10)]


def test_nested_blocks_check_and_build_with_consistent_counts() -> None:
    layers = resnet_like()
    model = _counts_match_the_model(layers, (3, 8, 8))
    report = check_model(ModelSpec(layers), (3, 8, 8), 10)
    assert report.ok and report.total_params == sum(p.numel() for p in model.parameters())
    paths = [info.path for info in report.all_rows()]
    assert (2, 0, 3) in paths and (3, 0, 1) in paths
    assert report.row((3, 0)).out_shape == (8, 8, 8)
    assert report.row((3, 0)).label == "4.1 Parallel concat"


def test_an_error_deep_inside_names_the_nested_row_and_its_field() -> None:
    layers = resnet_like()
    layers[3].layers[0].layers[1].params["kernel_size"] = 0
    error = _error(layers, (3, 8, 8))
    assert isinstance(error, LayerSettingError)
    assert error.path == (3, 0, 1) and error.index == 3
    assert str(error).startswith("Block 4 › block 1 › row 2 (Conv2d): kernel size must be at least 1")
    assert error.field == "layers[3].layers[0].layers[1].kernel_size"
    shape = _error([L("Linear", out_features=4), L("Residual", L("ReLU"), L("Conv2d"))], (3,))
    assert shape.path == (1, 1) and str(shape).startswith("Block 2 › row 2 (Conv2d): Conv2d expects an image")


def test_an_empty_block_and_rows_inside_a_plain_layer_are_errors() -> None:
    empty = _error([L("Linear", out_features=3), L("Residual")], (3,))
    assert empty.path == (1,) and "has no rows" in str(empty)
    inside = _error([L("Linear", L("ReLU"), out_features=3)], (3,))
    assert inside.path == (0,) and "only blocks (Residual, Parallel, Repeat) hold rows" in str(inside)


def test_units_walk_every_row_and_own_each_weight_once() -> None:
    layers = resnet_like()
    model = build_model(ModelSpec(layers), (3, 8, 8), seed=0)
    units = model_units(model, layers)
    labels = [u.label for u in units]
    assert labels[:5] == ["1 Conv2d 8@3×3", "2 ReLU", "3 Repeat ×2", "3.1 Residual", "3.1.1 Conv2d 8@3×3"]
    assert "3[2].1.4 Conv2d 8@3×3" in labels  # the second copy's fourth row
    owned = [id(p) for u in units for p in u.own]
    assert len(owned) == len(set(owned)) == len(list(model.parameters()))


def test_a_frozen_block_freezes_every_row_inside() -> None:
    layers = resnet_like()
    layers[2].frozen = True
    report = check_model(ModelSpec(layers), (3, 8, 8), 10)
    assert report.rows[2].trainable == 0 and report.row((2, 0, 0)).trainable == 0
    model = build_model(ModelSpec(layers), (3, 8, 8), seed=0)
    assert not any(p.requires_grad for p in model[2].parameters())
    assert all(p.requires_grad for p in model[3].parameters())


def test_build_is_deterministic_and_blocks_leave_plain_rows_weights_alone() -> None:
    layers = resnet_like()
    first = build_model(ModelSpec(layers), (3, 8, 8), seed=3).state_dict()
    again = build_model(ModelSpec(resnet_like()), (3, 8, 8), seed=3).state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)
    changed = resnet_like()
    changed[3].layers[0].layers[0].init = "zeros"  # one nested row's own scheme
    other = build_model(ModelSpec(changed), (3, 8, 8), seed=3).state_dict()
    assert torch.count_nonzero(other["3.body.0.branches.0.weight"]) == 0
    assert torch.equal(other["3.body.0.branches.1.weight"], first["3.body.0.branches.1.weight"])
    assert torch.equal(other["0.weight"], first["0.weight"])


# --- the project file ----------------------------------------------------------------------------


def test_a_nested_project_round_trips_through_json() -> None:
    project = Project(model=ModelSpec(resnet_like()))
    project.model.layers[2].lr_mult = 0.5
    project.model.layers[2].layers[0].layers[0].frozen = True
    text = project.to_json()
    loaded = Project.from_dict(json.loads(text))
    assert loaded == project
    row = json.loads(text)["model"]["layers"][2]
    assert row["type"] == "Repeat" and row["params"] == {"times": 2}
    assert row["layers"][0]["layers"][0]["frozen"] is True
    assert "layers" not in row["layers"][0]["layers"][0]  # plain rows leave the key out, as files always did


def test_files_without_blocks_read_and_write_as_before() -> None:
    project = Project(model=ModelSpec([L("Linear", out_features=10)]))
    assert json.loads(project.to_json())["model"]["layers"] == [
        {"type": "Linear", "params": {"out_features": 10}, "init": None, "frozen": False, "lr_mult": 1.0,
         "init_params": {}}]


def test_a_malformed_child_list_names_its_place() -> None:
    data = Project(model=ModelSpec([L("Residual", L("ReLU"))])).to_dict()
    data["model"]["layers"][0]["layers"][0]["colour"] = "red"
    with pytest.raises(Exception, match=r"model\.layers\[0\]\.layers\[0\]"):
        Project.from_dict(data)


def test_rows_inside_blocks_take_the_blocks_init_and_their_own_settings() -> None:
    block = L("Residual", L("Linear", out_features=2), L("Linear", out_features=2))
    block.init, block.init_params = "constant", {"value": 0.5}
    block.layers[1].init_params = {"value": -1.0}  # the block's scheme, its own value
    model = build_model(ModelSpec([L("Linear", out_features=2), block]), (3,), seed=0)
    assert torch.all(model[1].body[0].weight == 0.5) and torch.all(model[1].body[1].weight == -1.0)


def test_typed_values_fit_a_row_inside_a_block_and_not_a_block() -> None:
    row = L("Linear", out_features=2)
    row.init, row.init_params = "values", {"weight": [[1.0, 2.0], [3.0, 4.0]], "bias": [0.5, -0.5]}
    model = build_model(ModelSpec([L("Residual", row)]), (2,), seed=0)
    assert model[0].body[0].weight.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    row.init_params = {"weight": [[1.0, 2.0, 3.0]]}
    error = _error([L("Residual", row)], (2,))
    assert error.path == (0, 0) and "the typed weight has shape 1×3, but this layer's weight is 2×2" in str(error)
    block = L("Residual", L("Linear", out_features=2))
    block.init, block.init_params = "values", {"weight": [[1.0, 2.0], [3.0, 4.0]]}
    error = _error([block], (2,))
    assert error.path == (0,) and "choose them for a row inside the block" in str(error)


def test_the_memory_guard_counts_the_rows_inside_blocks_and_every_copy() -> None:
    rows = infer_shapes([L("Repeat", L("Linear", out_features=8), L("ReLU"), times=3)], (8,))
    assert rows[0].copies == 3
    memory = estimate(rows, 10, None, torch.device("cpu"))
    # the Repeat's output and its gradient, then 3 copies of two rows' outputs and gradients, then the input
    assert memory.rows[0].activations == 10 * 4 * (2 * 8 + 3 * (2 * 8 + 2 * 8) + 8)
