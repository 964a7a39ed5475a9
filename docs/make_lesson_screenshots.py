"""Make docs/images/lesson-*.png: the window after a classic lesson opened from the Experiments menu has
been trained, for the lesson pages that show a training run (the perceptron, the curve fit, the deep plain
network of the residual lesson).

Run from the repository root: ``python docs/make_lesson_screenshots.py [PRESET ...]`` (offscreen, settings
kept in a temporary folder); without presets, every lesson below.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

from make_screenshot import SIZE, wait_for  # noqa: E402

# preset -> (image, Inspect sub-tab to show after training, or None for the training view)
LESSONS = {"perceptron": ("lesson-perceptron.png", None), "curve-fit-tanh": ("lesson-curve-fit.png", "Boundary / fit"),
           "residual-depth": ("lesson-residual.png", None)}


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtGui import QAction

    from studio.app import create_app
    from studio.ui.dialogs import ScriptedDialogs
    from studio.ui.main_window import MainWindow
    from studio.ui.workspace import TRAIN_PAGE

    app = create_app([sys.argv[0]])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="studio-"))
    QCoreApplication.setOrganizationName("studio-lesson-screenshots")
    QSettings().setValue("runs/folder", tempfile.mkdtemp(prefix="studio-runs-"))  # not the user's run folders
    window = MainWindow(dialogs=ScriptedDialogs())
    window.resize(*SIZE)
    window.show()
    chosen = sys.argv[1:] or list(LESSONS)
    for preset, (name, inspect_tab) in ((p, LESSONS[p]) for p in chosen):
        window.findChild(QAction, f"lesson_{preset}").trigger()
        window.workspace.show_page(TRAIN_PAGE)  # a comparison lesson opens the Lab; its preset trains here
        wait_for(app, lambda: window.document.project.name and window.data_panel.prepared() is not None, 60,
                 f"the data of {preset}")
        window.commands["train"].trigger()
        wait_for(app, lambda: not window.training.busy(), 600, f"training {preset}")
        window.plots.refresh()
        if inspect_tab:
            show_inspect(window, inspect_tab)
        app.processEvents()
        out = ROOT / "docs" / "images" / name
        if not window.grab().save(str(out)):
            raise SystemExit(f"could not write {out}")
        print(f"wrote {out}")
    window.shutdown()
    return 0


def show_inspect(window, title: str) -> None:
    """Bring the Inspect tab forward, on its sub-tab called ``title``."""
    from PySide6.QtWidgets import QTabWidget

    workspace = window.centralWidget()
    for index in range(workspace.count()):
        if workspace.tabText(index) == "Inspect":
            workspace.setCurrentIndex(index)
    tabs = window.findChild(QTabWidget, "inspectTabs")
    tabs.setCurrentIndex([tabs.tabText(i) for i in range(tabs.count())].index(title))


if __name__ == "__main__":
    sys.exit(main())
