"""How responsive is the GUI while it trains, and what does the GUI cost the training?

Trains the default project in the app (offscreen) and records how late a 10 ms timer in the
GUI thread fires, then trains the same project with the GUI idle and hidden ("headless"), in
the same worker thread (a second torch thread would trigger the OpenMP slowdown and spoil the
comparison). Runs alternate in pairs, headless first in every other pair, and the medians are
compared.

    .venv/bin/python benchmarks/ui_latency.py [--repeats 2] [--epochs N] [--target window|panel]

Goals: p99 lateness under 50 ms; GUI throughput at least 0.9x headless.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from studio.core.callbacks import Callback
from studio.core.presets import default_project
from studio.core.project import Project
from studio.ui.workers import WorkerHost
from studio.ui.workers.worker import engine_trainer

TICK_MS = 10
P99_GOAL_MS = 50.0
RATIO_GOAL = 0.9


class FitTimer(Callback):
    """Wall time of ``fit`` from its first to its last event, measured in the worker thread."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.samples = 0
        self._start = 0.0

    def on_fit_start(self, trainer: Any, event: Any) -> None:
        self.samples = event.n_train * event.total_epochs
        self._start = time.perf_counter()

    def on_fit_end(self, trainer: Any, event: Any) -> None:
        self.seconds.append(time.perf_counter() - self._start)

    def throughput(self) -> float:
        """Training samples per second of the last fit."""
        return self.samples / self.seconds[-1]


class LatenessProbe(QObject):
    """A 10 ms single-shot timer in the GUI thread, re-armed on every firing; records how late it fires."""

    def __init__(self) -> None:
        super().__init__()
        self.lateness_ms: list[float] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._fired)
        self._due = 0.0

    def start(self) -> None:
        self.lateness_ms = []
        self._arm()

    def stop(self) -> None:
        self._timer.stop()

    def _arm(self) -> None:
        self._due = time.perf_counter() + TICK_MS / 1000
        self._timer.start(TICK_MS)

    def _fired(self) -> None:
        self.lateness_ms.append(max(0.0, (time.perf_counter() - self._due) * 1000))
        self._arm()


def process_until(done: Callable[[], bool]) -> None:
    """Run the GUI event loop (as ``app.exec`` would) until ``done()``, checked every 20 ms."""
    if done():
        return
    loop = QEventLoop()
    check = QTimer()
    check.timeout.connect(lambda: done() and loop.quit())
    check.start(20)
    loop.exec()
    check.stop()


def run_job(host: WorkerHost, name: str, fn: Callable[..., object], *args: object) -> object:
    """Run one job in the worker thread and wait for its own result."""
    job = host.worker.submit(name, fn, *args)
    process_until(job.done)
    if job.error:
        raise RuntimeError(job.error)
    return job.result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


class WindowTarget:
    """The real main window, its data loaded by its own dataset panel; Train as a learner presses it."""

    def __init__(self, host: WorkerHost, project: Project) -> None:
        from studio.ui.dialogs import ScriptedDialogs
        from studio.ui.main_window import MainWindow

        self.window = MainWindow(project=project, host=host, dialogs=ScriptedDialogs())
        self.window.resize(1400, 900)
        self.window.show()
        process_until(lambda: self.window.data_panel.prepared() is not None)
        self.widget: QWidget = self.window

    def data(self) -> Any:
        return self.window.data_panel.prepared()

    def train(self) -> None:
        if not self.window.training.train():
            raise SystemExit("the main window refused to train")

    def idle(self) -> bool:
        return not self.window.training.busy()


class PanelTarget:
    """Only the plots panel on the worker's signals (for when the main window is not available)."""

    def __init__(self, host: WorkerHost, project: Project) -> None:
        from studio.core.data import prepare_data
        from studio.ui.plots import PlotsPanel

        self.host, self.project = host, project
        self.widget = PlotsPanel()
        self.widget.resize(1200, 700)
        self.widget.connect_worker(host.worker)
        self.widget.show()
        self._data = run_job(host, "data", prepare_data, project.data)

    def data(self) -> Any:
        return self._data

    def train(self) -> None:
        self.host.worker.start_training(self.project, self._data)

    def idle(self) -> bool:
        return not self.host.worker.is_training()


