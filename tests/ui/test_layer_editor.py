"""The layer-stack editor: building networks by clicking, editing, reordering, undo, validity, locking."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLabel, QToolButton

from studio.core.layers import GROUPS, LAYERS
from studio.core.project import LayerSpec, ModelSpec
from studio.ui.widgets.layer_editor import LayerEditor
from studio.ui.widgets.layer_editor.stack import LAYER, OUTPUT, PARAMS
from tests.ui.conftest import open_editor

MNIST = (1, 28, 28)
DIGITS = (64,)


@pytest.fixture
def editor(qtbot, stack: QUndoStack) -> LayerEditor:
    return open_editor(qtbot, stack, DIGITS, 10, "digits")


def types(editor: LayerEditor) -> list[str]:
    return [layer.type for layer in editor.model().layers]


def cell(editor: LayerEditor, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole):
    model = editor.stack_model
    return model.data(model.index(row, column), role)


def button(editor: LayerEditor, name: str) -> QToolButton:
    return editor.findChild(QToolButton, name)


def add_by_button(qtbot, editor: LayerEditor, type_name: str) -> None:
    editor.layer_palette.select_type(type_name)
    qtbot.mouseClick(button(editor, "addLayerButton"), Qt.MouseButton.LeftButton)


def add_by_double_click(qtbot, editor: LayerEditor, type_name: str) -> None:
    palette = editor.layer_palette
    item = palette.item_for(type_name)
    palette.scrollToItem(item)
    center = palette.visualItemRect(item).center()
    qtbot.mouseClick(palette.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(palette.viewport(), Qt.MouseButton.LeftButton, pos=center)


def set_param(editor: LayerEditor, row: int, name: str, value) -> None:
    """Edit a parameter the way a user does: select the row, change the generated editor."""
    editor.stack_view.select_row(row)
    field = editor.properties.form.field(name)
    setters = {"QSpinBox": "setValue", "FloatSpinBox": "setValue", "LogSpinBox": "setValue", "QCheckBox": "setChecked"}
    getattr(field, setters[type(field).__name__])(value)


def test_palette_lists_every_registered_type_under_its_group(editor: LayerEditor) -> None:
    palette = editor.layer_palette
    titles = [palette.topLevelItem(i).text(0) for i in range(palette.topLevelItemCount())]
    assert titles == [group.capitalize() for group in GROUPS]
    for name, layer_type in LAYERS.items():
        item = palette.item_for(name)
        assert item.parent().text(0) == layer_type.group.capitalize()
        assert item.toolTip(0) == layer_type.description


def test_build_mlp_by_double_click_and_button(qtbot, editor: LayerEditor) -> None:
    editor.show()
    add_by_double_click(qtbot, editor, "Linear")
    add_by_button(qtbot, editor, "ReLU")
    add_by_double_click(qtbot, editor, "Linear")
    assert types(editor) == ["Linear", "ReLU", "Linear"]
    assert editor.current_path() == (2,)  # the new layer is selected, ready for its settings
    assert not editor.is_valid()[0]  # 64 outputs, digits needs 10
    with qtbot.waitSignal(editor.validityChanged) as blocker:
        set_param(editor, 2, "out_features", 10)
    assert blocker.args == [True, ""]
    assert cell(editor, 2, LAYER) == "Linear  10"
    assert cell(editor, 2, OUTPUT) == "10"
    assert cell(editor, 0, PARAMS) == f"{64 * 64 + 64:,}"
    total = editor.findChild(QLabel, "totalParamsLabel").text()
    assert total == f"Total: {64 * 64 + 64 + 64 * 10 + 10:,} parameters"


def test_build_lenet_with_shapes_and_total(qtbot, editor: LayerEditor) -> None:
    editor.set_input(MNIST, 10, "MNIST")
    plan = [
        ("Conv2d", {"out_channels": 6, "kernel_size": 5, "padding": 2}),
        ("ReLU", {}),
        ("MaxPool2d", {}),
        ("Conv2d", {"out_channels": 16, "kernel_size": 5}),
        ("ReLU", {}),
        ("MaxPool2d", {}),
        ("Flatten", {}),
        ("Linear", {"out_features": 120}),
        ("ReLU", {}),
        ("Linear", {"out_features": 84}),
        ("ReLU", {}),
        ("Linear", {"out_features": 10}),
    ]
    for row, (name, params) in enumerate(plan):
        add_by_button(qtbot, editor, name)
        for key, value in params.items():
            set_param(editor, row, key, value)
    assert editor.is_valid() == (True, "")
    outputs = [cell(editor, row, OUTPUT) for row in range(len(plan))]
    assert outputs[:7] == ["6×28×28", "6×28×28", "6×14×14", "16×10×10", "16×10×10", "16×5×5", "400"]
    assert editor.state().total_params == 61_706
    assert "61,706" in editor.findChild(QLabel, "totalParamsLabel").text()


def test_properties_form_is_generated_from_the_registry(editor: LayerEditor) -> None:
    editor.add_layer("Conv2d")
    form = editor.properties.form
    kernel = form.field("kernel_size")
    param = next(p for p in LAYERS.get("Conv2d").params if p.name == "kernel_size")
    assert (kernel.minimum(), kernel.maximum()) == (param.min, param.max)
    assert kernel.toolTip() == param.help
    editor.add_layer("GELU")
    assert isinstance(editor.properties.form.field("approximate"), QComboBox)


def test_parameter_edit_is_one_undo_step_even_after_many_clicks(editor: LayerEditor, stack: QUndoStack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear", {"out_features": 10})]))
    editor.stack_view.select_row(0)
    spin = editor.properties.form.field("out_features")
    for _ in range(5):
        spin.stepBy(1)
    assert editor.model().layers[0].params["out_features"] == 15
    assert stack.count() == 1
    stack.undo()
    assert editor.model().layers[0].params["out_features"] == 10
    assert editor.properties.form.field("out_features").value() == 10  # the form follows the undo
    stack.redo()
    assert cell(editor, 0, LAYER) == "Linear  15"


def test_move_up_down_duplicate_with_undo(qtbot, editor: LayerEditor, stack: QUndoStack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear"), LayerSpec("ReLU"), LayerSpec("Dropout")]))
    editor.stack_view.select_row(2)
    qtbot.mouseClick(button(editor, "moveUpButton"), Qt.MouseButton.LeftButton)
    assert types(editor) == ["Linear", "Dropout", "ReLU"] and editor.current_path() == (1,)
    qtbot.mouseClick(button(editor, "moveUpButton"), Qt.MouseButton.LeftButton)
    assert types(editor) == ["Dropout", "Linear", "ReLU"]
    assert not button(editor, "moveUpButton").isEnabled()  # already at the top
    qtbot.mouseClick(button(editor, "moveDownButton"), Qt.MouseButton.LeftButton)
    assert types(editor) == ["Linear", "Dropout", "ReLU"]
    qtbot.mouseClick(button(editor, "duplicateButton"), Qt.MouseButton.LeftButton)
    assert types(editor) == ["Linear", "Dropout", "Dropout", "ReLU"] and editor.current_path() == (2,)
    for expected in (
        ["Linear", "Dropout", "ReLU"],
        ["Dropout", "Linear", "ReLU"],
        ["Linear", "Dropout", "ReLU"],
        ["Linear", "ReLU", "Dropout"],
    ):
        stack.undo()
        assert types(editor) == expected
    assert editor.current_path() == (2,)  # undo restores the selection of the time
    stack.redo()
    assert types(editor) == ["Linear", "Dropout", "ReLU"]


def test_drag_and_drop_reorders_and_inserts_from_the_palette(editor: LayerEditor, stack: QUndoStack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear"), LayerSpec("ReLU"), LayerSpec("Dropout")]))
    model = editor.stack_model
    mime = model.mimeData([model.index(0, LAYER)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex())  # drop below the last row
    assert types(editor) == ["ReLU", "Dropout", "Linear"]
    mime = model.mimeData([model.index(2, LAYER)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, model.index(0, LAYER))  # onto the first row
    assert types(editor) == ["Linear", "ReLU", "Dropout"]
    palette = editor.layer_palette
    mime = palette.mimeData([palette.item_for("BatchNorm1d")])
    assert model.dropMimeData(mime, Qt.DropAction.CopyAction, 1, 0, QModelIndex())
    assert types(editor) == ["Linear", "BatchNorm1d", "ReLU", "Dropout"]
    stack.undo()
    stack.undo()
    assert types(editor) == ["ReLU", "Dropout", "Linear"]


def send_drop(editor: LayerEditor, mime, y: int, action: Qt.DropAction) -> bool:
    """Deliver drag-enter, drag-move and drop events to the stack's viewport, as a real drag does."""
    viewport = editor.stack_view.viewport()
    pos = QPoint(100, y)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, action, mime, buttons, mods))
    QApplication.sendEvent(viewport, QDragMoveEvent(pos, action, mime, buttons, mods))
    drop = QDropEvent(QPointF(pos), action, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    return drop.isAccepted()


def test_simulated_drop_events_on_the_view(qtbot, editor: LayerEditor) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear"), LayerSpec("ReLU"), LayerSpec("Dropout")]))
    editor.show()
    qtbot.waitExposed(editor)
    model, view = editor.stack_model, editor.stack_view
    last = view.visualRect(model.index(2, LAYER))
    assert send_drop(editor, model.mimeData([model.index(0, LAYER)]), last.bottom() - 1, Qt.DropAction.MoveAction)
    assert types(editor) == ["ReLU", "Dropout", "Linear"]
    first = view.visualRect(model.index(0, LAYER))
    mime = editor.layer_palette.mimeData([editor.layer_palette.item_for("Flatten")])
    assert send_drop(editor, mime, first.top() + 1, Qt.DropAction.CopyAction)
    assert types(editor) == ["Flatten", "ReLU", "Dropout", "Linear"]
    editor.set_locked(True)
    assert not send_drop(editor, mime, first.top() + 1, Qt.DropAction.CopyAction)
    assert len(types(editor)) == 4


def test_delete_key_deletes_the_selected_layer(qtbot, editor: LayerEditor, stack: QUndoStack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear"), LayerSpec("ReLU"), LayerSpec("Dropout")]))
    editor.show()
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)
    view = editor.stack_view
    view.setFocus()
    editor.stack_view.select_row(1)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert types(editor) == ["Linear", "Dropout"] and editor.current_path() == (1,)
    assert stack.undoText() == "Delete ReLU"


def test_the_editor_owns_no_undo_keys(qtbot, editor: LayerEditor) -> None:
    # The window's Edit menu owns them (tests/ui/test_undo_keys.py presses them); a second owner is ambiguous.
    keys = {key.toString() for action in editor.findChildren(QAction) for key in action.shortcuts()}
    assert not keys & {"Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Y"}


def test_invalid_stack_marks_the_offending_row_and_names_it(qtbot, editor: LayerEditor) -> None:
    editor.set_model(
        ModelSpec(
            [LayerSpec("Linear", {"out_features": 32}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 10})]
        )
    )
    assert editor.is_valid() == (True, "")
    with qtbot.waitSignal(editor.validityChanged) as blocker:
        editor.set_input(MNIST, 10, "MNIST")
    ok, reason = blocker.args
    assert not ok and reason.startswith("Layer 1 (Linear)") and "Flatten" in reason
    assert cell(editor, 0, LAYER, Qt.ItemDataRole.BackgroundRole) is not None
    assert cell(editor, 0, LAYER, Qt.ItemDataRole.ToolTipRole) == reason
    assert cell(editor, 1, LAYER, Qt.ItemDataRole.BackgroundRole) is None
    assert reason in editor.findChild(QLabel, "stackStatus").text()
    with qtbot.waitSignal(editor.validityChanged) as blocker:
        editor.add_layer("Flatten", 0)
    assert blocker.args == [True, ""]


