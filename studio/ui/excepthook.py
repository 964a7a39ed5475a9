"""Errors reach the learner: an exception that escapes a slot becomes a dialog, and the app keeps running.

Qt calls Python slots from its event loop; an exception that escapes one is handed to
``sys.excepthook`` and the loop goes on, so by default the learner sees nothing (the traceback
goes to a terminal they may not have). Like napari's ``ExceptionHandler``, the GUI app installs
an :class:`ErrorReporter` as ``sys.excepthook``: it logs the traceback and shows it through
:class:`~studio.ui.dialogs.Dialogs` (so tests script the answer), with a "Copy details" button
for a bug report. User errors never get here: they are shown in place where they happen.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtGui import QGuiApplication

from studio.core.vocab import MessageKind
from studio.ui.dialogs import Dialogs, Message

log = logging.getLogger(__name__)

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]

TITLE = "Something went wrong"
KEEPS_RUNNING = ("Training Studio keeps running. If this happens again, please report it with the details "
                 "(Copy details puts them on the clipboard).")  # fmt: skip


class ErrorReporter:
    """A ``sys.excepthook`` that shows each uncaught exception in a dialog with its traceback."""

    def __init__(self, dialogs: Dialogs) -> None:
        self.dialogs = dialogs
        self.shown: list[str] = []  # the details of every exception reported (the latest last)
        self._showing = False

    def __call__(self, kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if not issubclass(kind, Exception):  # Ctrl+C in a terminal, SystemExit: not a bug to report
            sys.__excepthook__(kind, error, trace)
            return
        details = "".join(traceback.format_exception(kind, error, trace))
        log.error("uncaught exception in the GUI\n%s", details)
        self.shown.append(details)
        if self._showing:  # raised again while the dialog is open (a timer's slot): logged, not stacked
            return
        self._showing = True
        try:
            self._show(f"{kind.__name__}: {error}", details)
        finally:
            self._showing = False

    def _show(self, summary: str, details: str) -> None:
        message = Message(MessageKind.ERROR, TITLE, summary, ("copy", "ok"), "ok", details=KEEPS_RUNNING,
                          technical=details)
        if self.dialogs.message(message) == "copy":
            clipboard = QGuiApplication.clipboard()
            if clipboard is not None:
                clipboard.setText(details)


def install_excepthook(dialogs: Dialogs) -> Callable[[], None]:
    """Report uncaught exceptions through ``dialogs`` from now on; returns a function that restores the old hook."""
    previous: ExceptHook = sys.excepthook
    sys.excepthook = ErrorReporter(dialogs)

    def restore() -> None:
        sys.excepthook = previous

    return restore
