"""Nothing the user owns is deleted or mixed: walked as a stranger walks it, through the real command line.

Each test runs the command line with the runs folder (``XDG_DATA_HOME``) inside the test's temporary
folder, and looks at what is on disk afterwards. Signals and a first run need a process of their own
(``main.py`` in a subprocess); the rest calls the same ``studio.cli.main`` in this process, which
is the same code without a second torch import per call.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from studio.cli import main as cli_main
from studio.core.build import build_model
from studio.core.checkpoint import ModelInfo, save_checkpoint
from studio.core.presets import load_preset
from studio.core.project import LayerSpec, ModelSpec, Project
from studio.core.runs import APP_FOLDER, load_run

ROOT = Path(__file__).resolve().parents[2]
PRESET = ("--preset", "digits-mlp")


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """``cli(*args)``: the command line in this process, from ``tmp_path``; returns status, stdout, stderr."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))

    def call(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        status = cli_main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, status, out, err)

    return call


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``main.py`` in a process of its own, as a user starts it."""
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env={**os.environ, "XDG_DATA_HOME": str(cwd / "xdg")})


def one_error_line(proc: subprocess.CompletedProcess, *words: str) -> str:
    """The single line a refused command prints; exit status 2, no traceback."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert all(word in lines[0] for word in words), lines[0]
    return lines[0]


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    """A small checkpoint of a digits-sized network (no training needed to export it)."""
    layers = [LayerSpec("Linear", {"out_features": 8}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 10})]
    project = Project(name="export me", model=ModelSpec(layers=layers))
    model = build_model(project.model, (64,), seed=0)
    state = {"model": model.state_dict(), "epoch": 1, "step": 3, "history": []}
    info = ModelInfo((64,), preprocessing={"name": "none", "mean": None, "std": None})
    return save_checkpoint(tmp_path / "epoch-0001.ckpt", project, state, info, torch.randn(4, 64))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- export ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["bundle", "python"])
