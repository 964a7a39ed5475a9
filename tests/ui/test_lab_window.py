"""The lab inside the main window: its tab, Apply of the learning rate, "Compare with…" on the run history,
diagnostics on every run started from the window, and no experiments while the window trains."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QTabWidget, QWidget

from studio.core.lab.diagnostics import Diagnostics
from studio.core.project import Choice
from studio.ui.lab.window import compare_selected_run
from tests.ui.conftest import RUN_TIMEOUT_MS, open_window, tiny_project


@pytest.fixture
def window(qtbot, temp_settings, host):
    win = open_window(qtbot, host, project=tiny_project(stats_every=2))
    yield win
    win.shutdown()


def test_lab_is_a_tab_beside_training(window):
    tabs = window.findChild(QTabWidget, "workspaceTabs")
    assert [tabs.tabText(i) for i in range(tabs.count())] [:2] == ["Train", "Lab"]
    assert tabs.widget(1).isAncestorOf(window.lab) and window.findChild(QWidget, "labPanel") is window.lab
    assert window.findChild(QWidget, "plotsPanel") is not None  # the training view survived the move


def test_apply_sets_the_projects_learning_rate(window):
    window.lab.lr_finder.applyLearningRate.emit(0.02)
    assert window.current_project().optimizer.params["lr"] == 0.02
    assert window.findChild(QWidget, "learningRateSpin").value() == pytest.approx(0.02)
    assert window.document.dirty


def test_runs_from_the_window_get_diagnostics_and_lock_the_lab(qtbot, window):
    callbacks = window.training.run_callbacks(window.current_project())
    assert any(isinstance(c, Diagnostics) for c in callbacks)
    project = window.current_project()
    project.optimizer = Choice("sgd", {"lr": 5.0})  # far too high: a hint is certain
    with qtbot.waitSignal(window.host.worker.fitEnded, timeout=RUN_TIMEOUT_MS):
        window.training.train()
        assert not window.lab.probe.run_bar.run_button.isEnabled()
    qtbot.waitUntil(lambda: bool(window.lab.hints.hints()), timeout=5_000)
    qtbot.waitUntil(lambda: window.lab.probe.run_bar.run_button.isEnabled(), timeout=RUN_TIMEOUT_MS)
    assert window.lab.tabText(window.lab.indexOf(window.lab.hints)).startswith("Diagnostics (")


def test_compare_with_a_run_from_the_history(qtbot, window):
    actions = [a.text() for a in window.history.table.actions()]
    assert "Compare with…" in actions
    with qtbot.waitSignal(window.history.runAdded, timeout=RUN_TIMEOUT_MS):
        window.training.train()
    window.history.select_runs([window.history.runs()[0].id])
    dialog = compare_selected_run(window, window.lab)
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and "Run 1" in dialog.windowTitle()
    assert dialog.data is window.data_panel.prepared()  # same data settings: the loaded data is reused
    dialog.close()
