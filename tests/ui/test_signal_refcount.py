"""Regression guard: PySide6 6.12.0 on Python 3.11 leaks references to None/True on every emit.

After about 20,000 emits the interpreter aborts (``Fatal Python error: none_dealloc``). Emit
50,000 queued signals from the worker thread into a GUI-thread receiver and check that the
reference counts of ``None`` and ``True`` did not fall.

The measurement runs in a fresh interpreter: objects that earlier tests leave behind are freed
at unpredictable moments and move the counts by thousands, and if the bug is back, the abort
ends that interpreter instead of the whole test session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EMITS = 50_000
# The bug loses about one reference per emit; a fresh interpreter drifts by a few dozen.
TOLERANCE = EMITS // 10
ROOT = Path(__file__).resolve().parents[2]


def measure() -> dict[str, int]:
    """Emit EMITS queued signals worker thread -> main thread; the counts before and after."""
    import gc

    from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Signal, Slot

    from studio.ui.workers import WorkerHost

    class Emitter(QObject):
        ping = Signal(object, bool)

    class Receiver(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        @Slot(object, bool)
        def on_ping(self, value: object, flag: bool) -> None:
            self.count += 1

    app = QCoreApplication.instance() or QCoreApplication([])
    host = WorkerHost()
    emitter, receiver = Emitter(), Receiver()
    emitter.ping.connect(receiver.on_ping)  # emitted from the worker thread: a queued connection

    def emit_many() -> None:
        for _ in range(EMITS):
            emitter.ping.emit(None, True)

    gc.collect()
    before = {"none": sys.getrefcount(None), "true": sys.getrefcount(True)}
    host.worker.submit("emit", emit_many)
    while receiver.count < EMITS:
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    host.shutdown()
    gc.collect()
    after = {"none": sys.getrefcount(None), "true": sys.getrefcount(True)}
    return {"received": receiver.count, **{f"{k}_before": v for k, v in before.items()},
            **{f"{k}_after": v for k, v in after.items()}}  # fmt: skip


def test_queued_signals_keep_none_and_true_alive() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, __file__], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"the emitting interpreter died (the PySide6 refcount bug?):\n{done.stderr[-2000:]}"
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["received"] == EMITS
    assert counts["none_after"] >= counts["none_before"] - TOLERANCE
    assert counts["true_after"] >= counts["true_before"] - TOLERANCE


if __name__ == "__main__":
    print(json.dumps(measure()))
