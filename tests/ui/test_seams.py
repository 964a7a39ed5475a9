"""The window's seams: features see a Shell, never the MainWindow; no import cycles through the window;
features work whatever order they are attached in; run callbacks are registered, never wrapped."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QStatusBar

from studio.core.events import EpochEnd, FitEnd, FitStart
from studio.core.inspect import InspectCallback
from studio.core.lab.diagnostics import Diagnostics
from studio.core.project import Project
from studio.ui.dialogs import ScriptedDialogs
from studio.ui.main_window import FEATURES
from studio.ui.plots import PlotsPanel
from studio.ui.runs import RunSaver
from studio.ui.status import TrainingStatus
from studio.ui.training import TrainingController
from studio.ui.widgets.dataset_panel import DatasetPanel
from tests.ui.conftest import RUN_TIMEOUT_MS, open_window, tiny_project, train_until_idle

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "studio" / "ui"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, TYPE_CHECKING imports included (a cycle there is still a cycle)."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def ui_graph() -> dict[str, set[str]]:
    """Which GUI module imports which; a module's own enclosing packages are not edges (Python imports
    them first anyway, and ``from package import sibling`` inside a package is no cycle)."""
    modules = {module_name(path): path for path in UI.rglob("*.py")}
    return {name: {other for other in imports(path) if other in modules and not name.startswith(other + ".")}
            for name, path in modules.items()}  # fmt: skip


def test_only_the_composition_root_imports_the_main_window() -> None:
    importers = sorted(
        module_name(path) for path in (ROOT / "studio").rglob("*.py") if "studio.ui.main_window" in imports(path)
    )
    assert importers == ["studio.app"]


def test_the_gui_modules_import_each_other_without_a_cycle() -> None:
    graph = ui_graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = path[path.index(name):] + [name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for other in sorted(graph[name]):
            visit(other, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert "studio.ui.shell" in graph["studio.ui.wiring"]  # the features' view of the window is the Shell


# --- features attached in another order --------------------------------------------------------


@pytest.fixture
def reversed_window(qtbot, temp_settings, host):
    """The window with its features attached last-first (the lessons before the lab they open)."""
    win = open_window(qtbot, host, tiny_project(stats_every=2), features=dict(reversed(FEATURES.items())))
    yield win
    win.document.dirty = False
    win.shutdown()


def test_features_attached_in_reverse_order_give_the_same_window(qtbot, reversed_window):
    window = reversed_window
    assert list(window.features) == ["targets", "lessons", "inspect", "lab", "from_folder", "runs"]
    assert window.workspace.names() == ["train", "lab", "inspect"]  # tab order is data, not attach order
    assert [window.workspace.tabText(i) for i in range(3)] == ["Train", "Lab", "Inspect"]
    kinds = {type(c) for c in window.training.run_callbacks(window.current_project())}
    assert {RunSaver, Diagnostics, InspectCallback} <= kinds
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles.index("Experiments") == titles.index("Help") - 1

    end = train_until_idle(qtbot, window)
    assert end.reason == "completed"
    folder = window.runs.tracker.latest
    assert folder is not None and (folder / "metrics.json").is_file()
    # The run folder's note follows the end message whichever receiver of fitEnded ran first.
    assert window.status.message.text() == f"{end.message} Saved in {folder}"
    qtbot.waitUntil(lambda: window.inspect.snapshot is not None, timeout=RUN_TIMEOUT_MS)
    assert window.lab.hints.status.text() != "" and window.history.table.rowCount() == 1

    window.findChild(QAction, "lesson_init-tanh-deep").trigger()  # the lab was attached after the lessons
    assert window.workspace.current_name() == "lab" and window.lab.currentWidget() is window.lab.probe


def test_without_optional_features_the_window_still_trains(qtbot, temp_settings, host):
    window = open_window(qtbot, host, tiny_project(), features={})
    assert window.workspace.names() == ["train"] and window.training.run_callbacks(window.current_project()) == []
    assert train_until_idle(qtbot, window).reason == "completed"
    window.shutdown()


# --- the parts that used to depend on connection order ----------------------------------------


def test_run_callback_factories_are_each_asked_for_every_run(qtbot, host):
    data = DatasetPanel(host.worker)
    qtbot.addWidget(data)
    controller = TrainingController(host.worker, Project, lambda: None, data, ScriptedDialogs())
    made: list[str] = []
    controller.add_run_callbacks(lambda project: made.append("a") or ["a1", "a2"])
    controller.add_run_callbacks(lambda project: made.append("b") or ["b1"])
    assert controller.run_callbacks(Project()) == ["a1", "a2", "b1"]
    assert controller.run_callbacks(Project()) == ["a1", "a2", "b1"] and made == ["a", "b", "a", "b"]


def test_a_resumed_runs_earlier_epochs_are_drawn_after_the_plots_clear(qtbot):
    plots = PlotsPanel()
    qtbot.addWidget(plots)
    earlier = [EpochEnd(n, 1.0 / n, 0.5, 1.2 / n, 0.6, 1.0, 1e-3, 100.0) for n in (1, 2)]
    plots.continue_from(earlier)
    plots.on_fit_started(FitStart(4, 8, 128, 32, "cpu", ("fc",), 10, 2))
    assert list(plots._series["val_loss"].x) == [1, 2]
    plots.on_fit_started(FitStart(4, 8, 128, 32, "cpu", ("fc",), 10, 0))  # the next fit starts empty
    assert len(plots._series["val_loss"].x) == 0


def test_end_notes_follow_the_end_message(qapp):
    bar = QStatusBar()
    status = TrainingStatus(bar)
    status.add_end_note(lambda event: "Saved in /runs/1")
    status.add_end_note(lambda event: "")  # a note with nothing to say adds nothing
    status.on_fit_end(FitEnd("completed", 1, 10, None, None, "Done after 1 epoch.", ()))
    assert status.message.text() == "Done after 1 epoch. Saved in /runs/1"
