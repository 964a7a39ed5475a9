"""File › New from Image Folder…: a real folder of pictures becomes the open project, its warnings shown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from studio.ui.dialogs import ScriptedDialogs
from tests.ui.conftest import LOAD_TIMEOUT_MS, open_window, tiny_project


def _pictures(root: Path) -> Path:
    rng = np.random.default_rng(3)
    for name, count in (("apples", 3), ("pears", 2)):
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(root / name / f"{i}.jpg")
    (root / "pears" / "broken.jpg").write_bytes(b"not a jpeg")
    return root


def test_new_from_image_folder_opens_the_proposed_project(qtbot, host, temp_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    folder = _pictures(tmp_path / "fruit")
    dialogs = ScriptedDialogs(paths=[str(folder)])
    window = open_window(qtbot, host, tiny_project(), dialogs=dialogs)
    action = window.commands["new_from_folder"]
    assert action.objectName() == "newFromFolderAction" and action in window.commands.menus["file"].actions()
    action.trigger()
    qtbot.waitUntil(lambda: bool(dialogs.shown), timeout=LOAD_TIMEOUT_MS * 4)
    project = window.current_project()
    assert [row.type for row in project.model.layers] == ["Backbone", "Dropout", "Linear"]
    assert project.model.layers[2].params["out_features"] == 2 and project.data.params["root"] == str(folder)
    assert window.editor.model().layers[0].type == "Backbone"  # the panels show the new project
    message = dialogs.shown[-1]
    assert message.title == "New project from an image folder" and "5 pictures in 2 classes" in message.text
    assert "apples: 3 pictures" in message.details and "warning: skipped pears/broken.jpg" in message.details
    window.show_settings("data")
    qtbot.waitUntil(lambda: window.data_panel.backbone.isVisible(), timeout=LOAD_TIMEOUT_MS)
    assert "224×224 RGB" in window.data_panel.backbone.text()
    window.grab().save(str(tmp_path / "from_folder.png"))
