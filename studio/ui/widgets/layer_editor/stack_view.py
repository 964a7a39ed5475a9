"""The stack's tree view (objectName ``layerStack``): rows selected whole, several at once, dragged within
the tree; a block opens and closes with its arrow, a double-click or the Left and Right keys.

Which blocks are closed is the document's (``ModelDocument.folded``), so it survives edits and undo; the
view reports each fold as ``foldChanged`` and puts the document's folds back after every refresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from studio.core.layers import as_path
from studio.core.tree import Path
from studio.ui.widgets.layer_editor.stack import LAYER, NUMBER, OUTPUT, PARAMS, StackModel


class StackView(QTreeView):
    """The layer tree; ``foldChanged(path, folded)`` when the user opens or closes a block."""

    foldChanged = Signal(object, bool)

    def __init__(self, model: StackModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerStack")
        self.setAccessibleName("Layer stack")
        self.setAccessibleDescription(
            "The network's layers from input to output; a block's rows are indented below it. "
            "Del deletes the selected layers; Left and Right close and open a block."
        )
        self.setModel(model)
        self.setTreePosition(LAYER)  # the number column stays flush left; the tree indents the layer names
        self.setIndentation(18)
        self.setUniformRowHeights(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragDropOverwriteMode(False)
        self.setDropIndicatorShown(True)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setAllColumnsShowFocus(True)
        header = self.header()
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        # Fit the columns to the rows in view: measuring all of a 400-row tree on every refresh took most
        # of an edit's time.
        header.setResizeContentsPrecision(0)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, mode in (
            (NUMBER, QHeaderView.ResizeMode.ResizeToContents),
            (LAYER, QHeaderView.ResizeMode.Stretch),
            (OUTPUT, QHeaderView.ResizeMode.ResizeToContents),
            (PARAMS, QHeaderView.ResizeMode.ResizeToContents),
        ):
            header.setSectionResizeMode(column, mode)
        self._applying = False
        self.expanded.connect(lambda index: self._folded(index, False))
        self.collapsed.connect(lambda index: self._folded(index, True))

    def stack_model(self) -> StackModel:
        model = self.model()
        assert isinstance(model, StackModel)
        return model

    # -- folds ------------------------------------------------------------------------------------------

    def apply_folds(self, folded: Iterable[Path]) -> None:
        """Open every block except the ``folded`` ones (after the model was refilled); reports nothing."""
        closed = set(folded)
        model = self.stack_model()
        self._applying = True
        try:
            for row in model.rows():
                if row.block:
                    self.setExpanded(model.index_of(row.path, 0), row.path not in closed)
        finally:
            self._applying = False

    def _folded(self, index: QModelIndex, folded: bool) -> None:
        if not self._applying:
            self.foldChanged.emit(self.stack_model().path_of(index), folded)

    # -- selection ----------------------------------------------------------------------------------------

    def selected_paths(self) -> list[Path]:
        """The selected rows' paths, top to bottom."""
        model = self.stack_model()
        return sorted(model.path_of(index) for index in self.selectionModel().selectedRows(0))

    def current_path(self) -> Path | None:
        """The row whose settings show: the only selected one (None when none or several are selected)."""
        paths = self.selected_paths()
        return paths[0] if len(paths) == 1 else None

    def select_paths(self, paths: Sequence[Path]) -> None:
        """Select exactly these rows; the first one becomes current and is scrolled into view (Qt opens the
        blocks around it, which the view reports as folds)."""
        model = self.stack_model()
        indexes = [model.index_of(p, 0) for p in paths]
        indexes = [index for index in indexes if index.isValid()]
        selection = QItemSelection()
        for index in indexes:
            selection.select(index, index.siblingAtColumn(PARAMS))
        flags = QItemSelectionModel.SelectionFlag
        self.selectionModel().select(selection, flags.ClearAndSelect | flags.Rows)
        if indexes:
            self.selectionModel().setCurrentIndex(indexes[0], flags.NoUpdate)
            self.scrollTo(indexes[0])

    def select_row(self, where: int | Path | None) -> None:
        """Select one row by top-level index or path; None clears the selection."""
        self.select_paths([] if where is None else [as_path(where)])
