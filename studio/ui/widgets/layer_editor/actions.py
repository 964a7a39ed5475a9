"""The editor's commands as QActions: shared by its buttons, its keys and the stack's context menu, enabled
only when they apply to the selection (and never while training runs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QToolButton, QWidget

from studio.core.layers import LAYERS
from studio.core.tree import is_block, row_at
from studio.ui.widgets.layer_editor import operations as ops
from studio.ui.widgets.layer_editor.commands import ModelDocument
from studio.ui.widgets.layer_editor.palette import LayerPalette
from studio.ui.widgets.layer_editor.stack_view import StackView

# The block type that "Wrap" on the button row and Ctrl+G make (the others are in the context menu).
MAIN_BLOCK = "Residual"
SP = QStyle.StandardPixmap


class Editor(Protocol):
    """What the actions need of the editor (``LayerEditor``): its parts, its state and its edits."""

    document: ModelDocument
    layer_palette: LayerPalette
    stack_view: StackView
    locked: bool

    def selection(self) -> ops.Selection: ...
    def add_current_type(self) -> None: ...
    def move_up(self) -> None: ...
    def move_down(self) -> None: ...
    def duplicate(self) -> None: ...
    def delete(self) -> None: ...
    def wrap(self, block_type: str) -> None: ...
    def unwrap(self) -> None: ...


class EditorActions(QObject):
    """Actions by role (``delete``, ``wrap["Residual"]``, ...) and the buttons that show them; ``widget`` is
    the editor's widget (where their keys work). Undo and redo have no keys here: the window's Edit menu owns
    Ctrl+Z / Ctrl+Shift+Z for the one undo stack (two actions with one key are ambiguous, and neither fires)."""

    def __init__(self, editor: Editor, widget: QWidget) -> None:
        super().__init__(widget)
        self.editor = editor
        self.buttons: dict[str, QToolButton] = {}
        self.add = self._action("addLayerButton", "Add", editor.add_current_type,
                                "Add the chosen layer type below the selected row, or into the selected open block")
        self.move_up = self._action("moveUpButton", "Up", editor.move_up,
                                    "Move the selected layers up (out of their block at its top)", "Alt+Up",
                                    SP.SP_ArrowUp)
        self.move_down = self._action("moveDownButton", "Down", editor.move_down,
                                      "Move the selected layers down (out of their block at its bottom)", "Alt+Down",
                                      SP.SP_ArrowDown)
        self.duplicate = self._action("duplicateButton", "Duplicate", editor.duplicate,
                                      "Insert a copy of the selected layers below them", "Ctrl+D")
        self.delete = self._action("deleteButton", "Delete", editor.delete, "Delete the selected layers (Del)",
                                   QKeySequence.StandardKey.Delete, SP.SP_TrashIcon)
        self.wrap = {name: self._wrap_action(name) for name, kind in LAYERS.items() if kind.block is not None}
        self.unwrap = self._action("unwrapButton", "Unwrap", editor.unwrap,
                                   "Replace the selected block by its rows (its own settings go)", "Ctrl+Shift+G")
        self._fill_context_menu()

    def _action(self, name: str, text: str, slot: Callable[[], Any], tip: str, key: Any = None,
                icon: QStyle.StandardPixmap | None = None) -> QAction:
        """An action with its button (objectName ``name``); keys work anywhere in the editor."""
        button = _button(name, text, tip, icon)
        action = QAction(button.icon(), text, self)
        action.setToolTip(tip)
        if key is not None:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda: slot())
        button.setDefaultAction(action)
        button.setAccessibleName(text)
        self.buttons[name] = button
        return action

    def _wrap_action(self, block_type: str) -> QAction:
        tip = f"Put the selected neighbouring layers into a new {block_type} block"
        if block_type == MAIN_BLOCK:
            action = self._action("wrapButton", f"Wrap in {block_type}", lambda: self.editor.wrap(block_type), tip,
                                  "Ctrl+G")
            action.setIconText("Wrap")  # the button's text; menus show the whole name
            return action
        action = QAction(f"Wrap in {block_type}", self)
        action.setToolTip(tip)
        action.triggered.connect(lambda: self.editor.wrap(block_type))
        return action

    def _fill_context_menu(self) -> None:
        view = self.editor.stack_view
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for action in (self.move_up, self.move_down, self.duplicate, self.delete, None, *self.wrap.values(),
                       self.unwrap):
            if action is None:
                action = QAction(self)
                action.setSeparator(True)
            view.addAction(action)

    def sync(self) -> None:
        """Enable what applies: the selection must be neighbours of one list to move, duplicate or wrap them,
        and one block to unwrap."""
        editor = self.editor
        layers = editor.document.spec.layers
        paths = editor.selection()
        editable = not editor.locked
        run = editable and ops.sibling_run(paths) is not None
        self.add.setEnabled(editable and editor.layer_palette.current_type() is not None)
        self.move_up.setEnabled(run and ops.can_move(layers, paths, -1))
        self.move_down.setEnabled(run and ops.can_move(layers, paths, +1))
        self.duplicate.setEnabled(run)
        self.delete.setEnabled(editable and bool(paths))
        for action in self.wrap.values():
            action.setEnabled(run)
        self.unwrap.setEnabled(editable and len(paths) == 1 and is_block(row_at(layers, paths[0])))


def _button(name: str, text: str, tip: str, icon: QStyle.StandardPixmap | None = None) -> QToolButton:
    button = QToolButton()
    button.setObjectName(name)
    button.setAccessibleName(text)
    button.setToolTip(tip)
    button.setText(text)
    if icon is not None:
        button.setIcon(button.style().standardIcon(icon))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    else:
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button
