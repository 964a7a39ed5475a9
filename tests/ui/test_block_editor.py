"""The layer editor as a tree: blocks built by clicking and by drops, rows nested, wrapped and unwrapped, every
step undone and redone; folding, totals, errors on nested rows, block settings in the properties form."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import QApplication, QLabel, QToolButton

from studio.core.project import LayerSpec, ModelSpec
from studio.ui.widgets.layer_editor import LayerEditor
from studio.ui.widgets.layer_editor.stack import BLOCK_TOTAL_TIP, LAYER, OUTPUT, PARAMS
from tests.ui.conftest import open_editor

DIGITS = (64,)
LINEAR = 64 * 64 + 64


@pytest.fixture
def editor(qtbot, stack: QUndoStack) -> LayerEditor:
    widget = open_editor(qtbot, stack, DIGITS, 10, "digits")
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def tree(layers: list[LayerSpec]) -> list:
    """A network as nested types: ``["Linear", ("Residual", ["Linear", "ReLU"])]``."""
    return [(layer.type, tree(layer.layers)) if layer.layers or layer.type in _BLOCKS else layer.type
            for layer in layers]


_BLOCKS = {"Residual", "Parallel", "Repeat"}


def shown(editor: LayerEditor) -> list:
    return tree(editor.model().layers)


def cell(editor: LayerEditor, path: tuple[int, ...], column: int, role: int = Qt.ItemDataRole.DisplayRole):
    model = editor.stack_model
    return model.data(model.index_of(path, column), role)


def click(qtbot, editor: LayerEditor, name: str) -> None:
    button = editor.findChild(QToolButton, name)
    assert button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def add_by_button(qtbot, editor: LayerEditor, type_name: str) -> None:
    editor.layer_palette.select_type(type_name)
    click(qtbot, editor, "addLayerButton")


def add_by_double_click(qtbot, editor: LayerEditor, type_name: str) -> None:
    palette = editor.layer_palette
    item = palette.item_for(type_name)
    palette.scrollToItem(item)
    center = palette.visualItemRect(item).center()
    qtbot.mouseClick(palette.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(palette.viewport(), Qt.MouseButton.LeftButton, pos=center)


def drop_on_row(editor: LayerEditor, mime, path: tuple[int, ...], action: Qt.DropAction) -> bool:
    """Drag-enter, drag-move and drop on the middle of the row at ``path`` (onto it), as a real drag does."""
    view = editor.stack_view
    view.scrollTo(editor.stack_model.index_of(path))
    pos = view.visualRect(editor.stack_model.index_of(path)).center()
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    viewport = view.viewport()
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, action, mime, buttons, mods))
    QApplication.sendEvent(viewport, QDragMoveEvent(pos, action, mime, buttons, mods))
    drop = QDropEvent(QPointF(pos), action, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    return drop.isAccepted()


def test_build_nest_wrap_unwrap_by_clicking_and_dropping_with_undo_and_redo(qtbot, editor, stack) -> None:
    steps: list[list[LayerSpec]] = [editor.model().layers]

    def step(expected: list) -> None:
        assert shown(editor) == expected
        steps.append(editor.model().layers)

    add_by_double_click(qtbot, editor, "Linear")
    step(["Linear"])
    add_by_button(qtbot, editor, "Residual")  # goes below the selected Linear, and is selected
    step(["Linear", ("Residual", [])])
    assert editor.current_path() == (1,)
    add_by_double_click(qtbot, editor, "Linear")  # the selected block is open: the row goes into it
    step(["Linear", ("Residual", ["Linear"])])
    assert editor.current_path() == (1, 0)
    add_by_button(qtbot, editor, "ReLU")  # below the selected row, inside the block
    step(["Linear", ("Residual", ["Linear", "ReLU"])])
    palette = editor.layer_palette
    assert drop_on_row(editor, palette.mimeData([palette.item_for("Dropout")]), (1,), Qt.DropAction.CopyAction)
    step(["Linear", ("Residual", ["Linear", "ReLU", "Dropout"])])
    editor.stack_view.select_row(None)
    add_by_button(qtbot, editor, "Linear")  # nothing selected: at the end of the stack
    step(["Linear", ("Residual", ["Linear", "ReLU", "Dropout"]), "Linear"])
    model = editor.stack_model
    assert drop_on_row(editor, model.mimeData([model.index_of((2,))]), (1,), Qt.DropAction.MoveAction)  # nest it
    step(["Linear", ("Residual", ["Linear", "ReLU", "Dropout", "Linear"])])
    editor.stack_view.select_paths([(1, 0), (1, 1)])
    click(qtbot, editor, "wrapButton")
    step(["Linear", ("Residual", [("Residual", ["Linear", "ReLU"]), "Dropout", "Linear"])])
    assert editor.selection() == ((1, 0),)
    click(qtbot, editor, "unwrapButton")
    step(["Linear", ("Residual", ["Linear", "ReLU", "Dropout", "Linear"])])
    assert editor.selection() == ((1, 0), (1, 1))
    assert stack.count() == len(steps) - 1
    for expected in reversed(steps[:-1]):
        stack.undo()
        assert editor.model().layers == expected
    for expected in steps[1:]:
        stack.redo()
        assert editor.model().layers == expected


def test_rows_move_out_of_a_block_and_back_in(qtbot, editor, stack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear"), LayerSpec("Residual", layers=[LayerSpec("ReLU"),
                                                                                 LayerSpec("Dropout")])]))
    editor.stack_view.select_row((1, 0))
    click(qtbot, editor, "moveUpButton")  # at the top of its block: it leaves it, above the block
    assert shown(editor) == ["Linear", "ReLU", ("Residual", ["Dropout"])] and editor.current_path() == (1,)
    editor.stack_view.select_row((2, 0))
    click(qtbot, editor, "moveDownButton")
    assert shown(editor) == ["Linear", "ReLU", ("Residual", []), "Dropout"]
    model = editor.stack_model
    mime = model.mimeData([model.index_of((1,)), model.index_of((3,))])  # two rows dragged together
    assert drop_on_row(editor, mime, (2,), Qt.DropAction.MoveAction)
    assert shown(editor) == ["Linear", ("Residual", ["ReLU", "Dropout"])]
    assert editor.selection() == ((1, 0), (1, 1))
    assert not drop_on_row(editor, model.mimeData([model.index_of((1,))]), (1, 0), Qt.DropAction.MoveAction)
    assert shown(editor) == ["Linear", ("Residual", ["ReLU", "Dropout"])]  # a block does not go into itself
    stack.undo()
    stack.undo()
    stack.undo()
    assert shown(editor) == ["Linear", ("Residual", ["ReLU", "Dropout"])]


def test_a_block_folds_and_stays_folded_through_edits_and_undo(qtbot, editor, stack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Residual", layers=[LayerSpec("Linear"), LayerSpec("ReLU")]),
                                LayerSpec("Linear", {"out_features": 10})]))
    view, model = editor.stack_view, editor.stack_model
    assert view.isExpanded(model.index_of((0,), 0))  # blocks open when a network is loaded
    view.select_row((0,))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert not view.isExpanded(model.index_of((0,), 0)) and editor.document.folded == {(0,)}
    assert view.visualRect(model.index_of((0, 0))).isEmpty()  # its rows are hidden
    add_by_button(qtbot, editor, "Dropout")  # a folded block is one row: the new one goes below it
    assert shown(editor) == [("Residual", ["Linear", "ReLU"]), "Dropout", "Linear"]
    view.select_row((2,))
    editor.add_layer("Flatten", 0)  # above the block: the fold moves with it
    assert editor.document.folded == {(1,)} and not view.isExpanded(model.index_of((1,), 0))
    stack.undo()
    assert editor.document.folded == {(0,)} and not view.isExpanded(model.index_of((0,), 0))
    view.select_row((0,))
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.isExpanded(model.index_of((0,), 0)) and editor.document.folded == set()
    stack.redo()
    assert view.isExpanded(model.index_of((1,), 0)) and editor.document.folded == set()


def test_block_rows_show_totals_and_every_row_its_shape(editor) -> None:
    residual = LayerSpec("Residual", layers=[LayerSpec("Linear", {"out_features": 32}), LayerSpec("ReLU")])
    repeat = LayerSpec("Repeat", {"times": 3}, layers=[LayerSpec("Linear", {"out_features": 32})])
    parallel = LayerSpec("Parallel", {"join": "concat"}, layers=[LayerSpec("Linear", {"out_features": 6}),
                                                                   LayerSpec("Linear", {"out_features": 4})])
    editor.set_model(ModelSpec([residual, repeat, parallel]))
    assert editor.is_valid() == (True, "")
    projection = 64 * 32 + 32  # the rows make 32 values of 64: the shortcut projects
    assert cell(editor, (0,), PARAMS) == f"{2 * (64 * 32 + 32):,}" == f"{64 * 32 + 32 + projection:,}"
    assert cell(editor, (0, 0), PARAMS) == f"{64 * 32 + 32:,}" and cell(editor, (0, 1), PARAMS) == "0"
    assert cell(editor, (0,), OUTPUT) == "32" and cell(editor, (0, 0), OUTPUT) == "32"
    assert cell(editor, (0,), PARAMS, Qt.ItemDataRole.ToolTipRole) == BLOCK_TOTAL_TIP
    assert cell(editor, (1,), PARAMS) == f"{3 * (32 * 32 + 32):,}"  # every copy counts
    assert cell(editor, (1,), LAYER) == "Repeat  ×3  ·  1 row"
    assert cell(editor, (2,), LAYER) == "Parallel  concat  ·  2 branches"
    assert cell(editor, (2,), OUTPUT) == "10" and cell(editor, (2, 1), OUTPUT) == "4"
    total = 2 * (64 * 32 + 32) + 3 * (32 * 32 + 32) + (32 * 6 + 6) + (32 * 4 + 4)
    assert editor.findChild(QLabel, "totalParamsLabel").text() == f"Total: {total:,} parameters"


def test_a_problem_inside_a_block_shows_on_the_nested_row(qtbot, editor) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear"), LayerSpec("Residual", layers=[
        LayerSpec("Linear"), LayerSpec("Conv2d"), LayerSpec("ReLU")]), LayerSpec("Linear", {"out_features": 10})]))
    ok, reason = editor.is_valid()
    assert not ok and reason.startswith("Block 2 › row 2 (Conv2d)")
    assert editor.state().error_path == (1, 1)
    assert cell(editor, (1, 1), LAYER, Qt.ItemDataRole.ToolTipRole) == reason
    assert cell(editor, (1, 1), LAYER, Qt.ItemDataRole.BackgroundRole) is not None
    assert cell(editor, (1,), LAYER, Qt.ItemDataRole.DecorationRole) is not None  # the block says: inside
    assert cell(editor, (1,), LAYER, Qt.ItemDataRole.BackgroundRole) is None
    assert cell(editor, (1, 0), OUTPUT) == "64"  # the row above it passed: its shape shows
    assert "Not checked" in cell(editor, (1, 2), LAYER, Qt.ItemDataRole.ToolTipRole)
    editor.stack_view.select_row((1, 1))
    assert editor.properties.form.error() == reason
    editor.stack_view.collapse(editor.stack_model.index_of((1,), 0))
    editor.stack_view.select_row((1,))
    editor.delete()  # the block goes: the network is fine
    assert editor.is_valid() == (True, "")
    editor.undo_stack.undo()  # the problem is back, and its block opens to show it
    assert editor.stack_view.isExpanded(editor.stack_model.index_of((1,), 0))


def test_a_blocks_own_problem_shows_its_rows_shapes(editor) -> None:
    editor.set_model(ModelSpec([LayerSpec("Residual", {"projection": "never"}, layers=[
        LayerSpec("Linear", {"out_features": 32}), LayerSpec("ReLU")]), LayerSpec("Linear", {"out_features": 10})]))
    ok, reason = editor.is_valid()
    assert not ok and "projection" in reason and editor.state().error_path == (0,)
    assert cell(editor, (0,), OUTPUT) == "—"
    assert [cell(editor, (0, i), OUTPUT) for i in (0, 1)] == ["32", "32"]


def test_block_settings_and_nested_rows_in_the_properties_form(editor, stack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Repeat", {"times": 2}, layers=[LayerSpec("Linear")]),
                                LayerSpec("Parallel", layers=[LayerSpec("Linear", {"out_features": 5}),
                                                              LayerSpec("Linear", {"out_features": 5})])]))
    editor.stack_view.select_row((0,))
    assert editor.properties.findChild(QLabel, "layerPropertiesTitle").text() == "Layer 1 (Repeat)"
    editor.properties.form.field("times").setValue(4)
    assert editor.model().layers[0].params["times"] == 4
    assert cell(editor, (0,), PARAMS) == f"{4 * LINEAR:,}"
    assert "values" not in _init_choices(editor)  # a block's rows start from its scheme; typed values are one row's
    editor.stack_view.select_row((1,))
    join = editor.properties.form.field("join")
    join.setCurrentIndex(join.findText("sum"))
    assert editor.model().layers[1].params["join"] == "sum" and cell(editor, (1,), OUTPUT) == "5"
    editor.stack_view.select_row((1, 1))
    assert editor.properties.findChild(QLabel, "layerPropertiesTitle").text() == "Block 2 › row 2 (Linear)"
    assert "values" in _init_choices(editor)
    editor.properties.form.field("out_features").setValue(10)
    assert editor.is_valid()[0] is False and "join sum" in editor.is_valid()[1]
    assert editor.model().layers[1].layers[1].params["out_features"] == 10
    stack.undo()
    assert editor.model().layers[1].layers[1].params["out_features"] == 5 and editor.current_path() == (1, 1)
    stack.undo()
    stack.undo()
    assert editor.model().layers[0].params["times"] == 2


def _init_choices(editor: LayerEditor) -> list[str]:
    combo = editor.properties.init_combo
    return [combo.itemData(i) for i in range(combo.count())]


def test_wrap_and_unwrap_follow_the_selection_and_the_lock(qtbot, editor) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear"), LayerSpec("ReLU"),
                                LayerSpec("Parallel", layers=[LayerSpec("Linear"), LayerSpec("Linear")])]))
    actions = editor.edit_actions
    menu = [action.text() for action in editor.stack_view.actions() if not action.isSeparator()]
    assert {"Wrap in Residual", "Wrap in Parallel", "Wrap in Repeat", "Unwrap"} <= set(menu)
    editor.stack_view.select_paths([(0,), (1,)])
    assert actions.wrap["Residual"].isEnabled() and not actions.unwrap.isEnabled()
    assert "2 layers selected" in editor.findChild(QLabel, "layerPropertiesHint").text()
    editor.stack_view.select_paths([(0,), (2,)])  # not neighbours
    assert not actions.wrap["Residual"].isEnabled() and not actions.duplicate.isEnabled()
    assert actions.delete.isEnabled()
    editor.stack_view.select_paths([(1,), (2, 0)])  # not one list
    assert not actions.wrap["Parallel"].isEnabled()
    editor.stack_view.select_paths([(2,)])
    assert actions.unwrap.isEnabled()
    editor.set_locked(True)
    assert not actions.unwrap.isEnabled() and not actions.wrap["Residual"].isEnabled()
    editor.set_locked(False)
    editor.stack_view.select_paths([(0,), (1,)])
    editor.stack_view.setFocus()
    qtbot.keyClick(editor.stack_view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert shown(editor) == [("Residual", ["Linear", "ReLU"]), ("Parallel", ["Linear", "Linear"])]
    actions.wrap["Repeat"].trigger()
    assert shown(editor) == [("Repeat", [("Residual", ["Linear", "ReLU"])]), ("Parallel", ["Linear", "Linear"])]
    assert editor.model().layers[0].params == {"times": 2}


def test_several_rows_delete_duplicate_and_move_together(qtbot, editor, stack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear"), LayerSpec("ReLU"), LayerSpec("Dropout"), LayerSpec("Tanh")]))
    editor.stack_view.select_paths([(1,), (2,)])
    click(qtbot, editor, "duplicateButton")
    assert shown(editor) == ["Linear", "ReLU", "Dropout", "ReLU", "Dropout", "Tanh"]
    assert editor.selection() == ((3,), (4,))
    click(qtbot, editor, "moveUpButton")
    assert shown(editor) == ["Linear", "ReLU", "ReLU", "Dropout", "Dropout", "Tanh"]
    editor.stack_view.select_paths([(0,), (5,)])
    click(qtbot, editor, "deleteButton")
    assert shown(editor) == ["ReLU", "ReLU", "Dropout", "Dropout"]
    stack.undo()
    assert shown(editor) == ["Linear", "ReLU", "ReLU", "Dropout", "Dropout", "Tanh"]
    assert editor.selection() == ((0,), (5,))


def test_a_point_on_a_plain_row_drops_before_it(editor) -> None:
    editor.set_model(ModelSpec([LayerSpec("Linear"), LayerSpec("Residual", layers=[LayerSpec("ReLU")])]))
    view, model = editor.stack_view, editor.stack_model
    rect = view.visualRect(model.index_of((1, 0)))
    palette = editor.layer_palette
    mime = palette.mimeData([palette.item_for("Dropout")])
    pos = QPoint(rect.center().x(), rect.top() + 1)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods),
                  QDragMoveEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods),
                  QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, buttons, mods)):
        QApplication.sendEvent(view.viewport(), event)
    assert shown(editor) == ["Linear", ("Residual", ["Dropout", "ReLU"])]


def test_a_row_dragged_out_of_a_block_onto_the_lower_half_of_a_row_lands_below_it(editor, stack) -> None:
    editor.set_model(ModelSpec([LayerSpec("Residual", layers=[LayerSpec("Linear"), LayerSpec("ReLU")]),
                                LayerSpec("Linear", {"out_features": 10})]))
    model = editor.stack_model
    assert drop_on_row(editor, model.mimeData([model.index_of((0, 1))]), (1,), Qt.DropAction.MoveAction)
    assert shown(editor) == [("Residual", ["Linear"]), "Linear", "ReLU"]  # Qt: the middle counts as below
    assert editor.selection() == ((2,),)
    stack.undo()
    assert shown(editor) == [("Residual", ["Linear", "ReLU"]), "Linear"]
