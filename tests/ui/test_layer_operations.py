"""The editor's edits of a nested stack (Qt-free): what each does, which rows it selects, and where it moves
every row (the map that carries folded blocks through edits and undo)."""

from __future__ import annotations

import pytest

from studio.core.project import LayerSpec, ModelSpec
from studio.ui.widgets.layer_editor import operations as ops


def network() -> ModelSpec:
    return ModelSpec([
        LayerSpec("Linear"),
        LayerSpec("Residual", {"projection": "auto"}, layers=[
            LayerSpec("ReLU"), LayerSpec("Repeat", {"times": 2}, layers=[LayerSpec("Tanh"), LayerSpec("ReLU")]),
        ]),
        LayerSpec("ReLU"),
    ])


def types(layers: list[LayerSpec]) -> list:
    return [(layer.type, types(layer.layers)) if layer.layers else layer.type for layer in layers]


def test_an_edit_leaves_its_input_alone_and_maps_every_row_it_kept() -> None:
    before = network()
    edit = ops.edited(before, lambda spec: ops.wrap(spec, [(0,), (1,)], "Parallel"))
    assert before == network()
    assert types(edit.after.layers) == [("Parallel", ["Linear", ("Residual", ["ReLU", ("Repeat", ["Tanh", "ReLU"])])]),
                                        "ReLU"]
    assert edit.after.layers[0].params == {"join": "concat"} and edit.selection == ((0,),)
    assert edit.moved == {(0,): (0, 0), (1,): (0, 1), (1, 0): (0, 1, 0), (1, 1): (0, 1, 1), (1, 1, 0): (0, 1, 1, 0),
                          (1, 1, 1): (0, 1, 1, 1), (2,): (1,)}


def test_unwrap_remove_and_duplicate_map_rows_and_select() -> None:
    edit = ops.edited(network(), lambda spec: ops.unwrap(spec, (1, 1)))
    assert types(edit.after.layers[1].layers) == ["ReLU", "Tanh", "ReLU"]
    assert edit.selection == ((1, 1), (1, 2)) and (1, 1) not in edit.moved and edit.moved[(1, 1, 1)] == (1, 2)
    edit = ops.edited(network(), lambda spec: ops.remove_rows(spec, [(1,), (1, 0), (2,)]))
    assert types(edit.after.layers) == ["Linear"] and edit.selection == ((0,),)
    assert edit.moved == {(0,): (0,)}
    edit = ops.edited(network(), lambda spec: ops.remove_rows(spec, [(1, 1, 0), (1, 1, 1)]))
    assert types(edit.after.layers[1].layers) == ["ReLU", "Repeat"] and edit.selection == ((1, 1),)  # the block
    edit = ops.edited(network(), lambda spec: ops.duplicate_rows(spec, [(1, 1)]))
    assert edit.selection == ((1, 2),) and edit.after.layers[1].layers[2] == edit.after.layers[1].layers[1]
    assert (1, 2) not in edit.moved.values()  # the copy is a new row: a fold of the original stays there


def test_moves_follow_rows_not_values() -> None:
    spec = ModelSpec([LayerSpec("ReLU"), LayerSpec("ReLU"), LayerSpec("Linear")])
    edit = ops.edited(spec, lambda s: ops.move_rows(s, [(2,)], (), 1))
    assert types(edit.after.layers) == ["ReLU", "Linear", "ReLU"] and edit.selection == ((1,),)
    assert edit.moved == {(0,): (0,), (1,): (2,), (2,): (1,)}  # the two equal ReLUs are told apart
    edit = ops.edited(network(), lambda s: ops.move_rows(s, [(0,), (2,)], (1, 1), 1))
    assert types(edit.after.layers) == [("Residual", ["ReLU", ("Repeat", ["Tanh", "Linear", "ReLU", "ReLU"])])]
    assert edit.selection == ((0, 1, 1), (0, 1, 2))
    with pytest.raises(ValueError, match="into itself"):
        ops.move_rows(network(), [(1,)], (1, 1), 0)


def test_moving_up_and_down_leaves_a_block_at_its_edge() -> None:
    spec = network()
    assert ops.move_run(spec, [(1, 1, 0)], -1) == ((1, 1),)  # Tanh leaves the Repeat, above it
    assert types(spec.layers[1].layers) == ["ReLU", "Tanh", ("Repeat", ["ReLU"])]
    assert ops.move_run(spec, [(1, 1)], -1) == ((1, 0),)
    assert ops.move_run(spec, [(1, 2, 0)], +1) == ((1, 3),)  # ReLU leaves the Repeat, below it
    assert ops.move_run(spec, [(0,)], -1) == ((0,),) and types(spec.layers)[0] == "Linear"  # the top stays
    assert not ops.can_move(spec.layers, [(0,)], -1) and ops.can_move(spec.layers, [(1, 0)], -1)
    assert not ops.can_move(spec.layers, [(0,), (2,)], +1)  # not neighbours


def test_where_a_new_row_goes() -> None:
    layers = network().layers
    assert ops.insertion_point(layers, (), open_block=False) == (3,)
    assert ops.insertion_point(layers, ((1, 0),), open_block=False) == (1, 1)
    assert ops.insertion_point(layers, ((1,),), open_block=True) == (1, 2)  # an open block: at its end
    assert ops.insertion_point(layers, ((1,),), open_block=False) == (2,)  # a closed one is one row
    assert ops.insertion_point(layers, ((0,), (2,)), open_block=False) == (3,)  # below the last selected


def test_selections_that_act_together() -> None:
    assert ops.sibling_run([(1, 1), (1, 0)]) == ((1,), 0, 1)
    assert ops.sibling_run([(0,), (2,)]) is None and ops.sibling_run([(1,), (1, 0)]) is None
    assert ops.sibling_run([]) is None
    assert ops.outermost([(1, 0), (1,), (0,), (1, 1, 0)]) == [(0,), (1,)]
