"""Shared scaffolding of the GUI tests: the real worker thread, settings kept out of the user's, tiny
projects, and a window whose data has loaded.

Fixtures (``host``, ``temp_settings``) reach every test here by name; the helpers are plain
functions that tests import (``from tests.ui.conftest import tiny_project, open_window``).
"""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QUndoStack

from studio.core.events import FitEnd
from studio.core.presets import default_project
from studio.core.project import ModelSpec, Project
from studio.ui.dialogs import ScriptedDialogs
from studio.ui.main_window import MainWindow
from studio.ui.widgets.layer_editor import LayerEditor
from studio.ui.workers import WorkerHost

LOAD_TIMEOUT_MS = 30_000
RUN_TIMEOUT_MS = 90_000

_names = itertools.count()


@pytest.fixture
def temp_settings(qapp, tmp_path):
    """Point QSettings at a temporary folder under a unique organization for this test."""
    old = QCoreApplication.organizationName(), QCoreApplication.applicationName()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QCoreApplication.setOrganizationName(f"studio-test-{next(_names)}")
    QCoreApplication.setApplicationName("Training Studio Test")
    QSettings().setValue("runs/folder", str(tmp_path / "runs"))  # run folders of GUI training stay in the test
    QSettings().setValue("projects/folder", str(tmp_path / "projects"))  # so do Open's and Save As's folder
    yield tmp_path / "settings"
    QCoreApplication.setOrganizationName(old[0])
    QCoreApplication.setApplicationName(old[1])


@pytest.fixture
def host(qapp):
    """The one worker thread, joined after the test."""
    host = WorkerHost()
    yield host
    host.shutdown()
    assert not host.is_running()


@pytest.fixture
def stack() -> QUndoStack:
    """The undo stack a bare layer editor records its edits on."""
    return QUndoStack()


def open_editor(qtbot, stack: QUndoStack, shape: tuple[int, ...], outputs: int, label: str,
                model: ModelSpec | None = None, size: tuple[int, int] = (1100, 600)) -> LayerEditor:
    """A layer editor outside the window, told its input (and, given one, its network)."""
    editor = LayerEditor(stack)
    qtbot.addWidget(editor)
    editor.set_input(shape, outputs, label)
    if model is not None:
        editor.set_model(model)
    editor.resize(*size)
    return editor


def open_window(qtbot, host, project=None, dialogs=None, **options) -> MainWindow:
    """A shown window whose data has finished loading (its dialogs answered by a script);
    ``options`` go to :class:`MainWindow` (e.g. ``features``)."""
    window = MainWindow(project=project, host=host, dialogs=dialogs or ScriptedDialogs(), **options)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.data_panel.prepared() is not None, timeout=LOAD_TIMEOUT_MS)
    return window


def tiny_project(epochs: int = 1, per_class: int = 10, batch_size: int = 16, **training: object) -> Project:
    """The default digits MLP on ``per_class`` training images per class: runs in a second or two."""
    project = default_project()
    project.data.subset_per_class = per_class
    project.training.epochs = epochs
    project.training.batch_size = batch_size
    for key, value in training.items():
        setattr(project.training, key, value)
    return project


def train_until_idle(qtbot, window: MainWindow) -> FitEnd:
    """Press Train, wait until the run has ended and the window is idle again; the run's FitEnd."""
    with qtbot.waitSignal(window.host.worker.fitEnded, timeout=RUN_TIMEOUT_MS) as ended:
        window.commands["train"].trigger()
    qtbot.waitUntil(lambda: not window.training.busy(), timeout=RUN_TIMEOUT_MS)
    return ended.args[0]


def emissions(signal) -> list[tuple]:
    """A list that grows with every delivery of ``signal`` (its arguments), for ``qtbot.waitUntil``.

    Use it instead of ``qtbot.waitSignal`` for signals emitted many times a second from the worker
    thread: a queued emission can still reach pytest-qt's blocker after the blocker disconnected and
    was freed, which crashed PySide intermittently. A lambda connected here lives as long as the
    connection.
    """
    seen: list[tuple] = []
    signal.connect(lambda *args: seen.append(args))
    return seen
