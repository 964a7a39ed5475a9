"""Ctrl+Z and Ctrl+Shift+Z work from the first moment, pressed as keys (issue 15, point 1).

The window's Edit > Undo/Redo are the only owners of the keys for the one undo stack; before,
the layer editor had its own and the two collided ("Ambiguous shortcut overload: Ctrl+Z").
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from studio.core.project import LayerSpec, ModelSpec
from tests.ui.conftest import open_window, tiny_project

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def _types(window) -> list[str]:
    return [layer.type for layer in window.editor.model().layers]


def test_undo_and_redo_keys_work_right_after_launch(qtbot, qtlog, host, temp_settings) -> None:
    project = tiny_project()
    project.model = ModelSpec([LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 10})])
    window = open_window(qtbot, host, project)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert window.tabs.currentIndex() == 0  # the Network tab, never left
    view = window.editor.stack_view
    view.setFocus()
    view.select_row(0)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert _types(window) == ["Linear"]
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert _types(window) == ["Flatten", "Linear"]
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL | SHIFT)
    assert _types(window) == ["Linear"]
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL)
    qtbot.keyClick(view, Qt.Key.Key_Y, CTRL)
    assert _types(window) == ["Linear"]
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)  # from anywhere in the window, not only the editor
    assert _types(window) == ["Flatten", "Linear"]
    assert window.current_project().model.layers[0].type == "Flatten"  # the document follows
    assert not [m for m in qtlog.records if "Ambiguous shortcut" in m.message]


def test_each_key_has_one_owner_in_the_window(qtbot, host, temp_settings) -> None:
    window = open_window(qtbot, host, tiny_project())
    owners = Counter(
        key.toString() for action in window.findChildren(QAction) for key in action.shortcuts()
        if action.shortcutContext() != Qt.ShortcutContext.WidgetWithChildrenShortcut
    )
    assert owners["Ctrl+Z"] == 1 and owners["Ctrl+Shift+Z"] == 1
    assert [key for key, count in owners.items() if count > 1] == []
