"""Make docs/images/lab-*.png: every lab page with the results of a real (small) experiment.

Run from the repository root: ``python docs/make_lab_screenshots.py [--only NAME ...] [--out DIR]``.
It renders offscreen (no display needed), runs each experiment in the worker thread like the app does,
and grabs the page when the result is shown.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SIZE = (1180, 780)
TIMEOUT_S = 600


def wait_for(app, condition: Callable[[], bool], what: str) -> None:
    """Process events until ``condition`` holds; fail loudly after TIMEOUT_S."""
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)  # a script, not a test: yield the CPU to the worker thread


def run(app, widget, runner, start: Callable[[], None], what: str) -> None:
    """Show ``widget``, start its experiment and wait for the result (or stop on a failure)."""
    widget.resize(*SIZE)
    widget.show()
    outcome: list[object] = []
    runner.finished.connect(outcome.append)
    runner.failed.connect(lambda message: outcome.append(SystemExit(f"{what} failed: {message}")))
    start()
    wait_for(app, lambda: bool(outcome), what)
    if isinstance(outcome[0], SystemExit):
        raise outcome[0]
    for _ in range(20):  # let the last refresh and layout settle
        app.processEvents()


def save(widget, out: Path, name: str) -> None:
    path = out / f"lab-{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--only", nargs="*", help="pages to make (default: all)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("STUDIO_THEME", "light")  # the docs show the light theme whatever the system uses

    from PySide6.QtWidgets import QApplication

    from studio.core.presets import load_preset
    from studio.core.project import Choice
    from studio.ui import style
    from studio.ui.lab.compare_dialog import CompareDialog
    from studio.ui.lab.hints_panel import HintsPanel
    from studio.ui.lab.lr_finder_panel import LrFinderPanel
    from studio.ui.lab.modes_view import ModesView
    from studio.ui.lab.probe_panel import ProbePanel
    from studio.ui.lab.race_panel import RacePanel
    from studio.ui.lab.sanity_panel import SanityPanel
    from studio.ui.lab.source import LabSource
    from studio.ui.lab.sweep_panel import SweepPanel
    from studio.ui.workers import WorkerHost

    app = QApplication.instance() or QApplication(sys.argv)
    style.apply_style(app)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    host = WorkerHost()
    worker = host.worker

    def source(preset: str, change: Callable | None = None) -> LabSource:
        project = load_preset(preset)
        if change is not None:
            change(project)
        return LabSource(lambda: project)

    def probe() -> None:
        panel = ProbePanel(worker, source("init-tanh-deep"))
        run(app, panel, panel.runner, panel.start, "probe")
        save(panel, out, "probe")

    def race() -> None:
        panel = RacePanel(worker, source("digits-mlp"))
        panel.epochs.setValue(8)
        run(app, panel, panel.runner, panel.start, "race")
        save(panel, out, "race")

    def compare() -> None:
        project = load_preset("digits-mlp")
        project.training.epochs = 10
        dialog = CompareDialog(worker, project, "Run 1 (digits MLP, Adam)")
        dialog.choose("lr", "0.01")
        run(app, dialog, dialog.runner, dialog.start, "compare")
        save(dialog, out, "compare")
        dialog.close()

    def sanity() -> None:
        panel = SanityPanel(worker, source("digits-mlp"))
        run(app, panel, panel.runner, panel.start, "sanity check")
        save(panel, out, "sanity")
        failing = SanityPanel(worker, source("digits-mlp", lambda p: setattr(p.model, "init", "zeros")))
        failing.max_epochs.setValue(40)
        run(app, failing, failing.runner, failing.start, "failing sanity check")
        save(failing, out, "sanity-fail")

    def lr_finder() -> None:
        panel = LrFinderPanel(worker, source("digits-mlp"))
        run(app, panel, panel.runner, panel.start, "learning-rate finder")
        save(panel, out, "lr-finder")

    def hints() -> None:
        panel = HintsPanel()
        panel.connect_worker(worker)
        panel.resize(*SIZE)
        panel.show()

        def too_high(project) -> None:
            project.optimizer = Choice("sgd", {"lr": 2.0})
            project.data.subset_per_class = 20
            project.training.epochs = 8
            project.training.stats_every = 5

        project = source("digits-mlp", too_high).project()
        ended: list[object] = []
        worker.fitEnded.connect(ended.append)
        worker.start_training(project, None, [panel.callback()])
        wait_for(app, lambda: bool(ended), "training with diagnostics")
        for _ in range(20):
            app.processEvents()
        save(panel, out, "hints")

    def modes() -> None:
        panel = ModesView(worker, source("dropout"))
        panel.epochs.setValue(20)
        run(app, panel, panel.runner, panel.start, "train vs eval mode")
        save(panel, out, "modes")

    def sweep() -> None:
        panel = SweepPanel(worker, source("depth-vs-lr"))  # the lesson's grid, one seed a cell: a minute or two
        panel.set_options(["model.layers[0].params.times=2,4,8,16", "optimizer.params.lr=0.001,0.01,0.1,1,10"],
                          repeats=1, epochs=5)
        run(app, panel, panel.runner, panel.start, "sweep")
        panel.show_cell(0, 4)
        for _ in range(20):
            app.processEvents()
        save(panel, out, "sweep")

    pages = {"probe": probe, "race": race, "compare": compare, "sanity": sanity, "lr-finder": lr_finder,
             "hints": hints, "modes": modes, "sweep": sweep}
    try:
        for name, make in pages.items():
            if not args.only or name in args.only:
                make()
    finally:
        host.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
