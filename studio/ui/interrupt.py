"""Ctrl+C in the terminal that started the window: close it the way its close button does.

Qt's event loop runs in C++, and Python runs a signal handler only when it next executes Python
code, so a Ctrl+C would wait for the next mouse move. A timer that wakes Python a few times a
second lets the handler run promptly. The first Ctrl+C closes the window through its normal path
(asking about unsaved changes and a running fit, stopping the fit, saving window state); a second
one quits at once, still stopping the fit and joining the worker thread, so no thread is left
behind and the run folder gets its final checkpoint.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

WAKE_MS = 200  # how late a Ctrl+C may be noticed


def close_on_ctrl_c(window: QWidget, shutdown: Callable[[], None]) -> QTimer:
    """Install the SIGINT handler for ``window``; returns the wake-up timer (a child of the window)."""
    presses = 0

    def quit_now() -> None:
        shutdown()
        QApplication.quit()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        nonlocal presses
        presses += 1
        # From the event loop, not from inside whatever Python code the signal interrupted.
        QTimer.singleShot(0, window.close if presses == 1 else quit_now)

    signal.signal(signal.SIGINT, handle)
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)  # a Python call: pending signal handlers run here
    timer.start(WAKE_MS)
    return timer
