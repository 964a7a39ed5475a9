"""Start-up times, and a hidden hook for CI and ``benchmarks/startup.py``.

With ``STUDIO_EXIT_WHEN_READY=1`` in the environment the app records the wall-clock times
(``time.time()``) at which the first window (:mod:`studio.ui.preparing`) was shown, was first
painted, and handled its first queued event after that (interactive), and at which the full window
was first painted (ready: editors filled, shapes checked, Train usable). It prints them as one JSON
line on stderr, with whether torch had been imported by the first paint and the longest stretch the
event loop was held between the first paint and ready, and while the import ran (a timer's ticks
are ``TICK_S`` apart while nothing holds it: a longer gap is a stall the user would feel), and
quits with status 0
(1 when preparing failed). Nothing else about the start changes, so CI can start and close the
installed app offscreen.
"""

from __future__ import annotations

import json
import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENV = "STUDIO_EXIT_WHEN_READY"
TICK_S = 0.05


class StartupProbe(QObject):
    """Watches the first window's first paint and the full window's, then reports the times and quits."""

    def __init__(self, first: QWidget) -> None:
        super().__init__()
        self.first = first
        self.full: QWidget | None = None
        self.times: dict[str, float] = {}
        self.torch_at_first_paint = False
        self.longest_stall = 0.0
        self.stall_while_importing = 0.0
        self._last_tick = 0.0
        self._ticks = QTimer(self)
        self._ticks.setInterval(round(TICK_S * 1000))
        self._ticks.timeout.connect(self._tick)
        first.installEventFilter(self)

    def shown(self) -> None:
        """Call right after the first window's ``show()``."""
        self.times["shown"] = time.time()

    def prepared(self) -> None:
        """Call when the worker thread's import is done, before the full window is built: the
        stall up to here is the import's (the first window's responsiveness), the rest the build's."""
        self._tick()
        self.times["prepared"] = time.time()
        self.stall_while_importing = self.longest_stall

    def ready(self, window: QWidget) -> None:
        """Call when the full window ``window`` is shown; its first paint ends the start."""
        self.full = window
        window.installEventFilter(self)

    def failed(self, error: str) -> None:
        print(json.dumps({**self.times, "error": error}), file=sys.stderr, flush=True)
        QApplication.exit(1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if event.type() != QEvent.Type.Paint:
            return False
        if watched is self.first and "painted" not in self.times:
            self.times["painted"] = time.time()
            self.torch_at_first_paint = "torch" in sys.modules
            QTimer.singleShot(0, self._interactive)
        elif watched is self.full and "ready" not in self.times:
            self.times["ready"] = time.time()
            QTimer.singleShot(0, self._report)
        return False

    def _interactive(self) -> None:
        self.times["interactive"] = self._last_tick = time.time()
        self.first.removeEventFilter(self)
        self._ticks.start()

    def _tick(self) -> None:
        if not self._ticks.isActive():  # before the first window was interactive, or after ready
            return
        now = time.time()
        self.longest_stall = max(self.longest_stall, now - self._last_tick - TICK_S)
        self._last_tick = now

    def _report(self) -> None:
        self._tick()
        self._ticks.stop()
        title = self.full.windowTitle() if self.full is not None else ""
        report = {**self.times, "torch_at_first_paint": self.torch_at_first_paint,
                  "longest_stall": self.longest_stall, "stall_while_importing": self.stall_while_importing,
                  "title": title}
        print(json.dumps(report), file=sys.stderr, flush=True)
        QApplication.quit()


def watch(first: QWidget) -> StartupProbe | None:
    """A probe on the first window ``first`` when the hidden hook is on, else None."""
    return StartupProbe(first) if os.environ.get(ENV) == "1" else None
