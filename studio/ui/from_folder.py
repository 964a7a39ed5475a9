"""File › New from Image Folder…: pick a folder with one sub-folder per class; the studio reads it once
(in the worker, with progress in the status bar's job), lists what it found and opens the proposed
fine-tuning project (``studio.core.from_folder``) as a new, unsaved document.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from studio.core.from_folder import Survey, propose, survey
from studio.core.vocab import MessageKind
from studio.ui.dialogs import Message
from studio.ui.shell import Shell
from studio.ui.workers import Job

ACTION_NAME = "newFromFolderAction"


class FolderProjects(QObject):
    """The New from Image Folder command (a feature: it only uses the :class:`Shell`)."""

    def __init__(self, shell: Shell) -> None:
        super().__init__(shell.dialog_parent())
        self.w = shell
        self.job: Job | None = None
        shell.commands["new_from_folder"].setObjectName(ACTION_NAME)
        shell.commands.connect({"new_from_folder": self.choose})

    def choose(self, folder: str | None = None) -> Job | None:
        """Ask for the folder (unless given), then read it in the worker; the job, or None when cancelled."""
        folder = folder or self.w.dialogs.folder("New project from an image folder")
        if folder is None or not self.w.document.maybe_save():
            return None
        self.job = job = self.w.worker.submit("Reading the pictures", survey, folder)
        job.finished.connect(self._surveyed)
        job.failed.connect(self._failed)
        return job

    def _surveyed(self, found: Survey) -> None:
        self.w.document.adopt(propose(found))
        lines = found.lines()
        kind = MessageKind.WARNING if any(line.startswith("warning") for line in lines) else MessageKind.INFO
        self.w.dialogs.message(Message(kind, "New project from an image folder",
                                       f"{sum(found.counts):,} pictures in {len(found.classes)} classes; the "
                                       "proposed network fine-tunes a backbone with a new head. Press Train.",
                                       details="\n".join(lines)))

    def _failed(self, message: str) -> None:
        self.w.dialogs.message(Message(MessageKind.ERROR, "Cannot read the image folder", message))
