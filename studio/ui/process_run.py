"""A run in another process: torchrun on this computer, or the user's command (ssh, srun), as a QProcess.

The process runs ``train --json --control-stdin``. Its stdout is the engine's event stream
(:mod:`studio.core.eventstream`): each line is decoded back into the same frozen event a run in
the worker thread sends, and handed to :meth:`Worker.deliver` in parcels (at once for the start,
a pause and the end; otherwise at most every 250 ms, as the worker's own bridge does), so the
plots, the status bar, the run history and the Inspect tab fill exactly as for a local run.
Pause, Resume and Stop are the lines ``pause``, ``resume`` and ``stop`` on its stdin; Stop is the
clean stop, after which the process writes a checkpoint and its run folder and exits by itself.
When the process ends without a ``fit_end`` event, the reason (its last ``error:`` line, or how
it ended) goes to ``Worker.trainingFailed``, which the window shows.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from studio.core.events import FitEnd, FitStart, Paused
from studio.core.eventstream import decode
from studio.core.project import Project
from studio.core.targets import package_root
from studio.ui.workers.bridge import PARCEL_INTERVAL_S

log = logging.getLogger(__name__)

# Events shown at once (the learner waits for them); the rest go in parcels.
_URGENT = (FitStart, Paused, FitEnd)
# How many of the process's last stderr lines are kept to explain a failure.
STDERR_LINES = 40


class ProcessRun(QObject):
    """One training process: start it, steer it, and turn its output into the worker's training signals.

    ``ended(FitEnd)`` when the process reported the end of its fit and exited; ``failed(reason)`` when it
    ended otherwise (or never started). Either comes once.
    """

    ended = Signal(object)
    failed = Signal(str)

    def __init__(self, worker: Any, project: Project, command: list[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.project = project
        self.command = command
        self.end: FitEnd | None = None
        self.stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._stdout = b""
        self._stderr = b""
        self._pending: list[Any] = []
        self._done = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(PARCEL_INTERVAL_S * 1000))
        self._timer.timeout.connect(self._flush)
        self.process = QProcess(self)
        self.process.setProcessEnvironment(_environment())
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)

    def start(self) -> None:
        """Start the process; the window's run history and plots start a new run now."""
        self.worker.trainingStarted.emit(self.project)
        self.process.start(self.command[0], self.command[1:])

    # --- steering ----------------------------------------------------------------------------
    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self) -> None:
        """The clean stop: the run ends at the next agreed step, writes a checkpoint and exits."""
        self._send("resume")
        self._send("stop")

    def finish(self, wait_ms: int) -> None:
        """The window closes: stop cleanly, wait up to ``wait_ms`` for the checkpoint, then end the process."""
        if self.process.state() == QProcess.ProcessState.NotRunning:
            return
        self.stop()
        if not self.process.waitForFinished(wait_ms):
            self.process.kill()
            self.process.waitForFinished(5000)

    def _send(self, word: str) -> None:
        if self.process.state() == QProcess.ProcessState.Running:
            self.process.write(f"{word}\n".encode())

    # --- output ------------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        self._stdout += bytes(self.process.readAllStandardOutput().data())
        *lines, self._stdout = self._stdout.split(b"\n")
        urgent = False
        for line in lines:
            event = decode(line.decode("utf-8", errors="replace"))
            if event is None:
                continue
            self._pending.append(event)
            if isinstance(event, FitEnd):
                self.end = event
            urgent = urgent or isinstance(event, _URGENT)
        if urgent:
            self._flush()
        elif self._pending and not self._timer.isActive():
            self._timer.start()

    def _read_stderr(self) -> None:
        self._stderr += bytes(self.process.readAllStandardError().data())
        *lines, self._stderr = self._stderr.split(b"\n")
        for line in lines:
            text = line.decode("utf-8", errors="replace").rstrip()
            if text:
                self.stderr.append(text)
                log.info("training process: %s", text)

    def _flush(self) -> None:
        self._timer.stop()
        if self._pending:
            parcel, self._pending = self._pending, []
            self.worker.deliver(parcel)

    # --- the end -----------------------------------------------------------------------------
    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        self._flush()
        if self.end is not None and code == 0:
            self._conclude(None)
        elif status == QProcess.ExitStatus.CrashExit:
            self._conclude("the training process crashed or was killed")
        else:
            self._conclude(f"the training process ended with exit status {code}")

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._conclude(f"could not start {self.command[0]!r}: {self.process.errorString()}")

    def _conclude(self, problem: str | None) -> None:
        if self._done:
            return
        self._done = True
        if problem is None:
            self.ended.emit(self.end)
            return
        reason = self.reason() or problem
        self.worker.trainingFailed.emit(reason, self._hint(reason, problem))
        self.failed.emit(reason)

    def reason(self) -> str:
        """The process's own explanation: its last ``error:`` line (without the prefix), if it gave one."""
        errors = [line for line in self.stderr if line.startswith("error: ")]
        return errors[-1].removeprefix("error: ") if errors else ""

    def _hint(self, reason: str, problem: str) -> str:
        if reason == problem:  # it said nothing itself: show what it printed last
            tail = " | ".join(list(self.stderr)[-3:])
            return f"Its last output: {tail}" if tail else f"The command was: {' '.join(self.command)}"
        return ""


def _environment() -> QProcessEnvironment:
    """This environment, with this code first on PYTHONPATH (a checkout that is not installed runs too)."""
    env = QProcessEnvironment.systemEnvironment()
    paths = [str(package_root()), *filter(None, env.value("PYTHONPATH", "").split(os.pathsep))]
    env.insert("PYTHONPATH", os.pathsep.join(dict.fromkeys(paths)))
    return env


def project_file_for(run_folder: Path) -> Path:
    """Where the window writes the project a process trains: beside the run folder (which must start empty)."""
    return run_folder.with_name(f".{run_folder.name}.project.json")
