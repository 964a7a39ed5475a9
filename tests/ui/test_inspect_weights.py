"""The Inspect panel's Weights tab: the trained perceptron's weights, value by value, read in the worker thread."""

from __future__ import annotations

from pathlib import Path

from studio.core.engine import Trainer
from studio.core.inspect import ModelSnapshot
from studio.core.presets import load_preset
from studio.ui.dialogs import ScriptedDialogs
from studio.ui.inspect import InspectPanel
from studio.ui.inspect.panel import TABS


def trained_perceptron() -> ModelSnapshot:
    """A worker job: the perceptron lesson trained to the hand calculation's w = (1, 1), b = -1."""
    trainer = Trainer(load_preset("perceptron"))
    trainer.fit()
    return ModelSnapshot.from_trainer(trainer)


def test_the_weights_tab_lists_the_perceptrons_weights(qtbot, host, tmp_path: Path) -> None:
    job = host.worker.submit("train", trained_perceptron)
    with qtbot.waitSignal(job.finished, timeout=60_000) as done:
        pass
    panel = InspectPanel(host.worker, ScriptedDialogs())
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    panel.set_model_source(done.args[0])
    panel.show_tab("weights")
    view = panel.weights
    qtbot.waitUntil(lambda: view.shown is not None, timeout=30_000)
    assert TABS[panel.tabs.currentIndex()] == "weights" and panel.tabs.tabText(4) == "Weights"
    assert view.text.toPlainText() == "1 Linear 1\n  weight 1×2: [[1, 1]]\n  bias 1: [-1]"
    assert view.text.accessibleName() and view.text.isReadOnly()
    assert panel.grab().save(str(tmp_path / "weights.png"))
    panel.set_model_source(None)
    assert view.text.toPlainText() == "" and view.shown is None
