"""Checkpoints and run weights carry a checksum: one flipped byte anywhere is refused, or changed nothing.

The files are real: a checkpoint written by the trainer (weights, Adam's state, random-number
states, history, sample inputs) and a run folder's ``model.safetensors``. Each test flips one byte
at thousands of positions and loads the result: every byte of the zip's central directory (where
a flip once changed what torch read while every CRC passed) and of the safetensors header, every
4th byte of the rest of the structure (local headers, padding, the pickle), every 29th of the
tensor data. Without the checksum, 45% of such flips loaded silently with changed contents.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from studio.core.checkpoint import CheckpointCallback, load_checkpoint
from studio.core.engine import Trainer
from studio.core.errors import ProjectFileError
from studio.core.presets import load_preset
from studio.core.project import LayerSpec
from studio.core.runs import WEIGHTS_FILE, load_run, save_run

ROOT = Path(__file__).resolve().parents[2]
DATA_STRIDE, STRUCTURE_STRIDE = 29, 4  # the central directory and the safetensors header: every byte


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One epoch of a small digits network, saved as a checkpoint and a run folder."""
    folder = tmp_path_factory.mktemp("run")
    project = load_preset("digits-mlp")
    project.model.layers = [LayerSpec("Linear", {"out_features": 6}), LayerSpec("ReLU"),
                            LayerSpec("Linear", {"out_features": 10})]
    project.training.epochs = 1
    trainer = Trainer(project, callbacks=[CheckpointCallback(folder / "checkpoints")])
    save_run(folder, trainer.project, trainer.model, trainer.fit())
    return folder


def _flipped(raw: bytes, position: int) -> bytes:
    damaged = bytearray(raw)
    damaged[position] ^= 0xFF
    return bytes(damaged)


def _zip_data_ranges(raw: bytes) -> list[range]:
    """Where the tensor bytes of a torch zip file lie (each entry under data/)."""
    ranges = []
    for info in zipfile.ZipFile(io.BytesIO(raw)).infolist():
        if "/data/" in info.filename:
            name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
            start = info.header_offset + 30 + name_len + extra_len
            ranges.append(range(start, start + info.file_size))
    return ranges


def _positions(size: int, data: list[range], every_byte_from: int) -> list[int]:
    in_data = {p for r in data for p in r}
    return [p for p in range(size)
            if p >= every_byte_from or p % (DATA_STRIDE if p in in_data else STRUCTURE_STRIDE) == 0]


def _same_checkpoint(a, b) -> bool:
    def same(x, y) -> bool:
        if isinstance(x, torch.Tensor):
            return isinstance(y, torch.Tensor) and x.dtype == y.dtype and torch.equal(x, y)
        if isinstance(x, dict):
            return isinstance(y, dict) and list(x) == list(y) and all(same(x[k], y[k]) for k in x)
        if isinstance(x, (list, tuple)):
            return type(x) is type(y) and len(x) == len(y) and all(map(same, x, y))
        return type(x) is type(y) and x == y

    return (same(a.state, b.state) and same(a.sample_inputs, b.sample_inputs)
            and a.project.to_dict() == b.project.to_dict() and a.info == b.info)


def _one_line(error: ProjectFileError) -> str:
    text = str(error)
    assert "\n" not in text and text
    return text


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch's note on a damaged pickle header
def test_every_flipped_byte_of_a_checkpoint_is_refused_or_harmless(run_folder: Path, tmp_path: Path) -> None:
    (original,) = (run_folder / "checkpoints").glob("*.ckpt")
    raw = original.read_bytes()
    reference = load_checkpoint(original)
    assert reference.state["optimizer"]["state"]  # Adam's moments are in the file too
    damaged_path = tmp_path / "epoch-0001.ckpt"
    positions = _positions(len(raw), _zip_data_ranges(raw), zipfile.ZipFile(io.BytesIO(raw)).start_dir)
    refused, harmless, reasons = 0, 0, set()
    for position in positions:
        damaged_path.write_bytes(_flipped(raw, position))
        try:
            loaded = load_checkpoint(damaged_path)
        except ProjectFileError as exc:
            refused += 1
            reasons.add(_one_line(exc).split(":")[0].replace(str(damaged_path), "FILE"))
            continue
        assert _same_checkpoint(loaded, reference), f"byte {position} changed the checkpoint silently"
        harmless += 1
    assert refused + harmless == len(positions) > 3000
    assert refused > harmless  # harmless: zip padding and fields no reader uses
    assert "FILE is damaged" in reasons  # the checksum, not only the container's own checks, caught some


def test_every_flipped_byte_of_run_weights_is_refused_or_harmless(run_folder: Path, tmp_path: Path) -> None:
    raw = (run_folder / WEIGHTS_FILE).read_bytes()
    header = 8 + struct.unpack("<Q", raw[:8])[0]
    assert "checksum" in json.loads(raw[8:header])["__metadata__"]
    reference = load_run(run_folder).state_dict
    copy = tmp_path / "run"
    copy.mkdir()
    for name in ("project.json", "metrics.json"):
        (copy / name).write_bytes((run_folder / name).read_bytes())
    positions = [p for p in range(len(raw)) if p < header or p % DATA_STRIDE == 0]
    refused = 0
    for position in positions:
        (copy / WEIGHTS_FILE).write_bytes(_flipped(raw, position))
        try:
            loaded = load_run(copy).state_dict
        except ProjectFileError as exc:
            _one_line(exc)
            refused += 1
            continue
        assert loaded.keys() == reference.keys(), f"byte {position}"
        assert all(loaded[k].dtype == reference[k].dtype and torch.equal(loaded[k], reference[k]) for k in loaded), (
            f"byte {position} changed the weights silently")
    assert refused > 0.9 * len(positions)  # a safetensors file has no padding to speak of


def test_resuming_from_a_damaged_checkpoint_is_one_line_on_the_command_line(run_folder: Path, tmp_path: Path) -> None:
    (original,) = (run_folder / "checkpoints").glob("*.ckpt")
    raw = original.read_bytes()
    weights = _zip_data_ranges(raw)[0]
    damaged = tmp_path / "epoch-0001.ckpt"
    damaged.write_bytes(_flipped(raw, weights.start + 5))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--resume", str(damaged)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "is damaged" in line and "earlier checkpoint" in line
