"""Past runs in the run history: read back from their folders at start, opened, renamed and deleted.

Part of the runs feature (:class:`~studio.ui.run_commands.RunCommands` makes one): the history
table asks (open/rename/delete of one saved run), this does it on disk through
:mod:`studio.core.run_records` and tells the table. Opening a run shows its project and makes it
the run that Export, Resume and Fine-tune start from.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from studio.core.history import RunRecord
from studio.core.run_records import RunFolderError, delete_run, rename_run, saved_records
from studio.core.vocab import MessageKind
from studio.ui.dialogs import Message
from studio.ui.runs import RunTracker
from studio.ui.shell import Shell


class RunLibrary(QObject):
    """Fills the history with the runs saved under the tracker's root and acts on its requests."""

    def __init__(self, shell: Shell, tracker: RunTracker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.w = shell
        self.tracker = tracker
        shell.history.openRequested.connect(self.open_run)
        shell.history.renameRequested.connect(self.rename)
        shell.history.deleteRequested.connect(self.delete)
        shell.history.show_saved(saved_records(tracker.root()))

    @Slot(object)
    def open_run(self, record: RunRecord) -> bool:
        """Show the run's project (after asking about unsaved changes); Export/Resume use this run from now."""
        if record.folder is None or not self.w.document.maybe_save():
            return False
        self.w.document.adopt(record.project.copy())
        self.tracker.latest = record.folder
        self.w.status.show_message(f"Opened the run “{record.name}”: Export, Resume and Fine-tune now use it.")
        return True

    @Slot(object)
    def rename(self, record: RunRecord) -> bool:
        if record.folder is None:
            return False
        name = self.w.dialogs.text("Rename run", "New name of the run:", record.name)
        if name is None:
            return False
        try:
            kept = rename_run(record.folder, name)
        except RunFolderError as exc:
            self.w.dialogs.message(Message(MessageKind.ERROR, "Cannot rename the run", str(exc)))
            return False
        self.w.history.rename_run(record.id, kept)
        return True

    @Slot(object)
    def delete(self, record: RunRecord) -> bool:
        """Delete the run's folder after a confirmation (there is no undo)."""
        if record.folder is None:
            return False
        question = Message(
            MessageKind.QUESTION, "Delete run",
            f"Delete the run “{record.name}”? Its folder {record.folder} (weights, checkpoints, metrics) is "
            "removed from the disk; this cannot be undone.", ("delete", "cancel"), "cancel",
        )
        if self.w.dialogs.message(question) != "delete":
            return False
        try:
            delete_run(record.folder, self.tracker.root())
        except RunFolderError as exc:
            self.w.dialogs.message(Message(MessageKind.ERROR, "Cannot delete the run", str(exc)))
            return False
        if self.tracker.latest == record.folder:
            self.tracker.latest = None
        self.w.history.remove_run(record.id)
        self.w.status.show_message(f"Deleted the run “{record.name}”.")
        return True
