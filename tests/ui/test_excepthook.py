"""An exception that escapes a slot reaches the learner as a dialog with its details, and the app runs on."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from studio.core.vocab import MessageKind
from studio.ui.dialogs import Dialogs, Message, ScriptedDialogs
from studio.ui.excepthook import TITLE, ErrorReporter, install_excepthook


class Broken(QObject):
    """A signal whose first slot raises; the second must still run (the event loop goes on)."""

    poke = Signal()


@pytest.fixture
def scripted():
    """Our hook in place of Python's (pytest-qt's own capture is off in these tests), restored after."""
    dialogs = ScriptedDialogs()
    restore = install_excepthook(dialogs)
    yield dialogs
    restore()


def raise_in_a_slot(qtbot) -> list[str]:
    """Raise from a slot called by Qt's event loop (a timer), then let another slot run."""
    after: list[str] = []

    def broken() -> None:
        raise ValueError("the slot broke")

    QTimer.singleShot(0, broken)
    QTimer.singleShot(0, lambda: after.append("still running"))
    qtbot.waitUntil(lambda: bool(after), timeout=5000)
    return after


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_shows_a_dialog_and_the_app_keeps_running(qtbot, scripted):
    assert isinstance(sys.excepthook, ErrorReporter)
    assert raise_in_a_slot(qtbot) == ["still running"]
    [shown] = scripted.shown
    assert shown.kind == "error" and shown.title == TITLE
    assert shown.text == "ValueError: the slot broke"
    assert shown.buttons == ("copy", "ok") and "keeps running" in shown.details
    assert shown.technical.startswith("Traceback") and 'raise ValueError("the slot broke")' in shown.technical


@pytest.mark.qt_no_exception_capture
def test_copy_details_puts_the_traceback_on_the_clipboard(qtbot, scripted):
    QGuiApplication.clipboard().setText("")
    scripted.answers.append("copy")
    emitter = Broken()
    emitter.poke.connect(lambda: 1 / 0)
    QTimer.singleShot(0, emitter.poke.emit)
    qtbot.waitUntil(lambda: bool(scripted.shown), timeout=5000)
    text = QGuiApplication.clipboard().text()
    assert text.startswith("Traceback") and "ZeroDivisionError: division by zero" in text


def test_restore_puts_the_previous_hook_back():
    before = sys.excepthook
    restore = install_excepthook(ScriptedDialogs())
    assert sys.excepthook is not before
    restore()
    assert sys.excepthook is before


def test_an_error_while_the_dialog_is_open_is_logged_not_stacked():
    class Reentrant(ScriptedDialogs):
        def message(self, msg: Message) -> str:
            reporter(RuntimeError, RuntimeError("again"), None)  # e.g. a timer's slot raising meanwhile
            return super().message(msg)

    dialogs = Reentrant()
    reporter = ErrorReporter(dialogs)
    reporter(ValueError, ValueError("first"), None)
    assert [m.text for m in dialogs.shown] == ["ValueError: first"]
    assert len(reporter.shown) == 2 and "RuntimeError: again" in reporter.shown[1]


def test_the_real_dialog_has_a_copy_details_button_and_returns_its_name(qtbot):
    seen: list[str] = []

    def press_copy() -> None:  # never raises: a box left open would hang the test
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            return
        seen.append(box.detailedText())
        buttons = [b for b in box.findChildren(QPushButton) if b.text() == "Copy details"]
        if buttons:
            buttons[0].click()
        else:
            box.reject()

    QTimer.singleShot(0, press_copy)
    message = Message(MessageKind.ERROR, TITLE, "ValueError: x", ("copy", "ok"), "ok",
                      technical="Traceback (most recent…")
    assert Dialogs().message(message) == "copy"
    assert seen == ["Traceback (most recent…"]
