"""Ctrl+C in the window's terminal closes it through its normal path (stopping a run, asking about unsaved work)."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from studio.ui.dialogs import ScriptedDialogs
from studio.ui.interrupt import close_on_ctrl_c
from tests.ui.conftest import RUN_TIMEOUT_MS, open_window, tiny_project

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


@pytest.fixture
def restore_sigint():
    previous = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, previous)


def _ctrl_c_from_outside(delay: float) -> threading.Timer:
    """SIGINT sent by another thread, like a terminal: the main thread only notices when Python runs there."""
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_stops_a_run_and_closes_the_window(qtbot, host, temp_settings, restore_sigint):
    dialogs = ScriptedDialogs(answers=["yes"])  # "Training is still running. Stop it and close the window?"
    window = open_window(qtbot, host, tiny_project(epochs=500, per_class=50), dialogs)
    close_on_ctrl_c(window, window.shutdown)
    window.commands["train"].trigger()
    qtbot.waitUntil(window.training.busy, timeout=RUN_TIMEOUT_MS)
    _ctrl_c_from_outside(0.5)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=RUN_TIMEOUT_MS)
    assert [m.title for m in dialogs.shown] == ["Training is running"]
    assert not host.is_running()  # the run stopped and the worker thread was joined
    (run,) = (temp_settings.parent / "runs").iterdir()
    assert list((run / "checkpoints").glob("*.ckpt")) and (run / "model.safetensors").is_file()  # and it was saved


def test_ctrl_c_asks_about_unsaved_changes_like_the_close_button(qtbot, host, temp_settings, restore_sigint):
    dialogs = ScriptedDialogs(answers=["cancel"])
    window = open_window(qtbot, host, dialogs=dialogs)
    window.document.touch()
    close_on_ctrl_c(window, window.shutdown)
    _ctrl_c_from_outside(0.3)
    qtbot.waitUntil(lambda: len(dialogs.shown) == 1, timeout=10_000)
    assert dialogs.shown[0].title == "Unsaved changes" and window.isVisible()  # cancelled: nothing is lost
    _ctrl_c_from_outside(0.1)  # a second Ctrl+C quits at once
    qtbot.waitUntil(lambda: not host.is_running(), timeout=RUN_TIMEOUT_MS)
