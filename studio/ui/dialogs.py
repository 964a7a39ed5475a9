"""Every modal question and file chooser goes through one small object, so tests can answer them.

The window and the panels receive a :class:`Dialogs`; the default one shows real Qt dialogs, a
test passes a :class:`ScriptedDialogs` that records each message and returns prepared answers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from studio.core.vocab import MessageKind


@dataclass(frozen=True)
class Message:
    """A modal message: ``kind`` sets its icon (question, info, warning, error); ``buttons`` are names like
    ``"yes"``, ``"no"``, ``"save"``, ``"discard"``, ``"cancel"``, ``"ok"``, ``"copy"``; the answer is one
    of them. ``details`` is a second paragraph; ``technical`` is text shown only on request (a traceback)."""

    kind: MessageKind
    title: str
    text: str
    buttons: tuple[str, ...] = ("ok",)
    default: str = "ok"
    details: str = ""
    technical: str = ""


_BUTTONS = {
    "ok": QMessageBox.StandardButton.Ok,
    "yes": QMessageBox.StandardButton.Yes,
    "no": QMessageBox.StandardButton.No,
    "save": QMessageBox.StandardButton.Save,
    "discard": QMessageBox.StandardButton.Discard,
    "cancel": QMessageBox.StandardButton.Cancel,
}
# Buttons that are not Qt standard buttons: name -> label and role.
_CUSTOM = {
    "copy": ("Copy details", QMessageBox.ButtonRole.ActionRole),
    "delete": ("Delete", QMessageBox.ButtonRole.DestructiveRole),
}
_ICONS = {
    MessageKind.QUESTION: QMessageBox.Icon.Question,
    MessageKind.WARNING: QMessageBox.Icon.Warning,
    MessageKind.ERROR: QMessageBox.Icon.Critical,
    MessageKind.INFO: QMessageBox.Icon.Information,
}


class Dialogs:
    """Real Qt dialogs parented to ``parent``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def message(self, msg: Message) -> str:
        """Show ``msg`` and return the name of the button the user pressed ("cancel" if closed)."""
        box = QMessageBox(_ICONS.get(msg.kind, QMessageBox.Icon.NoIcon), msg.title, msg.text, parent=self.parent)
        buttons = {
            name: box.addButton(*_CUSTOM[name]) if name in _CUSTOM else box.addButton(_BUTTONS[name])
            for name in msg.buttons
        }
        box.setDefaultButton(buttons[msg.default])
        if msg.details:
            box.setInformativeText(msg.details)
        if msg.technical:
            box.setDetailedText(msg.technical)
        box.exec()
        clicked = box.clickedButton()
        return next((name for name, button in buttons.items() if button is clicked), "cancel")

    def open_file(self, title: str, filters: str, start: str = "") -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, start, filters)
        return path or None

    def save_file(self, title: str, filters: str, start: str = "") -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, start, filters)
        return path or None

    def folder(self, title: str, start: str = "") -> str | None:
        path = QFileDialog.getExistingDirectory(self.parent, title, start)
        return path or None

    def text(self, title: str, label: str, value: str = "") -> str | None:
        """Ask for one line of text (a new name); None when cancelled."""
        answer, ok = QInputDialog.getText(self.parent, title, label, text=value)
        return answer if ok else None


@dataclass
class ScriptedDialogs(Dialogs):
    """Answers from queues instead of the user: for tests and for scripted screenshots.

    ``answers`` are returned to messages in order (``default`` of the message when empty);
    ``paths`` to file and folder choosers (None, i.e. cancelled, when empty), ``texts`` to text questions
    (None when empty). ``shown`` records messages.
    """

    answers: deque[str] = field(default_factory=deque)
    paths: deque[str] = field(default_factory=deque)
    shown: list[Message] = field(default_factory=list)
    texts: deque[str] = field(default_factory=deque)

    def __post_init__(self) -> None:
        super().__init__(None)
        self.answers = deque(self.answers)
        self.paths = deque(self.paths)
        self.texts = deque(self.texts)

    def message(self, msg: Message) -> str:
        self.shown.append(msg)
        return self.answers.popleft() if self.answers else msg.default

    def open_file(self, title: str, filters: str, start: str = "") -> str | None:
        return self.paths.popleft() if self.paths else None

    save_file = open_file

    def folder(self, title: str, start: str = "") -> str | None:
        return self.paths.popleft() if self.paths else None

    def text(self, title: str, label: str, value: str = "") -> str | None:
        return self.texts.popleft() if self.texts else None
