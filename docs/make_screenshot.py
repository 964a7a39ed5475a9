"""Make docs/screenshot.png: the main window at 1280×800 in the middle of a training run.

Run from the repository root: ``python docs/make_screenshot.py [--theme light|dark] [--out PATH]``.
It renders offscreen (no display needed), keeps its settings in a temporary folder so the
user's window layout is neither used nor changed, trains the default project for a few
epochs and grabs the window while training is still running.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SIZE = (1280, 800)

from studio.core.callbacks import Callback  # noqa: E402  (Qt-free; the app is imported in main)


def wait_for(app, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Process events until ``condition`` holds; fail loudly after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)  # a script, not a test: yield the CPU to the worker thread


class Pace(Callback):
    """Waits 20 ms at each reported batch (every 10 batches): about 10 epochs a second."""

    def on_train_batch_end(self, trainer: object, event: object) -> None:
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--epochs", type=int, default=8, help="grab after this many finished epochs (of 12)")
    parser.add_argument("--tab", choices=("network", "data", "optimizer"), default="network")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["STUDIO_THEME"] = args.theme

    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QComboBox, QSpinBox

    from studio.app import create_app

    app = create_app([sys.argv[0]])
    settings_dir = tempfile.mkdtemp(prefix="studio-screenshot-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
    QCoreApplication.setOrganizationName("studio-screenshot")
    QSettings().setValue("runs/folder", str(Path(settings_dir) / "runs"))  # the runs stay out of the user's

    from studio.core.presets import default_project
    from studio.ui.dialogs import ScriptedDialogs
    from studio.ui.main_window import MainWindow

    window = MainWindow(project=default_project(), dialogs=ScriptedDialogs())
    window.resize(*SIZE)
    window.show()
    window.show_settings(args.tab)
    wait_for(app, lambda: window.data_panel.prepared() is not None, 60, "the data")
    epochs_seen: list[int] = []
    window.host.worker.epochsEnded.connect(lambda events: epochs_seen.extend(e.epoch for e in events))
    # A short earlier run with plain SGD, so the run history has something to compare with.
    epochs = window.findChild(QSpinBox, "epochsSpin")
    optimizer = window.findChild(QComboBox, "optimizerCombo")
    optimizer.setCurrentIndex(optimizer.findData("sgd"))
    epochs.setValue(3)
    window.commands["train"].trigger()
    wait_for(app, lambda: not window.training.busy(), 600, "the first run")
    optimizer.setCurrentIndex(optimizer.findData("adam"))
    epochs.setValue(12)
    # The default model trains 30 epochs a second here: slow this run to a pace a person watches,
    # so that the grab shows a run in progress with the status bar caught up.
    window.training.add_run_callbacks(lambda _project: [Pace()])
    epochs_seen.clear()
    window.commands["train"].trigger()
    wait_for(app, lambda: len(epochs_seen) >= args.epochs, 600, f"{args.epochs} epochs")
    # The status bar shows at most 4 updates a second: let it catch up, as it does on screen.
    wait_for(app, lambda: window.status.epochs.value() >= args.epochs, 10, "the status bar")
    window.plots.refresh()
    app.processEvents()
    image = window.grab()
    window.shutdown()  # stops the run and joins the worker thread
    if not image.save(args.out):
        raise SystemExit(f"could not write {args.out}")
    print(f"wrote {args.out} ({image.width()}×{image.height()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
