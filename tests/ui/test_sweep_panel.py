"""The lab's Sweep page: a grid of real runs in the worker, a heat map, a cell's curves on click; a lesson fills it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from studio.core.lab.lessons import LESSONS
from studio.ui.lab.source import LabSource
from studio.ui.lab.sweep_panel import SweepPanel
from tests.ui.conftest import open_window, tiny_project

TIMEOUT_MS = 120_000


def test_the_sweep_shows_a_heat_map_and_a_cells_curves(qtbot, host, tmp_path: Path) -> None:
    panel = SweepPanel(host.worker, LabSource(lambda: tiny_project(per_class=5)))
    qtbot.addWidget(panel)
    panel.resize(1100, 650)
    panel.show()
    panel.set_options(["optimizer.params.lr=0.0001,0.01", "training.batch_size=8,32"], repeats=2, epochs=1)
    with qtbot.waitSignal(panel.runner.finished, timeout=TIMEOUT_MS) as done:
        qtbot.mouseClick(panel.run_bar.run_button, Qt.MouseButton.LeftButton)
    result = done.args[0]
    assert result.shape == (2, 2) and all(len(cell.runs) == 2 for cell in result.cells)
    grid = panel.map
    assert (grid.rowCount(), grid.columnCount()) == (2, 2)
    assert [grid.verticalHeaderItem(r).text() for r in range(2)] == ["0.0001", "0.01"]
    assert [grid.horizontalHeaderItem(c).text() for c in range(2)] == ["8", "32"]
    assert grid.item(1, 1).text() == result.cell(1, 1).stat("val_acc").text() and "±" in grid.item(1, 1).text()
    assert "Rows: optimizer.params.lr, columns: training.batch_size" in panel.caption.text()
    panel.show_cell(0, 1)
    assert (grid.currentRow(), grid.currentColumn()) == (0, 1)
    assert grid.item(0, 1).font().bold() and not grid.item(1, 1).font().bold()
    assert sorted(panel.curves.tags()) == sorted(run.tag for run in result.cell(0, 1).runs)
    assert "Best val acc" in panel.run_bar.status.text()
    assert panel.grab().save(str(tmp_path / "sweep.png"))


def test_a_bad_setting_is_named_before_anything_runs(qtbot, host) -> None:
    panel = SweepPanel(host.worker, LabSource(tiny_project))
    qtbot.addWidget(panel)
    panel.set_options(["optimizer.params.lrr=0.1,1"])
    qtbot.mouseClick(panel.run_bar.run_button, Qt.MouseButton.LeftButton)
    assert not panel.runner.busy() and "unknown setting 'optimizer.params.lrr'" in panel.run_bar.status.text()


def test_the_depth_lesson_opens_its_grid(qtbot, host, temp_settings) -> None:
    window = open_window(qtbot, host)
    window.findChild(QAction, "lesson_depth-vs-lr").trigger()
    lab = window.lab
    assert lab.currentWidget() is lab.sweep
    axes = LESSONS.get("depth-vs-lr").options["axes"]
    assert (lab.sweep.first.text(), lab.sweep.second.text()) == axes and lab.sweep.repeats.value() == 2
