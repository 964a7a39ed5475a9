"""Make docs/images/editor-blocks.png: the Network tab at 1280×800 with a network built from blocks (a Residual
holding Conv rows, a Parallel with two branches, a Repeat holding a Residual), a row inside a block selected.

Run from the repository root: ``python docs/make_editor_screenshots.py [--out-dir DIR]`` (offscreen, settings
kept in a temporary folder). The data is a small image folder of 32×32 colour pictures written for the run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

from make_screenshot import SIZE, wait_for  # noqa: E402

from studio.core.project import LayerSpec, ModelSpec  # noqa: E402


def conv(channels: int, kernel: int = 3, stride: int = 1) -> LayerSpec:
    return LayerSpec("Conv2d", {"out_channels": channels, "kernel_size": kernel, "stride": stride,
                                "padding": kernel // 2})


def blocks_network() -> ModelSpec:
    """A small ResNet-style network with one of each block."""
    return ModelSpec([
        conv(16),
        LayerSpec("ReLU"),
        LayerSpec("Residual", {"projection": "auto"},
                  layers=[conv(32, stride=2), LayerSpec("BatchNorm2d"), LayerSpec("ReLU"), conv(32)]),
        LayerSpec("Parallel", {"join": "concat"}, layers=[conv(16, kernel=1), conv(16, kernel=3)]),
        LayerSpec("Repeat", {"times": 3}, layers=[
            LayerSpec("Residual", {"projection": "auto"}, layers=[conv(32), LayerSpec("ReLU")]),
        ]),
        LayerSpec("AdaptiveAvgPool2d", {"output_size": 1}),
        LayerSpec("Flatten"),
        LayerSpec("Linear", {"out_features": 3}),
    ])


def image_folder(root: Path) -> Path:
    """Three classes of five 32×32 pictures (PNG), enough for the window to read the input shape."""
    from PIL import Image

    for number, name in enumerate(("cats", "dogs", "birds")):
        (root / name).mkdir(parents=True)
        for i in range(5):
            Image.new("RGB", (32, 32), (40 * number, 20 * i, 90)).save(root / name / f"{i}.png")
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(ROOT / "docs" / "images"))
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QSettings

    from studio.app import create_app
    from studio.core.presets import default_project
    from studio.core.project import DataSpec
    from studio.ui.dialogs import ScriptedDialogs
    from studio.ui.main_window import MainWindow

    app = create_app([sys.argv[0]])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    settings_dir = tempfile.mkdtemp(prefix="studio-")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
    QCoreApplication.setOrganizationName("studio-editor-screenshots")
    QSettings().setValue("runs/folder", str(Path(settings_dir) / "runs"))  # no runs of the user's in the picture
    project = default_project()
    project.name = "Blocks"
    root = image_folder(Path(tempfile.mkdtemp(prefix="studio-pictures-")) / "pictures")
    project.data = DataSpec("image_folder", {"root": str(root), "image_size": 32, "channels": "rgb"})
    project.model = blocks_network()
    window = MainWindow(project=project, dialogs=ScriptedDialogs())
    window.resize(*SIZE)
    window.show()
    wait_for(app, lambda: window.data_panel.prepared() is not None, 60, "the data")
    window.split.setSizes([600, 200])  # the editor tall, the plots short: the pictures are about the tree
    window.top.setSizes([1080, 200])
    editor = window.editor
    out = Path(args.out_dir)
    editor.stack_view.select_row((2, 0))
    for _ in range(5):  # offscreen grabs right after a layout change can be stale
        app.processEvents()
    name = out / "editor-blocks.png"
    if not window.grab().save(str(name)):
        raise SystemExit(f"could not write {name}")
    print(f"wrote {name}")
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
