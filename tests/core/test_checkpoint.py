"""Checkpoint files: complete contents, weights-only loading, clear errors, and survival of a kill mid-write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.core.checkpoint import (
    ModelInfo,
    decode_state,
    encode_state,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from studio.core.errors import ProjectFileError
from studio.core.project import Project

ROOT = Path(__file__).resolve().parents[2]
INFO = ModelInfo((4,), "classification", 2, ["no", "yes"], None, {"name": "standardize", "mean": [0.0] * 4})


def _state(epoch: int = 1) -> dict:
    return {"model": {"0.weight": torch.randn(2, 4)}, "epoch": epoch, "step": 10 * epoch, "history": []}


def test_round_trip_keeps_project_state_info_and_inputs(tmp_path: Path) -> None:
    project = Project(name="round trip")
    sample = torch.randn(3, 4)
    state = _state(2)
    path = save_checkpoint(tmp_path / "epoch-0002.ckpt", project, state, INFO, sample)
    loaded = load_checkpoint(path)
    assert loaded.project.to_dict() == project.to_dict()
    assert loaded.epoch == 2 and loaded.step == 20
    assert torch.equal(loaded.model_state()["0.weight"], state["model"]["0.weight"])
    assert loaded.info == INFO
    assert torch.equal(loaded.sample_inputs, sample)
    assert load_checkpoint(tmp_path).path == path  # a folder means its newest checkpoint


def test_numpy_values_survive_the_weights_only_loader() -> None:
    rng = np.random.RandomState(3).get_state()  # a tuple holding a uint32 array and numpy scalars
    state = {"rng": {"numpy": rng}, "x": np.float64(1.5), "t": (1, [np.arange(3)])}
    back = decode_state(torch_round_trip(encode_state(state)))
    assert back["rng"]["numpy"][0] == rng[0] and np.array_equal(back["rng"]["numpy"][1], rng[1])
    assert back["x"] == 1.5 and np.array_equal(back["t"][1][0], np.arange(3))


def torch_round_trip(obj: object) -> object:
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_unstorable_objects_are_rejected_when_saving(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot store a .*Path"):
        save_checkpoint(tmp_path / "x.ckpt", Project(), {"model": {}, "where": tmp_path}, INFO)
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


def test_wrong_files_give_clear_errors(tmp_path: Path) -> None:
    torch.save({"0.weight": torch.zeros(1)}, tmp_path / "weights.pt")
    with pytest.raises(ProjectFileError, match="not a Training Studio checkpoint"):
        load_checkpoint(tmp_path / "weights.pt")
    path = save_checkpoint(tmp_path / "new.ckpt", Project(), _state(), INFO)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = 99
    torch.save(payload, path)
    with pytest.raises(ProjectFileError, match="newer Training Studio"):
        load_checkpoint(path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectFileError, match="no checkpoint"):
        load_checkpoint(tmp_path / "empty")


def test_listing_orders_by_position_and_ignores_temporary_files(tmp_path: Path) -> None:
    for name in ("epoch-0010.ckpt", "epoch-0002.ckpt", "epoch-0002-batch-000005.ckpt", ".epoch-0011.ckpt.x.tmp",
                 "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    names = [p.name for p in list_checkpoints(tmp_path)]
    assert names == ["epoch-0002.ckpt", "epoch-0002-batch-000005.ckpt", "epoch-0010.ckpt"]
    assert latest_checkpoint(tmp_path).name == "epoch-0010.ckpt"


_WRITER = textwrap.dedent("""
    import sys, types, torch
    from studio.core.checkpoint import CheckpointCallback, ModelInfo
    from studio.core.project import Project

    # A stand-in trainer with ~8 MB of weights, so that each write takes long enough to be interrupted.
    weights = {"0.weight": torch.randn(2048, 1024)}
    position = types.SimpleNamespace(epoch=0, batch=0)
    trainer = types.SimpleNamespace(project=Project(name="kill"), position=position, data=None,
        training_state=lambda: {"model": weights, "epoch": position.epoch, "batch": 0, "step": position.epoch})
    callback = CheckpointCallback(sys.argv[1], every=1, keep=2)
    callback._info = ModelInfo((1024,))
    while True:
        position.epoch += 1
        weights["0.weight"].fill_(position.epoch)
        callback.save(trainer)
""")


def test_kill_during_writing_leaves_a_loadable_checkpoint(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while len(list_checkpoints(tmp_path)) < 2:
            assert proc.poll() is None, "the writer died on its own"
            assert time.monotonic() < deadline, "the writer never wrote two checkpoints"
            time.sleep(0.02)
        time.sleep(random.uniform(0.0, 0.3))  # land anywhere: mid-write, mid-rename or mid-prune
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    found = list_checkpoints(tmp_path)
    assert found, "the kill left no checkpoint"
    for path in found:  # every file that has a checkpoint name is complete
        checkpoint = load_checkpoint(path)
        assert torch.all(checkpoint.model_state()["0.weight"] == checkpoint.epoch)
    assert load_checkpoint(tmp_path).path == found[-1]
