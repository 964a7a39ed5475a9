"""Undo support: the edited document and one before-and-after command for every kind of edit.

The document is plain Python (a :class:`ModelSpec`, the folded blocks and a list of listeners), not a
QObject; the views listen to it. Its spec is never changed in place: every edit makes a new one
(``operations.edited`` works on a copy), so commands keep the specs themselves as snapshots, not copies of
them (copying a 400-row spec twice per keystroke cost more than the shape check). A command stores the
spec before and after the edit, the rows to select and where the edit moved each row, so undo and redo
restore the network and the selection the user saw, and a folded block stays folded wherever an edit (or
its undo) takes it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping

from PySide6.QtGui import QUndoCommand

from studio.core.project import ModelSpec
from studio.core.tree import Path
from studio.ui.widgets.layer_editor.operations import Selection

Listener = Callable[[Selection], None]

# QUndoCommand ids only need to differ from other mergeable commands on the same stack.
_MERGE_ID = 0x5AC


class ModelDocument:
    """The network being edited and which of its blocks are folded (closed in the stack); ``replace`` swaps
    the spec and tells listeners which rows to select. Folding is view state: never an undo step."""

    def __init__(self, spec: ModelSpec | None = None) -> None:
        self.spec = spec or ModelSpec()
        self.folded: frozenset[Path] = frozenset()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def replace(self, spec: ModelSpec, selection: Selection, folded: Iterable[Path] | None = None) -> None:
        self.spec = spec
        if folded is not None:
            self.folded = frozenset(folded)
        for listener in self._listeners:
            listener(selection)

    def set_folded(self, path: Path, folded: bool) -> None:
        self.folded = self.folded | {path} if folded else self.folded - {path}


class EditCommand(QUndoCommand):
    """Replace the document's spec with ``after``; undo puts back the spec seen at creation.

    ``moved`` maps the path of each row before the edit to its path after it (None: the edit moved no row).
    Commands with the same ``merge_key`` (e.g. the same parameter of the same row) merge, so the ten clicks
    of a spin-box arrow are one undo step. An edit that ends where it began is dropped.
    """

    def __init__(
        self,
        document: ModelDocument,
        after: ModelSpec,
        text: str,
        select_after: Selection,
        select_before: Selection,
        merge_key: Hashable | None = None,
        moved: Mapping[Path, Path] | None = None,
    ) -> None:
        super().__init__(text)
        self.document = document
        self.before = document.spec
        self.after = after
        self.select_after = select_after
        self.select_before = select_before
        self.merge_key = merge_key
        self.moved = dict(moved) if moved is not None else None
        self._folded_before = document.folded

    def redo(self) -> None:
        folded = self.document.folded
        if self.moved is not None:
            folded = frozenset(self.moved[p] for p in folded if p in self.moved)
        self.document.replace(self.after, self.select_after, folded)

    def undo(self) -> None:
        folded = self.document.folded
        if self.moved is not None:
            back = {new: old for old, new in self.moved.items()}
            removed = {p for p in self._folded_before if p not in self.moved}  # rows the edit took away
            folded = frozenset(back[p] for p in folded if p in back) | removed
        self.document.replace(self.before, self.select_before, folded)

    def id(self) -> int:
        return _MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditCommand) or other.document is not self.document:
            return False
        if other.merge_key != self.merge_key:
            return False
        self.after = other.after
        self.select_after = other.select_after
        self.setText(other.text())
        self.setObsolete(self.after == self.before)
        return True