def test_export_into_a_folder_with_the_users_files(tmp_path: Path, checkpoint: Path, fmt: str, cli) -> None:
    target = tmp_path / "my-documents"
    (target / "sub").mkdir(parents=True)
    (target / "notes.txt").write_text("my own notes")
    (target / "sub" / "photo.jpg").write_bytes(b"\xff\xd8 mine")
    before = snapshot(target)

    refused = cli("export", str(checkpoint), "--format", fmt, "--out", str(target))
    one_error_line(refused, str(target), "already holds files", "--force")
    assert snapshot(target) == before  # nothing written, nothing deleted
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind

    forced = cli("export", str(checkpoint), "--format", fmt, "--out", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    after = snapshot(target)
    assert {k: after[k] for k in before} == before  # the user's files are all there, unchanged
    assert "model.py" in after or "python/model.py" in after
    again = cli("export", str(checkpoint), "--format", fmt, "--out", str(target), "--force")
    assert again.returncode == 0, again.stderr
    assert snapshot(target).keys() == after.keys()  # exporting again replaces its own files, adds nothing


def test_export_refuses_to_replace_a_file_without_force(tmp_path: Path, checkpoint: Path, cli) -> None:
    mine = tmp_path / "model.onnx"
    mine.write_text("not yours")
    one_error_line(cli("export", str(checkpoint), "--format", "onnx", "--out", str(mine)), "already exists")
    assert mine.read_text() == "not yours"
    assert cli("export", str(checkpoint), "--format", "onnx", "--out", str(mine), "--force").returncode == 0
    assert mine.read_bytes() != b"not yours"


# --- train: run folders ---------------------------------------------------------------------------


def test_train_without_out_makes_a_run_folder_under_the_runs_folder(tmp_path: Path, cli) -> None:
    proc = run_cli("train", *PRESET, "--epochs", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    runs = tmp_path.joinpath("xdg", *APP_FOLDER, "runs")
    (folder,) = runs.iterdir()
    assert f"run folder: {folder}" in proc.stderr and f"saved run to {folder}" in proc.stderr
    assert folder.name.endswith("-digits-mlp")
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["epoch-0001.ckpt", "epoch-0002.ckpt"]
    assert load_run(folder).metrics["epochs_completed"] == 2
    second = cli("train", *PRESET, "--epochs", "1", "--json")
    assert second.returncode == 0, second.stderr
    assert len(list(runs.iterdir())) == 2  # a second run never shares the first one's folder


def test_reusing_a_run_folder_is_refused_and_leaves_it_alone(tmp_path: Path, cli) -> None:
    out = tmp_path / "run"
    assert cli("train", *PRESET, "--epochs", "1", "--out", str(out)).returncode == 0
    before = snapshot(out)
    again = cli("train", *PRESET, "--epochs", "1", "--out", str(out), "--json")
    one_error_line(again, str(out), "already holds files", "--resume")
    assert again.stdout == ""  # refused before training: no fit_start
    assert snapshot(out) == before


@pytest.mark.parametrize("case", ["file", ".", "under a file", "proc"])
def test_an_impossible_out_is_refused_before_any_work(tmp_path: Path, case: str, cli) -> None:
    (tmp_path / "afile").write_text("mine")
    out = {"file": "afile", ".": ".", "under a file": "afile/run", "proc": "/proc/studio-run"}[case]
    proc = cli("train", *PRESET, "--out", out, "--json")
    one_error_line(proc, out)
    assert proc.stdout == ""  # no fit_start: no data was loaded and nothing trained
    assert (tmp_path / "afile").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # no run folder anywhere


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not bind root")
def test_an_unwritable_out_is_refused(tmp_path: Path, cli) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    one_error_line(cli("train", *PRESET, "--out", str(locked / "run")), "cannot write")


def test_a_failed_start_leaves_no_empty_run_folder(tmp_path: Path, cli) -> None:
    out = tmp_path / "new-run"
    one_error_line(cli("train", "missing.json", "--out", str(out)), "project file not found")
    assert not out.exists()
    one_error_line(cli("train", "missing.json"), "project file not found")
    assert not tmp_path.joinpath("xdg", *APP_FOLDER, "runs").exists() or not any(
        tmp_path.joinpath("xdg", *APP_FOLDER, "runs").iterdir())


# --- permissions -------------------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_files_are_written_with_the_users_umask(tmp_path: Path, checkpoint: Path, umask: int, cli) -> None:
    out, exported = tmp_path / "run", tmp_path / "exported"
    previous = os.umask(umask)
    try:
        assert cli("train", *PRESET, "--epochs", "1", "--out", str(out)).returncode == 0
        proc = cli("export", str(checkpoint), "--format", "python", "--out", str(exported))
    finally:
        os.umask(previous)
    assert proc.returncode == 0, proc.stderr
    paths = [out, *out.rglob("*"), exported, *exported.rglob("*")]
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in paths}
    assert {p: m for p, m in modes.items() if m != (0o777 if p.is_dir() else 0o666) & ~umask} == {}
    assert any(p.suffix == ".ckpt" for p in paths) and any(p.suffix == ".safetensors" for p in paths)


# --- bounded reads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_given_as_project_or_csv_is_refused_unread(tmp_path: Path, device: str, cli) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    one_error_line(cli("train", device), device, "is a device, not a project file")
    project = load_preset("digits-mlp").to_dict()
    project["data"] = {"dataset": "csv", "params": {"path": device}}
    path = tmp_path / "csv.json"
    path.write_text(json.dumps(project))
    one_error_line(cli("train", str(path)), device, "is a device, not a CSV file")


# --- Ctrl+C and SIGTERM --------------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize(("signum", "status", "name"),
                         [(signal.SIGINT, 130, "Ctrl+C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_stops_at_the_next_batch_saves_and_resumes(tmp_path: Path, signum: int, status: int, name: str,
                                                            cli) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "train", *PRESET, "--epochs", "500", "--json", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")},
    )
    events = []
    while not events or events[-1]["event"] != "epoch_end":  # the first epoch is done: a checkpoint exists
        events.append(json.loads(proc.stdout.readline()))
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(f"interrupted by {name}: a checkpoint is saved in ")
    end = json.loads(stdout.strip().splitlines()[-1])
    assert end["event"] == "fit_end" and end["reason"] == "stopped" and end["epochs_completed"] < 500
    stopped_at = end["epochs_completed"]

    epochs = str(stopped_at + 1)
    resumed = cli("train", "--resume", str(out), "--epochs", epochs, "--json", "--out", str(tmp_path / "more"))
    assert resumed.returncode == 0, resumed.stderr
    resumed_events = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert [e["epoch"] for e in resumed_events if e["event"] == "epoch_end"] == [stopped_at + 1]
    if signum != signal.SIGINT:
        return  # one comparison with an unbroken run is enough
    straight = cli("train", *PRESET, "--epochs", epochs, "--json", "--out", str(tmp_path / "straight"))
    final = [json.loads(line) for line in straight.stdout.splitlines()][-1]
    assert resumed_events[-1]["history"][-1]["val_loss"] == final["history"][-1]["val_loss"]  # exactly the same run