def test_wrong_output_count_marks_the_last_linear(editor: LayerEditor) -> None:
    editor.set_model(
        ModelSpec(
            [
                LayerSpec("Linear", {"out_features": 32}),
                LayerSpec("ReLU"),
                LayerSpec("Linear", {"out_features": 7}),
                LayerSpec("Softplus"),
            ]
        )
    )
    ok, reason = editor.is_valid()
    assert not ok and reason.startswith("Layer 3 (Linear)")
    assert editor.state().error_path == (2,)


def test_bad_setting_is_shown_on_its_field(editor: LayerEditor) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear", {"out_features": 0})]))
    editor.stack_view.select_row(0)
    ok, reason = editor.is_valid()
    assert not ok and "out features" in reason
    assert "out features" in editor.properties.form.error()


def test_empty_network_and_no_data(editor: LayerEditor) -> None:
    assert not editor.is_valid()[0] and "no layers" in editor.is_valid()[1]
    editor.set_input(None, None, "")
    editor.add_layer("Linear")
    assert editor.is_valid() == (False, "Choose a dataset so the network's shapes can be checked.")


def test_layer_and_network_initialisation(editor: LayerEditor, stack: QUndoStack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear", {"out_features": 10})]))
    editor.stack_view.select_row(0)
    combo = editor.findChild(QComboBox, "layerInitCombo")
    combo.setCurrentIndex(combo.findData("xavier_uniform"))
    assert editor.model().layers[0].init == "xavier_uniform"
    assert "init: Xavier/Glorot uniform" in cell(editor, 0, LAYER)
    network = editor.findChild(QComboBox, "networkInitCombo")
    network.setCurrentIndex(network.findData("kaiming_normal"))
    spec = editor.model()
    assert spec.init == "kaiming_normal" and spec.init_params["nonlinearity"] == "relu"
    assert editor.findChild(QComboBox, "param_nonlinearity") is not None  # the scheme's own settings
    stack.undo()
    assert editor.model().init == "default" and editor.model().init_params == {}
    assert network.currentData() == "default"
    stack.undo()
    assert editor.model().layers[0].init is None and combo.currentIndex() == 0


def test_frozen_and_learning_rate_factor_show_in_the_row(editor: LayerEditor) -> None:
    editor.set_model(
        ModelSpec(
            [LayerSpec("Linear", {"out_features": 32}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 10})]
        )
    )
    editor.stack_view.select_row(0)
    editor.properties.fine_tuning.findChild(QCheckBox, "param_frozen").setChecked(True)
    editor.properties.fine_tuning.field("lr_mult").setValue(0.1)
    assert cell(editor, 0, LAYER) == "Linear  32  ·  frozen  ·  lr ×0.1"
    assert editor.model().layers[0].frozen and editor.model().layers[0].lr_mult == pytest.approx(0.1)
    assert "(330 trainable)" in editor.findChild(QLabel, "totalParamsLabel").text()


