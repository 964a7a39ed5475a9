"""Undo support: the edited document and one snapshot command for every kind of edit.

The document is plain Python (a :class:`ModelSpec` and a list of listeners), not a QObject; the
views listen to it. A command stores the spec before and after the edit plus which row to select,
so undo and redo restore both the network and the selection the user saw.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable

from PySide6.QtGui import QUndoCommand

from studio.core.project import ModelSpec

Listener = Callable[[int | None], None]

# QUndoCommand ids only need to differ from other mergeable commands on the same stack.
_MERGE_ID = 0x5AC


class ModelDocument:
    """The network being edited; ``replace`` swaps the spec and tells listeners which row to select."""

    def __init__(self, spec: ModelSpec | None = None) -> None:
        self.spec = spec or ModelSpec()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def replace(self, spec: ModelSpec, selection: int | None) -> None:
        self.spec = spec
        for listener in self._listeners:
            listener(selection)


class EditCommand(QUndoCommand):
    """Replace the document's spec with ``after``; undo puts back the spec seen at creation.

    Commands with the same ``merge_key`` (e.g. the same parameter of the same row) merge, so the
    ten clicks of a spin-box arrow are one undo step. An edit that ends where it began is dropped.
    """

    def __init__(
        self,
        document: ModelDocument,
        after: ModelSpec,
        text: str,
        select_after: int | None,
        select_before: int | None,
        merge_key: Hashable | None = None,
    ) -> None:
        super().__init__(text)
        self.document = document
        self.before = copy.deepcopy(document.spec)
        self.after = copy.deepcopy(after)
        self.select_after = select_after
        self.select_before = select_before
        self.merge_key = merge_key

    def redo(self) -> None:
        self.document.replace(copy.deepcopy(self.after), self.select_after)

    def undo(self) -> None:
        self.document.replace(copy.deepcopy(self.before), self.select_before)

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
