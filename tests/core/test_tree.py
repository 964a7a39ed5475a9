"""Addressing and editing a nested stack by path: the core API the block editor builds on."""

from __future__ import annotations

import pytest

from studio.core.project import LayerSpec
from studio.core.tree import (
    field_name,
    insert_row,
    iter_rows,
    move_row,
    path_text,
    remove_row,
    row_at,
    unwrap_row,
    wrap_rows,
)


def stack() -> list[LayerSpec]:
    """Linear, Residual[Linear, ReLU, Repeat[Linear]], ReLU."""
    inner = LayerSpec("Repeat", {"times": 2}, layers=[LayerSpec("Linear")])
    block = LayerSpec("Residual", layers=[LayerSpec("Linear"), LayerSpec("ReLU"), inner])
    return [LayerSpec("Linear"), block, LayerSpec("ReLU")]


def types(layers: list[LayerSpec]) -> list:
    return [spec.type if not spec.layers else (spec.type, types(spec.layers)) for spec in layers]


def test_paths_read_from_one_and_name_fields() -> None:
    assert path_text((3, 2)) == "4.3"
    assert field_name((3, 2)) == "layers[3].layers[2]"


def test_iter_rows_is_depth_first_with_paths() -> None:
    assert [(path, spec.type) for path, spec in iter_rows(stack())] == [
        ((0,), "Linear"), ((1,), "Residual"), ((1, 0), "Linear"), ((1, 1), "ReLU"), ((1, 2), "Repeat"),
        ((1, 2, 0), "Linear"), ((2,), "ReLU")]
    assert row_at(stack(), (1, 2, 0)).type == "Linear"
    with pytest.raises(IndexError):
        row_at(stack(), (1, 5))


def test_insert_and_remove_at_a_path() -> None:
    layers = stack()
    assert insert_row(layers, (1, 1), LayerSpec("Tanh")) == (1, 1)
    assert types(layers)[1] == ("Residual", ["Linear", "Tanh", "ReLU", ("Repeat", ["Linear"])])
    assert remove_row(layers, (1, 3)).type == "Repeat"
    assert types(layers)[1] == ("Residual", ["Linear", "Tanh", "ReLU"])
    with pytest.raises(ValueError, match="is not a block"):
        insert_row(layers, (0, 0), LayerSpec("ReLU"))


def test_move_in_and_out_of_blocks() -> None:
    layers = stack()
    assert move_row(layers, (2,), (1, 0)) == (1, 0)  # the last ReLU into the block, first
    assert types(layers) == ["Linear", ("Residual", ["ReLU", "Linear", "ReLU", ("Repeat", ["Linear"])])]
    assert move_row(layers, (0,), (2,)) == (1,)  # after the block: positions after the moved row shift up
    assert types(layers) == [("Residual", ["ReLU", "Linear", "ReLU", ("Repeat", ["Linear"])]), "Linear"]
    with pytest.raises(ValueError, match="into itself"):
        move_row(layers, (0,), (0, 1))


def test_wrap_and_unwrap_restore_the_stack() -> None:
    layers = stack()
    before = types(layers)
    path = wrap_rows(layers, [(1, 1), (1, 0)], "Residual", {"projection": "always"})
    assert path == (1, 0)
    assert types(layers)[1] == ("Residual", [("Residual", ["Linear", "ReLU"]), ("Repeat", ["Linear"])])
    assert row_at(layers, path).params == {"projection": "always"}
    assert unwrap_row(layers, path) == [(1, 0), (1, 1)]
    assert types(layers) == before


def test_wrap_refuses_rows_that_are_not_neighbours() -> None:
    layers = stack()
    with pytest.raises(ValueError, match="neighbouring rows"):
        wrap_rows(layers, [(0,), (2,)], "Residual")
    with pytest.raises(ValueError, match="neighbouring rows"):
        wrap_rows(layers, [(0,), (1, 0)], "Residual")
    with pytest.raises(ValueError, match="not a block type"):
        wrap_rows(layers, [(0,)], "Linear")
    with pytest.raises(ValueError, match="nothing to unwrap"):
        unwrap_row(layers, (0,))