def test_locked_editor_refuses_edits_and_says_why(qtbot, editor: LayerEditor, stack: QUndoStack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear", {"out_features": 10})]))
    editor.show()
    editor.stack_view.select_row(0)
    editor.set_locked(True)
    assert editor.findChild(QLabel, "lockNote").isVisible()
    assert not editor.layer_palette.isEnabled()
    assert not button(editor, "deleteButton").isEnabled()
    assert not editor.properties.form.field("out_features").isEnabled()
    editor.add_layer("ReLU")
    editor.delete()
    assert types(editor) == ["Linear"] and stack.count() == 0
    editor.set_locked(False)
    assert button(editor, "deleteButton").isEnabled() and not editor.findChild(QLabel, "lockNote").isVisible()


def test_model_is_a_copy_and_set_model_is_not_undoable(editor: LayerEditor, stack: QUndoStack) -> None:
    spec = ModelSpec([LayerSpec("Linear", {"out_features": 10})])
    editor.set_model(spec)
    spec.layers.clear()
    assert types(editor) == ["Linear"] and stack.count() == 0
    editor.model().layers.clear()
    assert types(editor) == ["Linear"]


def test_sparse_project_params_show_defaults_when_switching_rows(editor: LayerEditor) -> None:
    editor.set_model(
        ModelSpec([LayerSpec("Linear", {"out_features": 32, "bias": False}), LayerSpec("Linear", {"out_features": 10})])
    )
    editor.stack_view.select_row(0)
    assert not editor.properties.form.field("bias").isChecked()
    editor.stack_view.select_row(1)
    assert editor.properties.form.values() == {"out_features": 10, "bias": True}


def test_model_changed_only_for_edits_not_for_loading_or_new_data(qtbot, editor: LayerEditor) -> None:
    with qtbot.assertNotEmitted(editor.modelChanged):
        editor.set_model(ModelSpec([LayerSpec("Linear", {"out_features": 10})]))
        editor.set_input(MNIST, 10, "MNIST")
    with qtbot.waitSignal(editor.modelChanged):
        editor.add_layer("Flatten", 0)
    with qtbot.waitSignal(editor.modelChanged):
        editor.undo_stack.undo()


def test_choices_and_toggles_are_separate_undo_steps(editor: LayerEditor, stack: QUndoStack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear", {"out_features": 10})]))
    editor.stack_view.select_row(0)
    network = editor.findChild(QComboBox, "networkInitCombo")
    network.setCurrentIndex(network.findData("kaiming_normal"))
    network.setCurrentIndex(network.findData("xavier_uniform"))
    editor.properties.form.field("bias").setChecked(False)
    assert stack.count() == 3
    stack.undo()
    stack.undo()
    assert editor.model().init == "kaiming_normal"


def test_enter_in_the_palette_adds_the_current_type(qtbot, editor: LayerEditor) -> None:
    editor.layer_palette.select_type("Dropout")
    qtbot.keyClick(editor.layer_palette, Qt.Key.Key_Return)
    assert types(editor) == ["Dropout"]


def test_shape_problem_greys_later_rows_and_shows_in_properties(editor: LayerEditor) -> None:
    editor.set_input(MNIST, 10, "MNIST")
    editor.set_model(
        ModelSpec(
            [
                LayerSpec("Conv2d", {"kernel_size": 5}),
                LayerSpec("MaxPool2d", {"kernel_size": 4}),
                LayerSpec("Conv2d", {"kernel_size": 9}),
                LayerSpec("Flatten"),
                LayerSpec("Linear"),
            ]
        )
    )
    ok, reason = editor.is_valid()
    assert not ok and reason.startswith("Layer 3 (Conv2d)")
    assert editor.state().error_path == (2,)
    assert cell(editor, 2, OUTPUT) == "—" and cell(editor, 3, OUTPUT) == ""
    assert "Not checked" in cell(editor, 3, LAYER, Qt.ItemDataRole.ToolTipRole)
    assert editor.findChild(QLabel, "totalParamsLabel").text() == "Total: unknown until the marked layer is fixed"
    editor.stack_view.select_row(2)
    assert editor.properties.form.error() == reason
    editor.stack_view.select_row(1)
    assert editor.properties.form.error() == ""