class Bench:
    """One headless run or one run in the GUI, measured; both append to the lists the report reads."""

    def __init__(self, host: WorkerHost, target: Any, project: Project, timer: FitTimer) -> None:
        self.host, self.target, self.project, self.timer = host, target, project, timer
        self.probe = LatenessProbe()
        self.headless: list[float] = []
        self.gui: list[float] = []
        self.idle_lateness: list[float] = []
        self.gui_lateness: list[float] = []
        self.gui_cpu: list[float] = []

    def run_headless(self) -> None:
        self.target.widget.hide()  # headless: nothing to paint, no signals (no bridge callback)
        self.probe.start()
        run_job(self.host, "headless", headless_fit, self.project, self.target.data(), self.timer)
        self.headless.append(self.timer.throughput())
        self.idle_lateness += self.probe.lateness_ms

    def run_gui(self) -> None:
        target, timer = self.target, self.timer
        target.widget.show()
        settle = time.perf_counter() + 0.5  # the first paint of a freshly shown window is not training's cost
        process_until(lambda: time.perf_counter() > settle)
        self.probe.start()
        runs, cpu = len(timer.seconds), time.thread_time()
        target.train()
        process_until(lambda: len(timer.seconds) > runs and target.idle())
        self.probe.stop()
        self.gui_cpu.append((time.thread_time() - cpu) / timer.seconds[-1])
        self.gui.append(timer.throughput())
        self.gui_lateness += self.probe.lateness_ms


def run(args: argparse.Namespace) -> None:
    project = default_project()
    if args.epochs:
        project.training.epochs = args.epochs
    timer = FitTimer()
    host = WorkerHost(trainer_factory=lambda p, d, cbs: engine_trainer(p, d, [*cbs, timer]))
    target = (WindowTarget if args.target == "window" else PanelTarget)(host, project)
    bench = Bench(host, target, project, timer)
    try:
        for repeat in range(args.repeats):
            # Headless first in even pairs, second in odd ones: a machine that speeds up or slows
            # down during the benchmark then favours neither side.
            order = (bench.run_headless, bench.run_gui) if repeat % 2 == 0 else (bench.run_gui, bench.run_headless)
            for step in order:
                step()
            headless, gui = bench.headless[-1], bench.gui[-1]
            print(f"repeat {repeat + 1}: headless {headless:,.0f} samples/s, GUI {gui:,.0f} samples/s")
    finally:
        host.shutdown()
    report(project, bench.headless, bench.gui, bench.idle_lateness, bench.gui_lateness)
    # Less noisy than throughput on a busy machine: the CPU the GUI thread took from training.
    print(f"GUI thread CPU while training: {1000 * statistics.median(bench.gui_cpu):.0f} ms per second")


def headless_fit(project: Project, data: Any, timer: FitTimer) -> None:
    engine_trainer(project, data, [timer]).fit()


def report(project: Project, headless: list[float], gui: list[float], idle: list[float], busy: list[float]) -> None:
    ratio = statistics.median(gui) / statistics.median(headless)
    p50, p99 = percentile(busy, 50), percentile(busy, 99)
    print(f"\n{project.name}: {project.training.epochs} epochs, batch {project.training.batch_size}")
    print(f"timer lateness while training with the GUI: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(busy):.1f} ms"
          f" ({len(busy)} ticks)")  # fmt: skip
    print(f"timer lateness while training headless:     p50 {percentile(idle, 50):.1f} ms,"
          f" p99 {percentile(idle, 99):.1f} ms")  # fmt: skip
    print(f"throughput: headless {statistics.median(headless):,.0f} samples/s, GUI {statistics.median(gui):,.0f}"
          f" samples/s, ratio {ratio:.2f}")  # fmt: skip
    pairs = [g / h for g, h in zip(gui, headless, strict=True)]
    print(f"ratio of each pair: {', '.join(f'{r:.2f}' for r in pairs)} (median {statistics.median(pairs):.2f})")
    # The machine is shared: a load above its core count makes every figure above unreliable.
    print(f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    verdict = "PASS" if p99 < P99_GOAL_MS and ratio >= RATIO_GOAL else "MISS"
    print(f"goals: p99 < {P99_GOAL_MS:.0f} ms, ratio >= {RATIO_GOAL}: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="headless/GUI pairs to run (default 2)")
    parser.add_argument("--epochs", type=int, default=0, help="epochs per run (default: the project's)")
    parser.add_argument("--target", choices=("window", "panel"), default="window",
                        help="train in the main window, or only the plots panel")  # fmt: skip
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    # Keep the window's remembered geometry out of the user's settings.
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="studio-bench-"))
    app.setOrganizationName("training-studio-benchmark")
    run(args)


if __name__ == "__main__":
    main()
