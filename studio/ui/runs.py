"""Run folders for training started in the window: every run writes its checkpoints into a folder of its own, so
the latest run (or any earlier one) can be resumed, exported and fine-tuned from later.

Layout, the same as ``python main.py train --out RUN`` writes::

    ROOT/<YYYYmmdd-HHMMSS>-<project>/checkpoints/epoch-0003.ckpt   checkpoints (checkpoint_every, keep_checkpoints)
    ROOT/<YYYYmmdd-HHMMSS>-<project>/project.json, model.safetensors, metrics.json   when the fit ends

ROOT is the ``runs/folder`` setting, by default ``runs`` in the application's data folder. A
resumed run gets a new folder too, so resuming never overwrites or prunes the checkpoints it came from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal, Slot

from studio.core.callbacks import Callback, FitContext
from studio.core.checkpoint import CheckpointCallback, latest_checkpoint
from studio.core.events import EpochEnd, FitEnd, FitStart
from studio.core.project import Project
from studio.core.runs import CHECKPOINTS, default_runs_root, new_run_folder, save_run

log = logging.getLogger(__name__)

RUNS_FOLDER_KEY = "runs/folder"


def runs_root() -> Path:
    """Where run folders go: the ``runs/folder`` setting, else ``<AppDataLocation>/runs`` (as the CLI)."""
    chosen = QSettings().value(RUNS_FOLDER_KEY, "")
    return Path(str(chosen)) if chosen else default_runs_root()


def newest_checkpoint(root: Path) -> Path | None:
    """The newest checkpoint of the newest run folder under ``root`` (folder names sort by time)."""
    if not root.is_dir():
        return None
    for folder in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        found = latest_checkpoint(folder)
        if found is not None:
            return found
    return None


class RunSaver(Callback):
    """Checkpoints during the fit and the run folder at its end, in the worker thread.

    A checkpoint that cannot be written (full disk, no permission) must not throw away the run the
    learner is watching, so a failure is reported through ``failed(message)`` and the fit goes on.
    """

    def __init__(self, folder: Path, project: Project, failed: Callable[[str], None]) -> None:
        self.folder = folder
        self.checkpoints = CheckpointCallback.from_project(folder / CHECKPOINTS, project)
        self._failed = failed
        self._reported = False

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        self._guard(self.checkpoints.on_fit_start, trainer, event)

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        self._guard(self.checkpoints.on_epoch_end, trainer, event)

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        self._guard(self.checkpoints.on_fit_end, trainer, event)
        self._guard(lambda: save_run(self.folder, trainer.project, trainer.model, event))

    def _guard(self, fn: Callable[..., object], *args: object) -> None:
        try:
            fn(*args)
        except Exception as exc:  # reported to the learner; training must go on
            log.exception("saving the run into %s failed", self.folder)
            if not self._reported:
                self._reported = True
                self._failed(f"the run could not be saved in {self.folder}: {exc}")


class RunTracker(QObject):
    """Gives each run its folder and remembers the latest one; :meth:`end_note` says where a finished run was saved."""

    _saveFailed = Signal(str)  # emitted from the worker thread, received in the GUI thread

    def __init__(self, root: Callable[[], Path] = runs_root, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = root
        self.current: Path | None = None  # the folder of the run being trained (or last trained)
        self.latest: Path | None = None  # the folder of the last run that ended with a final checkpoint
        self._problem = ""
        self._saveFailed.connect(self._save_failed)

    def callbacks(self, project: Project) -> list[Callback]:
        """The engine callbacks for a run of ``project`` starting now (creates its folder)."""
        self._problem = ""
        try:
            self.current = new_run_folder(self._root(), project)
        except OSError as exc:
            self.current = None
            self._problem = f"Checkpoints are off: cannot create a run folder in {self._root()} ({exc.strerror})."
            return []
        return [RunSaver(self.current, project, self._saveFailed.emit)]

    @Slot(str)
    def adopt(self, folder: str) -> None:
        """A run in another process writes its run folder itself: ``folder`` is the current run's."""
        self._problem = ""
        self.current = Path(folder)

    def root(self) -> Path:
        """The folder that holds the run folders."""
        return self._root()

    def latest_checkpoint(self) -> Path | None:
        """The newest checkpoint of this session's last run, else of the newest run folder on disk."""
        found = latest_checkpoint(self.latest) if self.latest is not None else None
        return found or newest_checkpoint(self._root())

    @Slot(str)
    def _save_failed(self, message: str) -> None:
        self._problem = f"Not saved: {message}"

    def _saved(self) -> bool:
        return self.current is not None and not self._problem

    def end_note(self, _event: FitEnd) -> str:
        """For the status bar at the end of a fit: where the run is saved, or why it is not."""
        return f"Saved in {self.current}" if self._saved() else self._problem

    @Slot(object)
    def fit_ended(self, _event: FitEnd) -> None:
        """Remember the run as the latest one to resume, export or fine-tune from (when it was saved)."""
        if self._saved():
            self.latest = self.current
