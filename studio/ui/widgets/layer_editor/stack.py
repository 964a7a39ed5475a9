"""The stack table: one row per layer with its type and key settings, output shape and parameter count.

The Qt model only displays :class:`RowView`s; it never edits the spec. Drops (a row dragged to a new
place, or a type dragged from the palette) are turned into requests that the editor executes as undo
commands, so drag and drop goes through exactly the same path as the buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QStyle, QTableView, QWidget

from studio.ui.widgets.layer_editor.palette import LAYER_TYPE_MIME
from studio.ui.widgets.layer_editor.rows import RowView

ROW_MIME = "application/x-studio-layer-row"
COLUMNS = ("#", "Layer", "Output", "Parameters")
NUMBER, LAYER, OUTPUT, PARAMS = range(len(COLUMNS))
ERROR_BACKGROUND = QColor("#fde4e4")
ERROR_TEXT = QColor("#b71c1c")
Index = QModelIndex | QPersistentModelIndex


def _layer_text(row: RowView) -> str:
    text = f"{row.type}  {row.summary}".rstrip()
    return "  ·  ".join((text, *row.badges))


def _params_text(row: RowView) -> str:
    return f"{row.params:,}" if row.params is not None else ""


# Column -> how its text is made; a registry instead of an if/elif over columns.
_TEXT: dict[int, Callable[[RowView], str]] = {
    NUMBER: lambda row: str(row.number),
    LAYER: _layer_text,
    OUTPUT: lambda row: row.output,
    PARAMS: _params_text,
}


class StackModel(QAbstractTableModel):
    """Read-only table of :class:`RowView`; emits move/insert requests for drops."""

    moveRequested = Signal(int, int)  # source row, final row
    insertRequested = Signal(str, int)  # layer type, row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RowView] = []
        self.locked = False

    def set_rows(self, rows: list[RowView]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, index: int) -> RowView:
        return self._rows[index]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        getter = _ROLES.get(role)
        return getter(row, index.column()) if getter is not None else None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled if not self.locked else Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return flags if self.locked else flags | Qt.ItemFlag.ItemIsDragEnabled

    # -- drag and drop ----------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return [ROW_MIME, LAYER_TYPE_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        rows = sorted({index.row() for index in indexes if index.isValid()})
        if rows:
            mime.setData(ROW_MIME, str(rows[0]).encode())
        return mime

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        return not self.locked and (data.hasFormat(ROW_MIME) or data.hasFormat(LAYER_TYPE_MIME))

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        """Translate a drop before row ``row`` (or onto ``parent``'s row) into a request."""
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._rows)
        if data.hasFormat(LAYER_TYPE_MIME):
            self.insertRequested.emit(bytes(data.data(LAYER_TYPE_MIME).data()).decode(), row)
            return True
        source = int(bytes(data.data(ROW_MIME).data()).decode())
        target = row - 1 if row > source else row
        if target != source:
            self.moveRequested.emit(source, target)
        return True

    def removeRows(self, row: int, count: int, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        """Refuse: after an accepted move the view asks to remove the source rows, but the move command
        has already moved the layer in the spec, so there is nothing left to remove."""
        return False


def _display(row: RowView, column: int) -> str:
    return _TEXT[column](row)


def _tooltip(row: RowView, column: int) -> str:
    if row.error:
        return row.error
    if row.unchecked:
        return "Not checked: fix the highlighted layer above first."
    return row.shape_tip if column == OUTPUT and row.shape_tip else ""


def _background(row: RowView, _column: int) -> QBrush | None:
    return QBrush(ERROR_BACKGROUND) if row.error else None


def _foreground(row: RowView, column: int) -> QBrush | None:
    if row.error:
        return QBrush(ERROR_TEXT)
    if row.unchecked or column in (NUMBER,):
        return QBrush(QColor("#8a8f98"))
    return None


def _font(row: RowView, column: int) -> QFont | None:
    if column == LAYER and row.error:
        font = QFont()
        font.setBold(True)
        return font
    return None


def _decoration(row: RowView, column: int) -> QIcon | None:
    if column != LAYER or not row.error:
        return None
    return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)


def _alignment(_row: RowView, column: int) -> Qt.AlignmentFlag:
    right = column in (NUMBER, OUTPUT, PARAMS)
    horizontal = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
    return horizontal | Qt.AlignmentFlag.AlignVCenter


def _accessible(row: RowView, column: int) -> str:
    text = _display(row, column)
    return f"{text}. Error: {row.error}" if row.error and column == LAYER else text


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


class StackView(QTableView):
    """The table widget (objectName ``layerStack``): whole-row single selection, internal drag and drop."""

    def __init__(self, model: StackModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerStack")
        self.setAccessibleName("Layer stack")
        self.setAccessibleDescription("The network's layers from input to output. Del deletes the selected layer.")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragDropOverwriteMode(False)
        self.setDropIndicatorShown(True)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, mode in (
            (NUMBER, QHeaderView.ResizeMode.ResizeToContents),
            (LAYER, QHeaderView.ResizeMode.Stretch),
            (OUTPUT, QHeaderView.ResizeMode.ResizeToContents),
            (PARAMS, QHeaderView.ResizeMode.ResizeToContents),
        ):
            header.setSectionResizeMode(column, mode)

    def current_row(self) -> int | None:
        rows = self.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def select_row(self, row: int | None) -> None:
        if row is None or not 0 <= row < self.model().rowCount():
            self.clearSelection()
            return
        self.selectRow(row)
        self.scrollTo(self.model().index(row, LAYER))
