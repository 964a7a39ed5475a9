"""The command line's side of scaling out: the device list, and launches refused with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.checkpoint import list_checkpoints
from studio.core.device import available_devices
from studio.core.eventstream import NAMES, decode
from studio.core.presets import load_preset
from studio.core.project import save_project
from tests.core.test_cli import ROOT, run_cli


def test_devices_lists_the_cpu_and_says_why_a_gpu_is_absent() -> None:
    proc = run_cli("devices", "--json")
    assert proc.returncode == 0, proc.stderr
    devices = {d["name"].split(":")[0]: d for d in map(json.loads, proc.stdout.splitlines())}
    assert devices["cpu"]["available"] and devices["cpu"]["label"].startswith("CPU")
    assert set(devices) == {"cpu", "cuda", "mps"}
    for absent in (d for d in devices.values() if not d["available"]):
        assert absent["reason"]


def _project_file(tmp_path: Path, **training: object) -> str:
    project = load_preset("digits-mlp")
    for name, value in training.items():
        setattr(project.training, name, value)
    path = tmp_path / "project.json"
    save_project(path, project)
    return str(path)


@pytest.mark.parametrize(
    ("training", "nproc", "words"),
    [
        ({"device": "cuda"}, "2", "2 processes need the project's device 'cuda', but this computer has no CUDA device"),
        ({"precision": "fp16"}, "2", "precision fp16 needs a CUDA device"),
        ({"precision": "fp16"}, None, "precision fp16 needs a CUDA device"),
        ({"batch_size": 2}, "4", "the batch size (2) is smaller than the number of processes (4)"),
    ],
)
def test_a_launch_this_computer_cannot_run_is_one_line_and_exit_2(
    tmp_path: Path, training: dict, nproc: str | None, words: str
) -> None:
    if "device" in training and "cuda" in available_devices():
        pytest.skip("this computer has a CUDA GPU")
    args = ["train", _project_file(tmp_path, **training), "--out", str(tmp_path / "run")]
    proc = run_cli(*args, *(["--nproc-per-node", nproc] if nproc else []))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and words in proc.stderr, proc.stderr
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_pause_resume_and_stop_lines_on_stdin_steer_the_run(tmp_path: Path) -> None:
    """What the window sends to a run in another process: a pause holds it, a stop ends it with a checkpoint."""
    project = _project_file(tmp_path, epochs=10_000)
    command = [sys.executable, str(ROOT / "main.py"), "train", project, "--out", str(tmp_path / "run"), "--json",
               "--control-stdin"]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        seen: list[str] = []
        for say, until in (("", "epoch_end"), ("pause", "paused"), ("resume", "epoch_end"), ("stop", "fit_end")):
            if say:
                proc.stdin.write(say + "\n")
                proc.stdin.flush()
            while not seen or seen[-1] != until:
                event = decode(proc.stdout.readline())
                if event is not None:
                    seen.append(NAMES[type(event)])
            if until == "fit_end":
                assert event.reason == "stopped"
        proc.stdin.close()
        assert proc.wait(timeout=120) == 0
    finally:
        proc.kill()
    assert "paused" in seen and seen.count("fit_start") == 1
    assert list_checkpoints(tmp_path / "run" / "checkpoints")  # the clean stop left a checkpoint to resume from
