"""Typed starting weights in the layer editor: the grid sized by the layer's shapes, edits as undo steps,
"load from a file" for large layers, wrong shapes named in place; per-layer and bias init settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QComboBox

from studio.core.project import LayerSpec, ModelSpec
from studio.ui.widgets.layer_editor import LayerEditor
from studio.ui.widgets.weight_grid import MAX_CELLS
from tests.ui.conftest import open_editor

PERCEPTRON_INPUT = (2,)


@pytest.fixture
def editor(qtbot, stack: QUndoStack) -> LayerEditor:
    perceptron = ModelSpec([LayerSpec("Linear", {"out_features": 1}), LayerSpec("Sign")])
    return open_editor(qtbot, stack, PERCEPTRON_INPUT, 1, "table (2 features)", perceptron, (1200, 700))


def _pick_values(editor: LayerEditor, row: int = 0) -> None:
    editor.stack_view.select_row(row)
    combo = editor.findChild(QComboBox, "layerInitCombo")
    combo.setCurrentIndex(combo.findData("values"))


def test_picking_typed_values_starts_from_zeros_of_the_layers_shape(editor: LayerEditor, stack: QUndoStack) -> None:
    _pick_values(editor)
    layer = editor.model().layers[0]
    assert layer.init == "values" and layer.init_params == {"weight": [[0.0, 0.0]], "bias": [0.0]}
    grid = editor.properties.init_settings.grid
    assert not grid.isHidden() and (grid.table.rowCount(), grid.table.columnCount()) == (1, 3)
    assert [grid.table.horizontalHeaderItem(c).text() for c in range(3)] == ["in 1", "in 2", "bias"]
    assert editor.is_valid()[0]
    stack.undo()  # one undo step: the scheme and its values together
    assert editor.model().layers[0].init is None and editor.model().layers[0].init_params == {}


def test_typing_in_a_cell_changes_the_weights_one_undo_step_per_cell(editor: LayerEditor, stack: QUndoStack) -> None:
    _pick_values(editor)
    grid = editor.properties.init_settings.grid
    grid.table.item(0, 1).setText("-2.5")
    grid = editor.properties.init_settings.grid
    grid.table.item(0, 2).setText("0.5")
    assert editor.model().layers[0].init_params == {"weight": [[0.0, -2.5]], "bias": [0.5]}
    grid.table.item(0, 0).setText("abc")
    assert editor.model().layers[0].init_params["weight"] == [[0.0, -2.5]]  # not a number: nothing changes
    assert "not a number" in grid.error.text() and not grid.error.isHidden()
    stack.undo()
    assert editor.model().layers[0].init_params == {"weight": [[0.0, -2.5]], "bias": [0.0]}


def test_values_of_the_wrong_shape_are_named_in_place(editor: LayerEditor) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear", {"out_features": 1}, init="values",
                                          init_params={"weight": [[1, 2, 3]], "bias": [0]}), LayerSpec("Sign")]))
    editor.stack_view.select_row(0)
    ok, reason = editor.is_valid()
    assert not ok and reason == ("Layer 1 (Linear): the typed weight has shape 1×3, but this layer's weight is 1×2 "
                                 "(outputs × inputs)")
    grid = editor.properties.init_settings.grid
    assert grid.error.text() == reason and not grid.error.isHidden()
    assert grid.table.columnCount() == 3  # the grid has the layer's shape (2 inputs and the bias), from zeros


def test_a_large_layer_loads_its_weights_from_a_file(editor: LayerEditor, tmp_path: Path) -> None:
    editor.set_input((30,), 20, "30 features")
    editor.set_model(ModelSpec([LayerSpec("Linear", {"out_features": 20}), LayerSpec("Linear", {"out_features": 20})]))
    _pick_values(editor)
    grid = editor.properties.init_settings.grid
    assert MAX_CELLS < 30 * 20 + 20 and grid.table.isHidden()
    assert "620 starting values" in grid.note.text() and "Load them from a file" in grid.note.text()
    rows = [[round(0.01 * (r + c), 2) for c in range(30)] + [r] for r in range(20)]
    (tmp_path / "w.csv").write_text("\n".join(",".join(str(v) for v in row) for row in rows) + "\n")
    assert grid.load_file(tmp_path / "w.csv")
    layer = editor.model().layers[0]
    assert layer.init_params["weight"] == [row[:30] for row in rows] and layer.init_params["bias"] == list(range(20))
    assert editor.is_valid()[0]
    (tmp_path / "w.json").write_text(json.dumps({"weight": [[1.0] * 30] * 20}))
    assert editor.properties.init_settings.grid.load_file(tmp_path / "w.json")
    assert editor.model().layers[0].init_params == {"weight": [[1.0] * 30] * 20}


def test_a_layers_own_scheme_has_its_own_settings(editor: LayerEditor) -> None:
    editor.stack_view.select_row(0)
    combo = editor.findChild(QComboBox, "layerInitCombo")
    combo.setCurrentIndex(combo.findData("constant"))
    form = editor.properties.init_settings.form
    assert form is not None and form.field("value").value() == pytest.approx(0.1)
    form.field("value").setValue(-0.3)
    assert editor.model().layers[0].init_params == {"value": pytest.approx(-0.3)}


def test_the_constant_bias_takes_its_value(editor: LayerEditor) -> None:
    bias = editor.findChild(QComboBox, "biasInitCombo")
    bias.setCurrentIndex(bias.findData("constant"))
    assert editor.model().bias_init == "constant" and editor.model().bias_init_params == {"value": 0.01}
    editor.network_panel.bias_form.field("value").setValue(0.5)
    assert editor.model().bias_init_params == {"value": pytest.approx(0.5)}


def test_screenshot_of_the_grid(editor: LayerEditor, tmp_path: Path) -> None:
    _pick_values(editor)
    grid = editor.properties.init_settings.grid
    grid.table.item(0, 0).setText("0.5")
    editor.show()
    path = tmp_path / "typed-weights.png"
    assert editor.grab().save(str(path)) and path.stat().st_size > 0
