"""SIGKILL at random moments, then resume (issue 16, point 5): the resumed run ends with exactly the weights
of a run that was never interrupted.

``main.py train`` runs in a child process with a checkpoint every epoch; once its fit has started the
child is killed with SIGKILL at a moment drawn from a fixed seed (a share of an uninterrupted fit's time),
10 times; then ``train --resume`` continues from the newest checkpoint (in this process), or, when the
kill came before the first one, the run starts over. Every trial's final weights must equal the
uninterrupted run's bit for bit.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from studio.cli import main as cli_main
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec, save_project

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 10
KILL_SEED = 16


def project() -> Project:
    """A tiny MLP on 400 moons for 8 epochs, with a checkpoint after each (kept)."""
    return Project(
        model=ModelSpec([LayerSpec("Linear", {"out_features": 16}), LayerSpec("ReLU"),
                         LayerSpec("Linear", {"out_features": 2})]),
        data=DataSpec("moons", {"n_samples": 400}, preprocessing="standardize"),
        optimizer=Choice("adam", {"lr": 0.01}),
        training=TrainingSpec(epochs=8, batch_size=16, device="cpu", stats_every=0, checkpoint_every=1,
                              keep_checkpoints=20, seed=3),
    )


def start(argv: list[str]) -> subprocess.Popen:
    """``main.py train`` in a child; returns once its fit has started."""
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    assert process.stdout is not None
    for line in process.stdout:
        if json.loads(line)["event"] == "fit_start":
            return process
    raise AssertionError(f"{argv} ended before training (exit {process.wait()})")


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


@pytest.mark.timeout(1800)  # 10 fresh interpreters: about a minute on a quiet machine, far more on a loaded one
def test_killed_runs_resume_to_the_same_weights(tmp_path):
    path = tmp_path / "p.json"
    save_project(path, project())
    reference = tmp_path / "reference"
    started = time.monotonic()
    assert cli_main(["train", str(path), "--out", str(reference), "--json"]) == 0  # in this process: no start-up
    seconds = time.monotonic() - started
    expected = weights(reference)
    rng = random.Random(KILL_SEED)
    resumed = 0
    for trial in range(TRIALS):
        killed, finished = tmp_path / f"killed-{trial}", tmp_path / f"finished-{trial}"
        process = start(["train", str(path), "--out", str(killed), "--json"])
        time.sleep(rng.uniform(0.05, 0.95) * seconds)
        process.kill()
        process.wait(30)
        if sorted((killed / "checkpoints").glob("*.ckpt")):
            resumed += 1
            assert cli_main(["train", "--resume", str(killed / "checkpoints"), "--out", str(finished), "--json"]) == 0
        else:  # killed before the first checkpoint: the run starts over
            assert cli_main(["train", str(path), "--out", str(finished), "--json"]) == 0
        got = weights(finished)
        assert got.keys() == expected.keys()
        assert all(torch.equal(got[key], expected[key]) for key in expected), f"trial {trial} differs"
        assert json.loads((finished / "metrics.json").read_text())["epochs_completed"] == 8
    assert resumed >= 3, f"only {resumed} of {TRIALS} kills came after a checkpoint"
