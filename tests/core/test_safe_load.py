"""Untrusted weight files: a crafted pickle is refused with a clear message and runs no code."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from studio.core.errors import ProjectFileError
from studio.core.finetune import load_pretrained
from studio.core.safeload import load_weights
from tests.payloads import Payload


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


def test_crafted_torch_save_file_is_refused_and_runs_no_code(tmp_path: Path, marker: Path) -> None:
    evil = tmp_path / "evil.pt"
    torch.save({"0.weight": torch.zeros(2, 2), "hook": Payload(marker)}, evil)
    with pytest.raises(ProjectFileError, match="refused to load .*Python objects other than weights"):
        load_weights(evil)
    assert not marker.exists()


def test_payload_really_runs_code_when_unpickled_naively(marker: Path) -> None:
    pickle.loads(pickle.dumps(Payload(marker)))  # the control: plain pickle executes it
    assert marker.exists()


def test_raw_pickle_with_payload_is_refused(tmp_path: Path, marker: Path) -> None:
    evil = tmp_path / "evil_raw.pt"
    evil.write_bytes(pickle.dumps({"x": Payload(marker)}, protocol=2))
    with pytest.raises(ProjectFileError, match=r"refused to load .*\(it asks for \w+\)"):
        load_weights(evil)
    assert not marker.exists()


def test_fine_tune_from_crafted_file_is_refused(tmp_path: Path, marker: Path) -> None:
    evil = tmp_path / "evil.pt"
    torch.save(Payload(marker), evil)
    with pytest.raises(ProjectFileError, match="refused"):
        load_pretrained(torch.nn.Sequential(torch.nn.Linear(2, 2)), evil)
    assert not marker.exists()


def test_state_dict_and_safetensors_load(tmp_path: Path) -> None:
    weights = {"0.weight": torch.randn(3, 2), "0.bias": torch.randn(3)}
    torch.save(weights, tmp_path / "w.pt")
    save_file(weights, str(tmp_path / "w.safetensors"))
    for name in ("w.pt", "w.safetensors"):
        loaded = load_weights(tmp_path / name)
        assert set(loaded) == set(weights)
        assert torch.equal(loaded["0.weight"], weights["0.weight"])


@pytest.mark.parametrize("content", [b"", b"hello", b"PK\x03\x04truncated zip"])
def test_corrupt_files_give_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pt"
    path.write_bytes(content)
    with pytest.raises(ProjectFileError, match="not a readable PyTorch file|refused"):
        load_weights(path)


def test_corrupt_safetensors_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.safetensors"
    path.write_bytes(os.urandom(64))
    with pytest.raises(ProjectFileError, match="not a readable safetensors"):
        load_weights(path)
    with pytest.raises(ProjectFileError, match="not found"):
        load_weights(tmp_path / "missing.pt")


def test_file_without_weights_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "numbers.pt"
    torch.save({"epochs": 3}, path)
    with pytest.raises(ProjectFileError, match="does not contain model weights"):
        load_weights(path)
