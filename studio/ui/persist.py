"""What the window remembers between launches (QSettings): geometry, dock/toolbar state,
splitter positions, the open settings tab and the last project file (reopened at the next start).
Recent files live in :mod:`studio.ui.document`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget

DEFAULT_SIZE = (1280, 800)
LAST_PROJECT_KEY = "project/last"


def remember_project(path: str) -> None:
    """Remember the project file the window shows now (a project without a file leaves the last one)."""
    if path:
        QSettings().setValue(LAST_PROJECT_KEY, str(Path(path).resolve()))


def last_project() -> Path | None:
    """The project file shown when the studio was last used, if it still exists."""
    value = QSettings().value(LAST_PROJECT_KEY, "")
    path = Path(str(value)) if value else None
    return path if path is not None and path.is_file() else None


def save_window(window: QMainWindow, splitters: list[QSplitter], tabs: QTabWidget) -> None:
    settings = QSettings()
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
    for splitter in splitters:
        settings.setValue(f"window/{splitter.objectName()}", splitter.saveState())
    settings.setValue("window/tab", tabs.currentIndex())


def restore_geometry(window: QMainWindow) -> bool:
    """Put ``window`` where the main window was last closed; False (and 1280×800) on the first launch."""
    geometry = QSettings().value("window/geometry")
    if not isinstance(geometry, QByteArray) or not window.restoreGeometry(geometry):
        window.resize(*DEFAULT_SIZE)
        return False
    return True


def restore_window(window: QMainWindow, splitters: list[QSplitter], tabs: QTabWidget) -> bool:
    """Restore what :func:`save_window` stored; False (and a 1280×800 default) on the first launch."""
    if not restore_geometry(window):
        return False
    settings = QSettings()
    state = settings.value("window/state")
    if isinstance(state, QByteArray):
        window.restoreState(state)
    for splitter in splitters:
        value = settings.value(f"window/{splitter.objectName()}")
        if isinstance(value, QByteArray):
            splitter.restoreState(value)
    tabs.setCurrentIndex(int(str(settings.value("window/tab", 0))))
    return True
