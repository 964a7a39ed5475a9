"""Regression guard: PySide6 6.12.0 on Python 3.11 leaks references to None/True on every emit.

After about 20,000 emits the interpreter aborts (``Fatal Python error: none_dealloc``). Emit
50,000 queued signals from the worker thread into a GUI-thread receiver and check that the
reference counts of ``None`` and ``True`` did not fall.
"""

from __future__ import annotations

import gc
import sys

import pytest
from PySide6.QtCore import QObject, Signal, Slot

from studio.ui.workers import WorkerHost

EMITS = 50_000
# Counts drift with ordinary allocations and with objects other tests left for the collector
# (about a thousand in a full run); the bug loses about one per emit, so a tenth of the emits
# separates the two clearly.
TOLERANCE = EMITS // 10


class Emitter(QObject):
    ping = Signal(object, bool)


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @Slot(object, bool)
    def on_ping(self, value: object, flag: bool) -> None:
        self.count += 1


@pytest.fixture
def host():
    host = WorkerHost()
    yield host
    host.shutdown()


def test_queued_signals_keep_none_and_true_alive(qtbot, host: WorkerHost) -> None:
    emitter, receiver = Emitter(), Receiver()
    emitter.ping.connect(receiver.on_ping)  # emitted from the worker thread: a queued connection

    def emit_many() -> int:
        for _ in range(EMITS):
            emitter.ping.emit(None, True)
        return EMITS

    gc.collect()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    with qtbot.waitSignal(host.worker.jobFinished, timeout=60_000):
        host.worker.submit("emit", emit_many)
    qtbot.waitUntil(lambda: receiver.count == EMITS, timeout=60_000)
    gc.collect()

    assert sys.getrefcount(None) >= none_before - TOLERANCE
    assert sys.getrefcount(True) >= true_before - TOLERANCE
