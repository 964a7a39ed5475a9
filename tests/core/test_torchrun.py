"""torchrun with 2 CPU processes (gloo), as a user starts it: the same updates as one process, rank 0 alone
reports and writes, a checkpoint of 2 processes resumes in one, and a killed process stops the other.

Each torchrun costs a few seconds of process start-up (three Python processes import torch), so the
tests share two runs (module fixtures) and keep the data and the networks tiny.
"""

from __future__ import annotations

import json
import math
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.core.checkpoint import list_checkpoints, load_checkpoint, resume_fit
from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.events import LayerStats
from studio.core.eventstream import decode
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec, save_project
from studio.core.runs import load_run

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5  # largest absolute weight difference between 2 processes and 1


def torchrun(*args: str, nproc: int = 2) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
            str(ROOT / "main.py"), *args]


def run_torchrun(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(torchrun(*args), capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def mlp_project(epochs: int = 3) -> Project:
    """Blobs (150 training samples) in batches of 27: the shares are 14/13, and 8/7 in the last batch."""
    layers = [LayerSpec("Linear", {"out_features": 16}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 3})]
    return Project(
        name="mlp",
        model=ModelSpec(layers),
        data=DataSpec("blobs", {"n_samples": 200, "classes": 3}, preprocessing="standardize", val_fraction=0.25),
        optimizer=Choice("sgd", {"lr": 0.05, "momentum": 0.9}),
        training=TrainingSpec(epochs=epochs, batch_size=27, seed=1, device="cpu", stats_every=4, checkpoint_every=1),
    )


def write_mnist(root: Path, per_class: int, test_per_class: int) -> None:
    """MNIST files in the real IDX format, random pixels around a per-class mean (learnable, not trivial)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", per_class), ("t10k", test_per_class)):
        labels = np.tile(np.arange(10), n).astype(np.uint8)
        images = np.clip(rng.normal(labels[:, None, None] * 20.0 + 30, 40, (len(labels), 28, 28)), 0, 255)
        for kind, array in (("images-idx3", images.astype(np.uint8)), ("labels-idx1", labels)):
            header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", d) for d in array.shape)
            (raw / f"{prefix}-{kind}-ubyte").write_bytes(header + array.tobytes())


def cnn_project(root: Path) -> Project:
    """A small CNN with batch norm on 80 MNIST-format pictures, batches of 18 (shares 9/9, and 4/4 at the end)."""
    layers = [
        LayerSpec("Conv2d", {"out_channels": 4, "kernel_size": 3}), LayerSpec("BatchNorm2d"), LayerSpec("ReLU"),
        LayerSpec("MaxPool2d", {"kernel_size": 2}), LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 10}),
    ]
    return Project(
        name="cnn",
        model=ModelSpec(layers),
        data=DataSpec("mnist", {"root": str(root)}, preprocessing="standardize", val_fraction=0.2),
        optimizer=Choice("sgd", {"lr": 0.02, "momentum": 0.9}),
        training=TrainingSpec(epochs=2, batch_size=18, seed=2, device="cpu", stats_every=3),
    )


def one_process(project: Project) -> dict[str, torch.Tensor]:
    trainer = Trainer(project, prepare_data(project.data))
    assert trainer.fit().reason == "completed"
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Project, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("mlp")
    project = mlp_project()
    save_project(folder / "project.json", project)
    proc = run_torchrun("train", str(folder / "project.json"), "--out", str(folder / "run"), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder / "run", project, proc


def test_two_processes_train_an_mlp_like_one(mlp_run: tuple) -> None:
    run_folder, project, _ = mlp_run
    assert max_difference(load_run(run_folder).state_dict, one_process(project)) < TOLERANCE


def test_the_json_events_are_rank_0s_only(mlp_run: tuple) -> None:
    _, project, proc = mlp_run
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds.count("fit_start") == 1 and kinds.count("fit_end") == 1
    assert [e["epoch"] for e in events if e["event"] == "epoch_end"] == [1, 2, 3]
    assert events[0]["n_train"] == 150 and events[0]["steps_per_epoch"] == 6  # the global batch, not a share
    one = Trainer(project, prepare_data(project.data)).fit()
    for reported, expected in zip([e for e in events if e["event"] == "epoch_end"], one.history, strict=True):
        assert reported["train_loss"] == pytest.approx(expected.train_loss, abs=1e-5)  # summed over both
        assert reported["val_loss"] == pytest.approx(expected.val_loss, abs=1e-5)
        assert reported["val_acc"] == pytest.approx(expected.val_acc, abs=1e-6)


def test_a_checkpoint_of_two_processes_resumes_in_one(mlp_run: tuple) -> None:
    run_folder, project, _ = mlp_run
    checkpoints = list_checkpoints(run_folder / "checkpoints")
    middle = next(path for path in checkpoints if load_checkpoint(path).epoch == 2)
    trainer, end = resume_fit(middle)
    assert end.reason == "completed" and end.epochs_completed == 3
    resumed = {k: v.detach() for k, v in trainer.model.state_dict().items()}
    assert max_difference(resumed, load_run(run_folder).state_dict) < TOLERANCE


def test_two_processes_train_a_cnn_with_batch_norm_like_one(tmp_path: Path) -> None:
    write_mnist(tmp_path / "data", per_class=10, test_per_class=0)
    project = cnn_project(tmp_path / "data")
    save_project(tmp_path / "project.json", project)
    proc = run_torchrun("train", str(tmp_path / "project.json"), "--out", str(tmp_path / "run"), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    two = load_run(tmp_path / "run").state_dict
    one = one_process(project)
    assert two["1.running_var"].ne(1).all()  # batch norm's statistics moved, over the global batch
    assert max_difference(two, one) < TOLERANCE
    stats = [e for e in map(decode, proc.stdout.splitlines()) if isinstance(e, LayerStats)]
    assert stats and all(math.isfinite(e.act_mean[1]) for e in stats)  # rank 0 watches the synchronised layer


def _rank_pid(marker: str, rank: int) -> int | None:
    """The pid of the worker process of ``rank`` whose environment carries ``marker`` (Linux: read from /proc)."""
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ and marker.encode() in environ:
            return int(entry.name)
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker process through /proc")
def test_killing_rank_1_stops_rank_0_with_one_clear_line(tmp_path: Path) -> None:
    project = mlp_project(epochs=100_000)
    save_project(tmp_path / "project.json", project)
    marker = f"STUDIO_TEST_RUN={tmp_path.name}"
    env = {**os.environ, "STUDIO_TEST_RUN": tmp_path.name}
    command = [sys.executable, str(ROOT / "main.py"), "train", str(tmp_path / "project.json"), "--nproc-per-node", "2",
               "--out", str(tmp_path / "run"), "--json"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if json.loads(line)["event"] == "epoch_end":
                break
        victim = _rank_pid(marker, rank=1)
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
        assert time.monotonic() - killed < 30
    finally:
        proc.kill()
    assert proc.returncode == 1
    # The launcher names the process that died; rank 0 may say first that it lost it (when it notices before
    # torchrun ends it): one line each, and nothing else but where the run went.
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("run folder: ")]
    assert "error: training process 1 was killed by SIGKILL; the run stopped" in lines, stderr[-3000:]
    assert all(line.startswith("error: ") for line in lines), lines
    assert len([line for line in lines if "another process of this run failed" in line]) <= 1
    assert "Traceback" not in stderr
    for path in list_checkpoints(tmp_path / "run" / "checkpoints"):
        assert load_checkpoint(path).epoch >= 1  # every file there is a complete checkpoint
    assert not (tmp_path / "run" / "model.safetensors").exists()  # no final weights from a broken run
