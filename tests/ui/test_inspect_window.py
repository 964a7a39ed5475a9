"""The Inspect tab in the main window: every run the window starts feeds it, and it ends with a snapshot."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget

from studio.core.inspect import InspectCallback
from studio.core.presets import default_project
from tests.ui.conftest import open_window


def test_a_run_from_the_window_fills_the_inspect_tab(qtbot, host, temp_settings):
    project = default_project()
    project.data.subset_per_class = 5
    project.training.epochs = 1
    window = open_window(qtbot, host, project)
    tabs = window.findChild(QTabWidget, "workspaceTabs")
    assert [tabs.tabText(i) for i in range(tabs.count())][-1] == "Inspect"
    assert tabs.widget(tabs.count() - 1) is window.inspect
    assert any(isinstance(c, InspectCallback) for c in window.training.run_callbacks(project))
    with qtbot.waitSignal(host.worker.fitEnded, timeout=120_000):
        window.training.train()
    qtbot.waitUntil(lambda: window.inspect.snapshot is not None, timeout=30_000)
    assert window.inspect.evaluation.evaluation.report.total == window.data_panel.prepared().n_val
    assert window.inspect.try_panel.pad.isEnabled()
