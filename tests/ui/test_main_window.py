"""The main window: opens ready to train, automation names, persistence, files and closing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import QSplitter, QWidget

from studio.core.project import load_project, save_project
from studio.ui import style
from studio.ui.actions import ACTIONS
from studio.ui.dialogs import ScriptedDialogs
from studio.ui.main_window import MainWindow
from tests.ui.conftest import open_window

NAMES_FILE = Path(__file__).resolve().parents[2] / "docs" / "ui-names.md"


@pytest.fixture
def window(qtbot, temp_settings, host):
    win = open_window(qtbot, host)
    yield win
    win.shutdown()


def documented_names() -> list[str]:
    return re.findall(r"^\| `(\w+)` \|", NAMES_FILE.read_text(encoding="utf-8"), flags=re.MULTILINE)


def test_opens_on_the_default_project_ready_to_train(window):
    assert window.document.project.data.dataset == "digits"
    assert window.data_panel.prepared().input_shape == (64,)
    assert window.train_blocker() is None
    assert window.commands["train"].isEnabled()
    assert not window.commands["stop"].isEnabled() and not window.commands["pause"].isEnabled()
    assert "Digits MLP" in window.windowTitle()


def test_every_documented_control_has_its_object_and_accessible_name(window):
    names = documented_names()
    required = {"layerPalette", "layerStack", "layerProperties", "datasetCombo", "optimizerCombo",
                "learningRateSpin", "batchSizeSpin", "epochsSpin", "trainButton", "pauseButton", "stopButton",
                "lossPlot", "accuracyPlot", "activationPlot", "gradientPlot", "runHistory"}
    assert required <= set(names)
    missing = [n for n in names if window.findChild(QWidget, n) is None]
    assert not missing, f"documented but not found: {missing}"
    unnamed = [n for n in names if not window.findChild(QWidget, n).accessibleName()]
    assert not unnamed, f"no accessible name: {unnamed}"


def test_every_documented_action_exists_with_text(window):
    from PySide6.QtGui import QAction

    names = re.findall(r"^\| action: `(\w+)` \|", NAMES_FILE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert {"resumeRunAction", "fineTuneAction", "exportAction"} <= set(names)
    missing = [n for n in names if window.findChild(QAction, n) is None]
    assert not missing, f"documented but not found: {missing}"
    assert all(window.findChild(QAction, n).text() for n in names)


def test_main_shortcuts(window):
    assert QKeySequence("Ctrl+Return") in window.commands["train"].shortcuts()
    assert QKeySequence("Esc") in window.commands["stop"].shortcuts()
    assert not window.commands["train"].icon().isNull() and not window.commands["stop"].icon().isNull()


def test_geometry_splitters_and_tab_persist(qtbot, temp_settings, host):
    first = open_window(qtbot, host)
    first.resize(800, 700)  # inside the offscreen screen (800×800): restoreGeometry keeps windows on it
    first.split.setSizes([300, 420])
    first.show_settings("optimizer")
    sizes, size = first.split.sizes(), first.size()
    assert size.height() == 700
    first.close()
    assert QSettings().contains("window/geometry")
    second = MainWindow(host=host, dialogs=ScriptedDialogs())
    qtbot.addWidget(second)
    second.show()
    assert second.size() == size
    assert second.findChild(QSplitter, "mainSplitter").sizes()[0] == sizes[0]
    assert second.tabs.currentIndex() == 2


def test_save_as_open_and_recent_files(window, tmp_path, qtbot):
    window.findChild(QWidget, "epochsSpin").setValue(3)
    assert window.document.dirty and window.windowTitle().count("*") == 1
    target = tmp_path / "mine.json"
    window.dialogs.paths.append(str(target))
    window.commands["save_as"].trigger()
    assert load_project(target).training.epochs == 3
    assert not window.document.dirty and "mine.json" in window.windowTitle()
    assert window.document.recent() == [str(target.resolve())]
    assert [a.text() for a in window.commands.menus["recent"].actions()] == [str(target.resolve())]

    other = load_project(target)
    other.optimizer.params["lr"] = 0.05
    save_project(tmp_path / "other.json", other)
    window.dialogs.paths.append(str(tmp_path / "other.json"))
    window.commands["open"].trigger()
    assert window.findChild(QWidget, "learningRateSpin").value() == pytest.approx(0.05)
    assert window.document.recent()[0] == str((tmp_path / "other.json").resolve())


def test_a_corrupt_project_is_reported_and_the_current_one_kept(window, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"schema_version": 1, "model": ', encoding="utf-8")
    assert not window.document.open(bad)
    assert window.dialogs.shown[-1].kind == "error" and "broken.json" in window.dialogs.shown[-1].text
    assert window.document.project.name == "Digits MLP"


def test_open_is_all_or_nothing(window, tmp_path):
    """A file with an unknown schedule (and a new network and epochs) changes nothing; the dialog names the field."""
    project = window.document.project.to_dict()
    project["model"]["layers"] = [{"type": "Linear", "params": {"out_features": 7}}]
    project["training"]["epochs"] = 77
    project["schedule"] = {"name": "warp", "params": {}}
    bad = tmp_path / "warp.json"
    bad.write_text(json.dumps(project), encoding="utf-8")
    layers_before = [layer.type for layer in window.document.project.model.layers]
    epochs_before = window.findChild(QWidget, "epochsSpin").value()
    assert not window.document.open(bad)
    shown = window.dialogs.shown[-1]
    assert shown.kind == "error" and "schedule.name must be one of" in shown.text and "warp" in shown.text
    assert [layer.type for layer in window.document.project.model.layers] == layers_before
    assert window.findChild(QWidget, "epochsSpin").value() == epochs_before != 77
    assert window.document.project.schedule.name != "warp"


def test_closing_with_unsaved_changes_asks_and_can_be_cancelled(window):
    window.findChild(QWidget, "epochsSpin").setValue(4)
    window.dialogs.answers.append("cancel")
    assert not window.close()
    assert window.dialogs.shown[-1].title == "Unsaved changes" and window.host.is_running()
    window.dialogs.answers.append("discard")
    assert window.close()
    assert not window.host.is_running()


def test_new_project_asks_to_save_first(window, tmp_path):
    window.findChild(QWidget, "epochsSpin").setValue(5)
    window.dialogs.answers.append("save")
    window.dialogs.paths.append(str(tmp_path / "saved.json"))
    window.commands["new"].trigger()
    assert load_project(tmp_path / "saved.json").training.epochs == 5
    assert window.document.project.training.epochs == 20 and not window.document.dirty


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_palette_follows_the_theme(theme, monkeypatch, qapp):
    monkeypatch.setenv("STUDIO_THEME", theme)
    assert style.wants_dark(qapp) == (theme == "dark")
    window_color = style.make_palette(theme == "dark").color(QPalette.ColorRole.Window)
    assert (window_color.lightness() < 128) == (theme == "dark")


def test_icons_render_for_the_main_actions(qapp):
    named = {spec.icon for spec in ACTIONS if spec.icon}
    for name in named | {"app", "reload", "add", "delete", "up", "down", "duplicate"}:
        pixmap = style.icon(name).pixmap(32, 32)
        assert not pixmap.isNull() and pixmap.toImage().pixelColor(16, 16).alpha() >= 0


def test_create_app_names_the_settings_and_applies_the_theme(temp_settings, qapp):
    from PySide6.QtCore import QCoreApplication

    from studio.app import APPLICATION, ORGANIZATION, create_app

    assert create_app(["studio"]) is qapp  # reuses the running application
    assert (QCoreApplication.organizationName(), QCoreApplication.applicationName()) == (ORGANIZATION, APPLICATION)
    assert "QToolBar" in qapp.styleSheet()
    expected = style.make_palette(style.wants_dark(qapp)).color(QPalette.ColorRole.Window)
    assert qapp.palette().color(QPalette.ColorRole.Window) == expected
