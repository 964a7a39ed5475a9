"""The stack as a tree: one row per layer with its type and key settings, output shape and parameter count;
a block's rows below it (a block row shows totals).

The Qt model only displays :class:`RowView`s; it never edits the spec. Drops (rows dragged to a new place,
into or out of a block, or a type dragged from the palette) become requests that the editor executes as
undo commands, so drag and drop goes through exactly the same path as the buttons.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon
from PySide6.QtWidgets import QApplication, QStyle, QWidget

from studio.core.tree import Path
from studio.ui.widgets.layer_editor.operations import outermost
from studio.ui.widgets.layer_editor.palette import LAYER_TYPE_MIME
from studio.ui.widgets.layer_editor.rows import RowView

ROW_MIME = "application/x-studio-layer-rows"  # JSON: the dragged rows' paths
COLUMNS = ("#", "Layer", "Output", "Parameters")
NUMBER, LAYER, OUTPUT, PARAMS = range(len(COLUMNS))
ERROR_BACKGROUND = QColor("#fde4e4")
ERROR_TEXT = QColor("#b71c1c")
MUTED_TEXT = QColor("#8a8f98")
BLOCK_TOTAL_TIP = "The block's total: its rows (every copy of a Repeat) and its own shortcut projection."
Index = QModelIndex | QPersistentModelIndex


def _layer_text(row: RowView) -> str:
    text = f"{row.type}  {row.summary}".rstrip()
    return "  ·  ".join((text, *((row.contents,) if row.contents else ()), *row.badges))


def _params_text(row: RowView) -> str:
    return f"{row.params:,}" if row.params is not None else ""


# Column -> how its text is made; a registry instead of an if/elif over columns.
_TEXT: dict[int, Callable[[RowView], str]] = {
    NUMBER: lambda row: row.number,
    LAYER: _layer_text,
    OUTPUT: lambda row: row.output,
    PARAMS: _params_text,
}


class StackModel(QAbstractItemModel):
    """Read-only tree of :class:`RowView`; emits move/insert requests for drops.

    An index's internal id is the row's place in a depth-first list, so a parent is found without pointers.
    """

    moveRequested = Signal(object, object, int)  # the rows' paths, the list's parent path, the row to go before
    insertRequested = Signal(str, object)  # layer type, the path it goes to

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._top: list[RowView] = []
        self._nodes: list[RowView] = []
        self._ids: dict[Path, int] = {}
        self.locked = False

    def set_rows(self, rows: list[RowView]) -> None:
        self.beginResetModel()
        self._top = list(rows)
        self._nodes, self._ids = [], {}
        stack = list(reversed(rows))
        while stack:
            row = stack.pop()
            self._ids[row.path] = len(self._nodes)
            self._nodes.append(row)
            stack.extend(reversed(row.children))
        self.endResetModel()

    def rows(self) -> list[RowView]:
        """Every row, depth first."""
        return list(self._nodes)

    def row_view(self, path: Path) -> RowView | None:
        node = self._ids.get(tuple(path))
        return self._nodes[node] if node is not None else None

    def index_of(self, path: Path, column: int = LAYER) -> QModelIndex:
        """The index of the row at ``path`` (invalid when there is none)."""
        node = self._ids.get(tuple(path))
        return self.createIndex(path[-1], column, node) if node is not None else QModelIndex()

    def path_of(self, index: Index) -> Path:
        return self._nodes[index.internalId()].path if index.isValid() else ()

    def _siblings(self, parent: Index) -> Sequence[RowView]:
        return self._nodes[parent.internalId()].children if parent.isValid() else self._top

    # -- QAbstractItemModel --------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008 (Qt signature)
        siblings = self._siblings(parent)
        if not (0 <= row < len(siblings) and 0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, self._ids[siblings[row].path])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        path = self._nodes[index.internalId()].path
        return self.index_of(path[:-1], 0) if len(path) > 1 else QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._siblings(parent))

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        getter = _ROLES.get(role)
        return getter(self._nodes[index.internalId()], index.column()) if getter is not None else None

    def flags(self, index: Index) -> Qt.ItemFlag:
        drop = Qt.ItemFlag.NoItemFlags if self.locked else Qt.ItemFlag.ItemIsDropEnabled
        if not index.isValid():
            return drop
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.locked:
            return flags
        # Only blocks take a drop *onto* them (into their rows); on other rows a drop goes above or below.
        onto = drop if self._nodes[index.internalId()].block else Qt.ItemFlag.NoItemFlags
        return flags | Qt.ItemFlag.ItemIsDragEnabled | onto

    # -- drag and drop --------------------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return [ROW_MIME, LAYER_TYPE_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        paths = outermost([self.path_of(index) for index in indexes if index.isValid()])
        if paths:
            mime.setData(ROW_MIME, json.dumps([list(p) for p in paths]).encode())
        return mime

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        if self.locked:
            return False
        if data.hasFormat(LAYER_TYPE_MIME):
            return True
        if not data.hasFormat(ROW_MIME):
            return False
        target = self.path_of(parent)
        if target and not self._nodes[parent.internalId()].block:
            target = target[:-1]  # onto a plain row: into its list
        return not any(target[:len(p)] == p for p in _dragged(data))  # a block cannot go into itself

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        """Turn a drop before row ``row`` of ``parent`` (onto a block: at the end of its rows) into a request."""
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        target = self.path_of(parent)
        if row < 0 and target and not self._nodes[parent.internalId()].block:
            target, row = target[:-1], target[-1]  # onto a plain row: before it
        elif row < 0:
            row = len(self._siblings(parent))
        if data.hasFormat(LAYER_TYPE_MIME):
            self.insertRequested.emit(bytes(data.data(LAYER_TYPE_MIME).data()).decode(), (*target, row))
        else:
            self.moveRequested.emit(_dragged(data), target, row)
        return True

    def removeRows(self, row: int, count: int, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        """Refuse: after an accepted move the view asks to remove the source rows, but the move command
        has already moved the layers in the spec, so there is nothing left to remove."""
        return False


def _dragged(data: QMimeData) -> list[Path]:
    return [tuple(p) for p in json.loads(bytes(data.data(ROW_MIME).data()).decode())]


def _display(row: RowView, column: int) -> str:
    return _TEXT[column](row)


def _tooltip(row: RowView, column: int) -> str:
    if row.error:
        return row.error
    if row.inner_error:
        return f"A row inside this block has a problem: {row.inner_error}"
    if row.unchecked:
        return "Not checked: fix the highlighted layer above first."
    if column == OUTPUT:
        return row.shape_tip
    return BLOCK_TOTAL_TIP if column == PARAMS and row.block else ""


def _background(row: RowView, _column: int) -> QBrush | None:
    return QBrush(ERROR_BACKGROUND) if row.error else None


def _foreground(row: RowView, column: int) -> QBrush | None:
    if row.error:
        return QBrush(ERROR_TEXT)
    if row.unchecked or column == NUMBER:
        return QBrush(MUTED_TEXT)
    return None


def _font(row: RowView, column: int) -> QFont | None:
    bold = (column == LAYER and bool(row.error)) or (row.block and column in (LAYER, PARAMS))
    if not bold:
        return None
    font = QFont()
    font.setBold(True)
    return font


def _decoration(row: RowView, column: int) -> QIcon | None:
    if column != LAYER or not (row.error or row.inner_error):
        return None
    return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)


def _alignment(_row: RowView, column: int) -> Qt.AlignmentFlag:
    right = column in (OUTPUT, PARAMS)
    horizontal = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
    return horizontal | Qt.AlignmentFlag.AlignVCenter


def _accessible(row: RowView, column: int) -> str:
    text = _display(row, column)
    if column != LAYER:
        return text
    if row.error:
        return f"{row.number} {text}. Error: {row.error}"
    return f"{row.number} {text}. A row inside has a problem." if row.inner_error else f"{row.number} {text}"


_ROLES: dict[int, Callable[[RowView, int], Any]] = {
    Qt.ItemDataRole.DisplayRole: _display,
    Qt.ItemDataRole.ToolTipRole: _tooltip,
    Qt.ItemDataRole.BackgroundRole: _background,
    Qt.ItemDataRole.ForegroundRole: _foreground,
    Qt.ItemDataRole.FontRole: _font,
    Qt.ItemDataRole.DecorationRole: _decoration,
    Qt.ItemDataRole.TextAlignmentRole: _alignment,
    Qt.ItemDataRole.AccessibleTextRole: _accessible,
}
