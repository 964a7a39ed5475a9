"""The palette: every registered layer type, grouped by kind, each with its one-line description.

Types come from the ``LAYERS`` registry in registration order, so a layer added to the core shows
up here without touching the GUI. A type is added by double-click, Enter, the Add button or by
dragging it onto the stack (the drag carries the type name under :data:`LAYER_TYPE_MIME`).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from studio.core.layers import GROUPS, LAYERS

LAYER_TYPE_MIME = "application/x-studio-layer-type"
_TYPE_ROLE = Qt.ItemDataRole.UserRole
_DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 1


class LayerPalette(QTreeWidget):
    """A tree of group headings with layer types below; emits ``addRequested(type_name)``."""

    addRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerPalette")
        self.setAccessibleName("Layer palette")
        self.setAccessibleDescription("Layer types to add to the network; double-click or drag one onto the stack.")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(8)
        self.setUniformRowHeights(False)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setItemDelegate(_TypeDelegate(self))
        self._fill()
        self.itemActivated.connect(self._activated)

    def current_type(self) -> str | None:
        """The layer type under the cursor, or None when a group heading (or nothing) is current."""
        item = self.currentItem()
        return item.data(0, _TYPE_ROLE) if item is not None else None

    def select_type(self, name: str) -> None:
        """Make ``name`` the current item (used by tests and keyboard users)."""
        self.setCurrentItem(self.item_for(name))

    def item_for(self, name: str) -> QTreeWidgetItem:
        headings = (self.topLevelItem(group) for group in range(self.topLevelItemCount()))
        for heading in filter(None, headings):
            for item in filter(None, (heading.child(child) for child in range(heading.childCount()))):
                if item.data(0, _TYPE_ROLE) == name:
                    return item
        raise KeyError(name)

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        mime = QMimeData()
        names = [item.data(0, _TYPE_ROLE) for item in items if item.data(0, _TYPE_ROLE)]
        if names:
            mime.setData(LAYER_TYPE_MIME, names[0].encode())
            mime.setText(names[0])
        return mime

    def mimeTypes(self) -> list[str]:
        return [LAYER_TYPE_MIME]

    def _fill(self) -> None:
        headings: dict[str, QTreeWidgetItem] = {}
        for group, blurb in GROUPS.items():
            heading = QTreeWidgetItem([_group_title(group)])
            heading.setFlags(Qt.ItemFlag.ItemIsEnabled)
            heading.setToolTip(0, blurb)
            heading.setData(0, _DESCRIPTION_ROLE, blurb)
            font = heading.font(0)
            font.setBold(True)
            heading.setFont(0, font)
            headings[group] = heading
        for name, layer_type in LAYERS.items():
            item = QTreeWidgetItem(headings[layer_type.group], [name])
            item.setData(0, _TYPE_ROLE, name)
            item.setData(0, _DESCRIPTION_ROLE, layer_type.description)
            item.setToolTip(0, layer_type.description)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        for heading in headings.values():
            if heading.childCount():
                self.addTopLevelItem(heading)
                heading.setExpanded(True)

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        name = item.data(0, _TYPE_ROLE)
        if name and self.isEnabled():
            self.addRequested.emit(name)


class _TypeDelegate(QStyledItemDelegate):
    """Draws a layer type as its name over its description in a smaller, muted font."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        if not index.data(_TYPE_ROLE):
            return QSize(size.width(), size.height() + 8)
        small = QFontMetrics(_small_font(option.font))
        return QSize(size.width(), size.height() + small.height() + 6)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        if not index.data(_TYPE_ROLE):
            heading = QStyleOptionViewItem(option)
            heading.rect = option.rect.adjusted(0, 6, 0, 0)
            super().paint(painter, heading, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        rect = option.rect.adjusted(6, 3, -4, -3)
        name_height = QFontMetrics(option.font).height()
        painter.save()
        painter.setPen(option.palette.color(text_role))
        painter.drawText(
            QRect(rect.left(), rect.top(), rect.width(), name_height),
            Qt.AlignmentFlag.AlignVCenter,
            index.data(_TYPE_ROLE),
        )
        small = _small_font(option.font)
        painter.setFont(small)
        muted = option.palette.color(text_role if selected else QPalette.ColorRole.PlaceholderText)
        painter.setPen(muted)
        metrics = QFontMetrics(small)
        description = metrics.elidedText(index.data(_DESCRIPTION_ROLE) or "", Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(
            QRect(rect.left(), rect.top() + name_height, rect.width(), metrics.height() + 2),
            Qt.AlignmentFlag.AlignVCenter,
            description,
        )
        painter.restore()


def _small_font(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
    return small


def _group_title(group: str) -> str:
    return group.capitalize()
