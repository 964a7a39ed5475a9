"""The headless command line, run as a user runs it: a subprocess of main.py."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.project import SCHEMA_VERSION
from studio.core.runs import load_run

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_train_preset_json_lines_and_run_folder(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("train", "--preset", "digits-mlp", "--epochs", "2", "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    epochs = [e for e in events if e["event"] == "epoch_end"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "samples_per_s"):
        assert isinstance(epochs[-1][key], float)
    assert events[-1]["event"] == "fit_end" and events[-1]["reason"] == "completed"
    assert epochs[-1]["val_acc"] > 0.8
    run = load_run(out)
    assert run.project.training.epochs == 2
    assert run.metrics["epochs_completed"] == 2
    assert "0.weight" in run.state_dict


def test_train_progress_goes_to_stderr(tmp_path):
    project = tmp_path / "p.json"
    proc = run_cli("train", "--preset", "digits-mlp", "--epochs", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "epoch 1/1" in proc.stderr and "val loss" in proc.stderr
    assert not project.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("train", "missing.json"), "project file not found"),
        (("train", "--preset", "nope"), "unknown preset 'nope'"),
        (("train", "--preset", "digits-mlp", "--epochs", "0"), "--epochs must be at least 1"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args, words):
    proc = run_cli(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in proc.stderr


def test_bad_layer_parameter_is_a_user_error(tmp_path):
    project = json.loads((ROOT / "studio/resources/presets/digits-mlp.json").read_text())
    project["model"]["layers"][0]["params"]["out_features"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(project))
    proc = run_cli("train", str(path), "--epochs", "1")
    assert proc.returncode == 2, proc.stderr
    assert "model.layers[0].params.out_features (layer 1, Linear) must be at least 1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_presets_and_schema():
    proc = run_cli("presets")
    assert proc.returncode == 0 and "digits-mlp" in proc.stdout
    schema = json.loads(run_cli("schema").stdout)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION == 2
    assert "Linear" in schema["$defs"]["LayerSpec"]["properties"]["type"]["enum"]
    assert "adam" in schema["properties"]["optimizer"]["properties"]["name"]["enum"]
    assert "digits" in schema["$defs"]["DataSpec"]["properties"]["dataset"]["enum"]


def test_resume_from_checkpoint_and_export(tmp_path):
    out = tmp_path / "run"
    first = run_cli("train", "--preset", "digits-mlp", "--epochs", "1", "--json", "--out", str(out))
    assert first.returncode == 0, first.stderr
    checkpoints = sorted((out / "checkpoints").glob("*.ckpt"))
    assert [p.name for p in checkpoints] == ["epoch-0001.ckpt"]
    resumed = run_cli("train", "--resume", str(checkpoints[0]), "--epochs", "2", "--json")
    assert resumed.returncode == 0, resumed.stderr
    epochs = [json.loads(line)["epoch"] for line in resumed.stdout.splitlines() if '"epoch_end"' in line]
    assert epochs == [2]
    onnx_path = tmp_path / "model.onnx"
    exported = run_cli("export", str(out), "--format", "onnx", "--out", str(onnx_path))
    assert exported.returncode == 0, exported.stderr
    assert onnx_path.is_file() and "max abs difference" in exported.stdout
    missing = run_cli("export", str(tmp_path / "nothing"), "--format", "onnx", "--out", str(tmp_path / "new.onnx"))
    assert missing.returncode == 2 and "nothing to export" in missing.stderr
