"""The window starts as a user starts it (``python -m studio PROJECT.json`` in a fresh interpreter):
the first window paints before torch is imported, the worker thread imports it, and the full window
takes over on that project; the hidden start-up hook that CI and ``benchmarks/startup.py`` use then
reports and closes it. In the test process: the first window's import runs in its worker thread,
the worker host adopts that thread, and a failed import is said in the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QThread

from studio.core.presets import default_project
from studio.core.project import save_project
from studio.ui import preparing
from studio.ui.preparing import PreparingWindow
from studio.ui.startup import ENV
from studio.ui.workers import WorkerHost

ROOT = Path(__file__).resolve().parents[2]


def test_the_first_window_paints_before_torch_and_the_full_window_opens_the_project(tmp_path: Path) -> None:
    path = tmp_path / "start-check.json"
    save_project(path, default_project())
    # Settings (recent files, geometry) go to the temporary folder, not the user's.
    env = {**os.environ, ENV: "1", "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "studio", str(path)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(next(line for line in proc.stderr.splitlines() if line.startswith("{")))
    assert report["shown"] <= report["painted"] <= report["interactive"] <= report["prepared"] <= report["ready"]
    assert report["torch_at_first_paint"] is False  # torch came later, in the worker thread
    assert report["title"].startswith("start-check.json")  # the full window is on that file


def test_the_import_runs_in_the_worker_thread_that_the_host_then_owns(qtbot, temp_settings, monkeypatch) -> None:
    first = PreparingWindow()
    qtbot.addWidget(first)
    importing_threads: list[QThread | None] = []
    original = preparing.importlib.import_module
    monkeypatch.setattr(preparing.importlib, "import_module",
                        lambda name: importing_threads.append(QThread.currentThread()) or original(name))
    with qtbot.waitSignal(first.prepared, timeout=60_000):
        first.show()
    monkeypatch.undo()
    assert importing_threads == [first.worker_thread] * len(preparing.MODULES)
    host = WorkerHost(thread=first.hand_over_thread())
    first.shutdown()  # at the app's end: the host's thread now, to be joined after stopping a run
    assert first.worker_thread.isRunning()
    try:
        assert host.worker_thread is first.worker_thread
        job = host.worker.submit("where", QThread.currentThread)
        with qtbot.waitSignal(job.finished, timeout=30_000) as finished:
            pass
        assert finished.args == [first.worker_thread]  # later jobs run in the thread that imported torch
    finally:
        host.shutdown()
    assert not first.worker_thread.isRunning()


def test_a_failed_import_is_said_in_the_first_window(qtbot, temp_settings, monkeypatch) -> None:
    monkeypatch.setattr(preparing, "MODULES", ("studio.no_such_module",))
    first = PreparingWindow()
    qtbot.addWidget(first)
    with qtbot.waitSignal(first.failed, timeout=30_000) as failed:
        first.show()
    assert "No module named 'studio.no_such_module'" in failed.args[0]
    assert first.message.text() == f"Training Studio could not start: {failed.args[0]}"
    first.shutdown()
    assert not first.worker_thread.isRunning()
