"""Advice for failed training, shared by the window and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from studio.core.advice import BUG_HINT, FIT_END_HINTS, explain, is_bug
from studio.core.errors import ConfigError
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec, save_project
from studio.core.vocab import EndReason

ROOT = Path(__file__).resolve().parents[2]


def test_user_errors_keep_their_message_known_failures_get_a_hint_and_bugs_say_so() -> None:
    assert explain(ConfigError("the batch size must be at least 1", field="batch_size")) == (
        "the batch size must be at least 1", "")
    message, hint = explain(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert "out of memory" in message and "smaller batch size" in hint
    assert not is_bug(MemoryError()) and not is_bug(ConfigError("x"))
    assert is_bug(KeyError("layer")) and explain(KeyError("layer")) == ("internal error (KeyError: 'layer')", BUG_HINT)


def test_the_command_line_gives_the_windows_advice_after_a_diverged_run(tmp_path: Path) -> None:
    project = Project(model=ModelSpec([LayerSpec("Linear", {"out_features": 1})]),
                      data=DataSpec("sine", {"n_samples": 200}), loss=Choice("mse"),
                      optimizer=Choice("sgd", {"lr": 10.0}), training=TrainingSpec(epochs=3, batch_size=10))
    save_project(tmp_path / "wild.json", project)
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", str(tmp_path / "wild.json")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "The loss became NaN" in proc.stderr or "The loss became infinite" in proc.stderr, proc.stderr
    assert FIT_END_HINTS[EndReason.NON_FINITE] in proc.stderr
