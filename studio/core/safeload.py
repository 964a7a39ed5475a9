"""Loading weights from files that may come from anywhere, without ever running their code.

A ``.pt`` file is a pickle, and unpickling can call any Python function. Everything here goes
through ``torch.load(..., weights_only=True)`` (a restricted unpickler that only rebuilds
tensors and plain containers) or safetensors (no code at all); any refusal or corruption
becomes one :class:`ProjectFileError` a learner can read. Only regular files are opened (never a
device such as ``/dev/zero``). Safetensors files written here carry a checksum of their tensors
in the metadata (``checksum.py``), verified whenever one is present.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from studio.core.checksum import checksum
from studio.core.errors import ProjectFileError
from studio.core.io import file_size

SAFETENSORS_SUFFIX = ".safetensors"
CHECKSUM_KEY = "checksum"  # in a safetensors file's metadata


def safe_torch_load(path: str | os.PathLike[str]) -> Any:
    """``torch.load`` restricted to tensors and plain containers; unsafe or broken files raise ProjectFileError."""
    path = Path(path)
    file_size(path, "file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ProjectFileError(_refusal(path, exc)) from None
    except Exception as exc:  # an untrusted file can make the reader fail in any way
        reason = _first_line(exc)
        raise ProjectFileError(f"{path} is not a readable PyTorch file (truncated or corrupt?): {reason}") from None


def load_safetensors(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a ``.safetensors`` file (a format that cannot contain code) onto the CPU, checked by its checksum."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    file_size(path, "file")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as reader:
            expected = (reader.metadata() or {}).get(CHECKSUM_KEY)
            tensors = {name: reader.get_tensor(name) for name in reader.keys()}  # noqa: SIM118 - not a dict
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ProjectFileError(f"{path} is not a readable safetensors file: {_first_line(exc)}") from None
    if expected is not None and expected != tensors_checksum(tensors):
        raise ProjectFileError(
            f"{path} is damaged: its weights do not match the checksum written with them (a disk or copy error?)"
        )
    return tensors


def save_safetensors(
    tensors: Mapping[str, torch.Tensor], path: str | os.PathLike[str], metadata: Mapping[str, str] | None = None
) -> None:
    """Write ``tensors`` (contiguous, on the CPU) as safetensors, with their checksum in the metadata."""
    from safetensors.torch import save_file

    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in tensors.items()}
    save_file(tensors, str(path), metadata={**(metadata or {}), CHECKSUM_KEY: tensors_checksum(tensors)})


def tensors_checksum(tensors: Mapping[str, torch.Tensor]) -> str:
    """The checksum of a name -> tensor mapping, independent of the order the file lists them in."""
    return checksum({name: tensors[name] for name in sorted(tensors)})


def load_weights(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The tensors of a weights file: safetensors, a saved ``state_dict`` or a Training Studio checkpoint."""
    path = Path(path)
    if path.suffix == SAFETENSORS_SUFFIX:
        return load_safetensors(path)
    return weights_from_object(safe_torch_load(path), str(path))


def weights_from_object(obj: Any, where: str) -> dict[str, torch.Tensor]:
    """Find the ``name -> tensor`` mapping in what a ``.pt`` file held (a state_dict or a checkpoint)."""
    if isinstance(obj, Mapping):
        # Checkpoints keep the weights at state["model"]; other tools often use "state_dict".
        for key in ("state", "model", "state_dict", "model_state_dict"):
            inner = obj.get(key)
            if isinstance(inner, Mapping):
                try:
                    return weights_from_object(inner, where)
                except ProjectFileError:
                    continue
        if obj and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
            return dict(obj)
    raise ProjectFileError(f"{where} does not contain model weights (a mapping of names to tensors)")


def _refusal(path: Path, exc: Exception) -> str:
    """A learner-readable refusal that names the object the file tried to create, when torch says it."""
    match = re.search(r"(?:Unsupported global:\s+|unsupported GLOBAL\s+)(?:GLOBAL\s+)?([\w.]+)", str(exc))
    culprit = f" (it asks for {match.group(1)})" if match else ""
    return (
        f"refused to load {path}: it contains Python objects other than weights{culprit}. Loading it could run"
        " code hidden in the file, so Training Studio only reads plain tensors. Export the weights as a"
        " state_dict or safetensors file and try again."
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
