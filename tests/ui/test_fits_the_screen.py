"""Fits the screen (issue 15, point 6): at 1280×800 and 1024×700 every page and settings tab is grabbed
as a screenshot and no visible widget is squeezed below its minimum size; the editors' settings never
scroll sideways; layers without weights hide init/frozen/learning-rate; Open starts in the projects
folder; View > Theme switches between system, light and dark.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QApplication

from studio.ui import style
from studio.ui.dialogs import ScriptedDialogs
from studio.ui.main_window import MINIMUM_SIZE, minimum_size
from tests.ui.conftest import open_window, tiny_project, train_until_idle
from tests.ui.layout_check import clipped

SIZES = ((1280, 800), (1024, 700))


def settle() -> None:
    for _ in range(5):  # offscreen layouts settle over a few passes (docs/notes.md)
        QApplication.processEvents()


def sideways(window) -> list[str]:
    """Scroll areas of the Train page that show a horizontal scroll bar (their content is cut or must scroll)."""
    return [area.objectName() or type(area.widget()).__name__ for area in window.split.findChildren(QAbstractScrollArea)
            if area.isVisible() and area.horizontalScrollBar().isVisible() and area is not window.history.table]


@pytest.mark.parametrize("size", SIZES, ids=["1280x800", "1024x700"])
def test_every_page_fits_without_clipping(qtbot, temp_settings, host, tmp_path: Path, size) -> None:
    window = open_window(qtbot, host, tiny_project())
    train_until_idle(qtbot, window)  # the history, the plots and the Inspect views have content
    window.resize(*size)
    settle()
    assert window.size().toTuple() == size
    for page in window.workspace.names():
        window.workspace.show_page(page)
        for tab in ("network", "data", "optimizer") if page == "train" else ("",):
            if tab:
                window.show_settings(tab)
            settle()
            shot = tmp_path / f"{page}-{tab}-{size[0]}.png"
            assert window.grab().save(str(shot)) and shot.stat().st_size > 0
            assert clipped(window) == [], f"{page} {tab} at {size}"
            if page == "train":
                assert sideways(window) == [], f"{tab} at {size}"
    export = window.runs.export()
    export.show()
    settle()
    assert clipped(export) == []
    export.close()


def test_the_window_has_a_minimum_size_that_fits_a_small_screen(qtbot, temp_settings, host) -> None:
    window = open_window(qtbot, host, tiny_project())
    assert MINIMUM_SIZE[0] <= 1024 and MINIMUM_SIZE[1] <= 700
    assert minimum_size(QSize(1920, 1080)).toTuple() == MINIMUM_SIZE
    assert minimum_size(QSize(800, 800)).toTuple() == (800, 640)  # never more than a small screen offers
    expected = minimum_size(window.screen().availableGeometry().size())
    assert window.minimumSize() == expected
    window.resize(400, 300)
    settle()
    assert window.width() >= expected.width() and window.height() >= expected.height()


def test_layers_without_weights_hide_init_frozen_and_learning_rate(qtbot, temp_settings, host) -> None:
    window = open_window(qtbot, host, tiny_project())
    properties = window.editor.properties
    for row, learnable in ((0, True), (1, False), (2, True)):  # Linear, ReLU, Linear
        window.editor.stack_view.select_row(row)
        settle()
        assert properties.weights_box.isVisible() == learnable
        assert properties.fine_tuning.isVisible() == learnable and properties.init_combo.isVisible() == learnable


def test_open_starts_in_the_projects_folder(qtbot, temp_settings, host) -> None:
    class Recording(ScriptedDialogs):
        starts: list[str] = []

        def open_file(self, title: str, filters: str, start: str = "") -> str | None:
            self.starts.append(start)
            return None

    window = open_window(qtbot, host, tiny_project(), Recording())
    window.commands["open"].trigger()
    projects = temp_settings.parent / "projects"
    assert Recording.starts == [str(projects)] and projects.is_dir()


def test_view_theme_menu_switches_and_remembers(qtbot, temp_settings, host, monkeypatch) -> None:
    monkeypatch.delenv("STUDIO_THEME", raising=False)
    window = open_window(qtbot, host, tiny_project())
    menu = window.commands.menus["theme"]
    names = [action.objectName() for action in menu.actions()]
    assert names == ["theme_system", "theme_light", "theme_dark"]
    assert menu.actions()[0].isChecked()
    try:
        menu.actions()[2].trigger()
        window_colour = QApplication.instance().palette().color(QPalette.ColorRole.Window)
        assert window_colour.lightness() < 80 and style.chosen_theme() == "dark"
        assert menu.actions()[2].isChecked() and not menu.actions()[0].isChecked()
        menu.actions()[1].trigger()
        assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() > 200
    finally:
        style.set_theme("system")


def test_preview_captions_never_run_into_each_other(qtbot) -> None:
    from PySide6.QtGui import QImage

    from studio.ui.widgets.data_preview import ImageGrid

    grid = ImageGrid()
    qtbot.addWidget(grid)
    image = QImage(8, 8, QImage.Format.Format_Grayscale8)
    image.fill(128)
    grid.set_images([image] * 8, ["automobile", "truck"] * 4)
    grid.resize(300, 120)  # 8 columns of about 37 px
    metrics = grid.fontMetrics()
    cell = grid.width() // 8
    assert all(metrics.horizontalAdvance(text) <= cell for text in grid.captions())
    assert grid.captions()[0].endswith("…") and grid.toolTip() == "automobile · truck"
    assert grid.grab().width() == 300
