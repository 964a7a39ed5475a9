"""Lab: "Compare with…" runs a same-seed pair with one setting changed; hints arrive during a training run;
the lab container's names, locking and forwarded signals."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from studio.core.lab.diagnostics import Hint
from studio.core.project import Choice
from studio.ui.lab.compare_dialog import CompareDialog
from studio.ui.lab.hints_panel import HintCard, HintsPanel
from studio.ui.lab.lab_panel import LabPanel
from studio.ui.lab.source import LabSource
from tests.ui.conftest import tiny_project

TIMEOUT_MS = 60_000
LAB_NAMES = ("labPanel", "probePanel", "probeRunButton", "racePanel", "raceRunButton", "sanityButton",
             "sanityResult", "lrFinderPanel", "lrFindButton", "applyLrButton", "hintsPanel", "compareButton",
             "modesView")  # fmt: skip





def test_compare_runs_the_pair_with_one_change_and_summarises(qtbot, host):
    dialog = CompareDialog(host.worker, tiny_project(2), "Run 1")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.choose("lr", "0.01")
    assert dialog.change.text() == "A: 0.001   →   B: 0.01"
    with qtbot.waitSignal(dialog.pairFinished, timeout=TIMEOUT_MS) as finished:
        qtbot.mouseClick(dialog.run_bar.run_button, Qt.MouseButton.LeftButton)
    result = finished.args[0]
    assert result.a.project.optimizer.params["lr"] == 0.001 and result.b.project.optimizer.params["lr"] == 0.01
    assert result.a.project.training.seed == result.b.project.training.seed
    assert dialog.curves.tags() == ["A", "B"]
    for tag in ("A", "B"):
        assert dialog.curves.point_count(tag) > 0
        assert len(dialog.curves.accuracy.curve(f"{tag}:val").getData()[0]) == 2
    assert "Learning rate: 0.001 → 0.01" in dialog.summary.text()
    assert "Final validation loss" in dialog.summary.text()


def test_compare_refuses_an_unchanged_or_bad_value_in_place(qtbot, host):
    dialog = CompareDialog(host.worker, tiny_project(2), "Run 1")
    qtbot.addWidget(dialog)
    dialog.choose("lr", "0.001")  # what the project already has
    assert not dialog.run_bar.run_button.isEnabled() and "already" in dialog.change.text()
    dialog.choose("dropout", "banana")
    assert not dialog.run_bar.run_button.isEnabled() and dialog.change.text()
    dialog.choose("batchnorm")  # empty value: the usual change (toggled on)
    assert dialog.run_bar.run_button.isEnabled() and dialog.change.text() == "A: off   →   B: on"


def test_hints_appear_while_a_run_goes_wrong(qtbot, host):
    panel = HintsPanel()
    qtbot.addWidget(panel)
    panel.connect_worker(host.worker)
    project = tiny_project(epochs=3)
    project.optimizer = Choice("sgd", {"lr": 5.0})  # far too high: the loss rises or diverges
    with qtbot.waitSignal(host.worker.fitEnded, timeout=TIMEOUT_MS):
        host.worker.start_training(project, None, [panel.callback()])
    qtbot.waitUntil(lambda: any(h.rule in ("loss_rising", "non_finite") for h in panel.hints()), timeout=5_000)
    cards = panel.findChildren(HintCard)
    assert len(cards) == len(panel.hints())
    rising = next(c for c in cards if c.hint.rule in ("loss_rising", "non_finite"))
    assert "Evidence:" in rising.text.text() and "learning rate" in rising.text.text().lower()
    assert panel.status.text() == f"{len(cards)} hint(s) for this run."


def test_hints_report_a_healthy_run_and_show_the_best_epoch_of_overfitting(qtbot, host):
    panel = HintsPanel()
    qtbot.addWidget(panel)
    panel.connect_worker(host.worker)
    with qtbot.waitSignal(host.worker.fitEnded, timeout=TIMEOUT_MS):
        host.worker.start_training(tiny_project(epochs=1), None, [panel.callback(rules=())])
    qtbot.waitUntil(lambda: panel.status.text().startswith("Training finished"), timeout=5_000)
    assert panel.hints() == []
    panel.add_hint(Hint("overfitting", "warning", "Overfitting.", "train 99% vs val 80%", "Stop earlier.", 9,
                        best_epoch=4))
    assert "Best epoch:</b> 4" in panel.findChildren(HintCard)[0].text.text()


def test_lab_container_names_locking_and_forwarding(qtbot, host):
    lab = LabPanel(host.worker, LabSource(lambda: tiny_project(2)))
    qtbot.addWidget(lab)
    lab.show()
    for name in LAB_NAMES:
        widget = lab if lab.objectName() == name else lab.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName(), name
    lab.set_locked(True)
    assert not lab.probe.run_bar.run_button.isEnabled() and not lab.compare_page.button.isEnabled()
    lab.set_locked(False)
    assert lab.probe.run_bar.run_button.isEnabled()
    with qtbot.waitSignal(lab.applyLearningRate) as applied:
        lab.lr_finder.applyLearningRate.emit(0.02)
    assert applied.args == [0.02]
    lab.hints.hintsChanged.emit(3)
    assert lab.tabText(lab.indexOf(lab.hints)) == "Diagnostics (3)"
    dialog = lab.compare_current()
    assert dialog.isVisible() and dialog.project.to_dict() == tiny_project(2).to_dict()
    dialog.close()
