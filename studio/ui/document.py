"""The open project: one :class:`Project`, its file, whether it has unsaved changes, recent files.

The panels edit ``document.project`` and call :meth:`ProjectDocument.touch`; New/Open/Save ask
through :class:`Dialogs`, so every prompt is scriptable in tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Signal

from studio.core.errors import StudioError
from studio.core.presets import load_preset, preset_names
from studio.core.project import Project, load_project, save_project
from studio.core.summary import derived_name
from studio.core.vocab import MessageKind
from studio.ui.dialogs import Dialogs, Message

PROJECT_FILTER = "Training Studio projects (*.json);;All files (*)"
PROJECTS_FOLDER_KEY = "projects/folder"
RECENT_KEY = "recentFiles"
MAX_RECENT = 8


def projects_folder() -> Path:
    """Where the learner's projects live: the ``projects/folder`` setting, else "Training Studio" in Documents."""
    chosen = QSettings().value(PROJECTS_FOLDER_KEY, "")
    if chosen:
        return Path(str(chosen))
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents or Path.home()) / "Training Studio"


@cache
def preset_titles() -> frozenset[str]:
    """The names the ready-made projects come with: a project still called one was not named by the learner."""
    return frozenset(load_preset(name).name for name in preset_names())


class ProjectDocument(QObject):
    """Owns the window's project and its file; emits ``replaced`` when a whole new project arrives."""

    replaced = Signal()
    dirtyChanged = Signal(bool)
    pathChanged = Signal(str)
    recentChanged = Signal(list)
    announced = Signal(str)  # what a command did, for the status bar ("Saved to …")

    def __init__(self, project: Project, dialogs: Dialogs, new_project: Callable[[], Project], parent=None) -> None:
        super().__init__(parent)
        self.project = project
        self.path: Path | None = None
        self.dirty = False
        self.dialogs = dialogs
        self._new_project = new_project
        self.own_name = False  # True once the learner named the project (a file of theirs); else the name follows

    # --- state ---------------------------------------------------------------------------------
    def touch(self) -> None:
        """Mark the project as changed since the last save; an unnamed project's name follows the edit."""
        if not self.own_name:
            # Not still "Digits MLP" after the learner built something else: run folders and model cards
            # are named after the project.
            self.project.name = derived_name(self.project)
        self._set_dirty(True)

    def title(self) -> str:
        """The window title: file name (or project name) with a star when unsaved."""
        name = self.path.name if self.path else self.project.name
        return f"{name}{' *' if self.dirty else ''} — Training Studio"

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirtyChanged.emit(dirty)

    def _replace(self, project: Project, path: Path | None) -> None:
        self.project = project
        self.path = path
        self.own_name = path is not None and project.name not in preset_titles()
        self.pathChanged.emit(str(path or ""))
        self.replaced.emit()
        self._set_dirty(False)

    # --- commands ------------------------------------------------------------------------------
    def new(self) -> bool:
        """Replace the project by a fresh default one, after asking to save changes."""
        if not self.maybe_save():
            return False
        project = self._new_project()
        project.name = derived_name(project)  # a new project is not still called after the preset it starts from
        self._replace(project, None)
        self.announced.emit("New project.")
        return True

    def open(self, path: str | Path | None = None) -> bool:
        """Open ``path`` (or ask for one); a bad file is reported and the current project stays."""
        if not self.maybe_save():
            return False
        if path is None:
            path = self.dialogs.open_file("Open project", PROJECT_FILTER, str(self._start_folder()))
            if path is None:
                return False
        try:
            project = load_project(path)
        except StudioError as exc:
            self.dialogs.message(Message(MessageKind.ERROR, "Cannot open project", str(exc)))
            self._forget_recent(Path(path))
            return False
        self._replace(project, Path(path))
        self._remember_recent(Path(path))
        self.announced.emit(f"Opened {path}.")
        return True

    def adopt(self, project: Project) -> None:
        """Show ``project`` (e.g. the one saved in a checkpoint) as a document without a file yet.

        The caller asks about unsaved changes first (:meth:`maybe_save`).
        """
        self._replace(project, None)
        self.announced.emit(f"Opened the project “{project.name}” (not saved to a file yet).")

    def save(self) -> bool:
        """Save to the current file, or ask for one; returns False when cancelled or failed."""
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self) -> bool:
        stem = "-".join(re.sub(r"[^\w\-]+", " ", self.project.name).split()) or "project"
        suggested = str(self.path or self._start_folder() / f"{stem}.json")
        path = self.dialogs.save_file("Save project as", PROJECT_FILTER, suggested)
        if path is None:
            return False
        if Path(path).suffix == "":
            path = f"{path}.json"
        return self._write(Path(path))

    def _write(self, path: Path) -> bool:
        if not self.own_name:
            self.project.name = path.stem  # saved as "mine.json": the project is "mine" from now on
        try:
            save_project(path, self.project)
        except OSError as exc:
            text = f"Could not write {path}: {exc.strerror}"
            self.dialogs.message(Message(MessageKind.ERROR, "Cannot save project", text))
            return False
        self.own_name = True
        if path != self.path:
            self.path = path
            self.pathChanged.emit(str(path))
        self._remember_recent(path)
        self._set_dirty(False)
        self.announced.emit(f"Saved to {path}.")
        return True

    def _start_folder(self) -> Path:
        """Where Open and Save As start: the open file's folder, else the projects folder (made if missing)."""
        if self.path is not None:
            return self.path.parent
        folder = projects_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return Path.home()  # a read-only Documents: the chooser still opens somewhere sensible
        return folder

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True means the caller may go on (saved or discarded)."""
        if not self.dirty:
            return True
        answer = self.dialogs.message(
            Message(
                MessageKind.QUESTION,
                "Unsaved changes",
                "The project has unsaved changes. Save them first?",
                ("save", "discard", "cancel"),
                "save",
            )
        )
        if answer == "save":
            return self.save()
        return answer == "discard"

    # --- recent files --------------------------------------------------------------------------
    def recent(self) -> list[str]:
        """Recently used project files, newest first, that still exist."""
        stored = QSettings().value(RECENT_KEY, [])  # a list, a lone string (one entry) or None (INI files)
        values = [stored] if isinstance(stored, str) else list(stored) if isinstance(stored, list) else []
        return [p for p in values if Path(p).is_file()]

    def _store_recent(self, paths: list[str]) -> None:
        QSettings().setValue(RECENT_KEY, paths[:MAX_RECENT])
        self.recentChanged.emit(paths[:MAX_RECENT])

    def _remember_recent(self, path: Path) -> None:
        text = str(path.resolve())
        self._store_recent([text, *[p for p in self.recent() if p != text]])

    def _forget_recent(self, path: Path) -> None:
        text = str(path.resolve())
        self._store_recent([p for p in self.recent() if p != text])
