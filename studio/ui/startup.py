"""Start-up times, and a hidden hook for CI and ``benchmarks/startup.py``.

With ``STUDIO_EXIT_WHEN_READY=1`` in the environment the app records the wall-clock times
(``time.time()``) at which the window was shown, was first painted, and handled its first queued
event after that (interactive), prints them as one JSON line on stderr, and quits with status 0.
Nothing else about the start changes, so CI can start and close the installed app offscreen.
"""

from __future__ import annotations

import json
import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENV = "STUDIO_EXIT_WHEN_READY"


class StartupProbe(QObject):
    """Watches ``window`` for its first paint, then reports the times and quits the app."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.times: dict[str, float] = {}
        window.installEventFilter(self)

    def shown(self) -> None:
        """Call right after ``window.show()``."""
        self.times["shown"] = time.time()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and "painted" not in self.times:
            self.times["painted"] = time.time()
            QTimer.singleShot(0, self._interactive)
        return False

    def _interactive(self) -> None:
        self.times["interactive"] = time.time()
        self.window.removeEventFilter(self)
        report = {**self.times, "title": self.window.windowTitle()}
        print(json.dumps(report), file=sys.stderr, flush=True)
        QApplication.quit()


def watch(window: QWidget) -> StartupProbe | None:
    """A probe on ``window`` when the hidden hook is on, else None."""
    return StartupProbe(window) if os.environ.get(ENV) == "1" else None
