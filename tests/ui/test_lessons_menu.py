"""The Experiments menu opens each classic lesson's preset on the page that runs it, with its explanation."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from studio.core.lab.lessons import LESSONS
from studio.core.presets import load_preset
from tests.ui.conftest import open_window


@pytest.fixture
def window(qtbot, temp_settings, host):
    win = open_window(qtbot, host)
    yield win
    win.document.dirty = False
    win.shutdown()


def test_menu_lists_every_lesson_before_help(window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles.index("Experiments") == titles.index("Help") - 1
    menu = window.findChild(QMenu, "experimentsMenu")
    assert [a.objectName() for a in menu.actions()] == [f"lesson_{name}" for name in LESSONS.names()]


@pytest.mark.parametrize(("name", "page"), [("perceptron", None), ("init-tanh-deep", "probe"), ("batchnorm",
                                                                                                "compare_page")])
def test_a_lesson_opens_its_preset_page_and_explanation(window, name, page):
    window.findChild(QAction, f"lesson_{name}").trigger()
    preset = load_preset(name)
    assert window.document.project == preset and window.document.path is None
    workspace = window.workspace
    assert window.centralWidget() is workspace
    if page is None:
        assert workspace.current_name() == "train" and workspace.currentIndex() == 0
    else:
        assert workspace.current_name() == "lab" and workspace.currentWidget().isAncestorOf(window.lab)
        assert window.lab.currentWidget() is getattr(window.lab, page)
    shown = window.dialogs.shown[-1]
    assert shown.title == LESSONS.get(name).title and shown.text == preset.description and shown.details


def test_unsaved_changes_are_asked_about_first(window):
    window.document.touch()
    window.dialogs.answers.append("cancel")
    before = window.document.project
    window.findChild(QAction, "lesson_perceptron").trigger()
    assert window.document.project is before
