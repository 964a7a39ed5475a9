"""Weights-only exports: a PyTorch ``state_dict`` (.pt) and safetensors.

Both need the network's definition to be used (the python export writes one); verification
loads them the way a consumer would (weights-only) into a freshly built network.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.core.build import build_model
from studio.core.export.formats import ExportFormat, register
from studio.core.export.source import ExportSource
from studio.core.export.verify import Runner
from studio.core.safeload import load_safetensors, safe_torch_load, save_safetensors, weights_from_object


def cpu_state(source: ExportSource) -> dict[str, torch.Tensor]:
    """The model's weights and buffers as contiguous CPU tensors (what both formats store)."""
    return {k: v.detach().cpu().contiguous() for k, v in source.model.state_dict().items()}


def _write_state_dict(source: ExportSource, path: Path) -> list[Path]:
    torch.save(cpu_state(source), path)
    return [path]


def _write_safetensors(source: ExportSource, path: Path) -> list[Path]:
    save_safetensors(cpu_state(source), path, metadata={"format": "pt", "project": source.project.name})
    return [path]


def _fresh_model(source: ExportSource, weights: dict[str, torch.Tensor]) -> Runner:
    model = build_model(source.project.model, source.info.input_shape, source.project.training.seed)
    model.load_state_dict(weights)
    return model.eval()


def _load_state_dict(source: ExportSource, path: Path) -> Runner:
    return _fresh_model(source, weights_from_object(safe_torch_load(path), str(path)))


def _load_safetensors(source: ExportSource, path: Path) -> Runner:
    return _fresh_model(source, load_safetensors(path))


register(ExportFormat(
    "state_dict", "PyTorch state_dict",
    "The weights as a PyTorch state_dict (.pt), for torch.load(..., weights_only=True) into the same network.",
    "weights.pt", _write_state_dict, _load_state_dict,
))
register(ExportFormat(
    "safetensors", "safetensors",
    "The weights in the safetensors format: safe to share, fast to load, usable from many libraries.",
    "model.safetensors", _write_safetensors, _load_safetensors,
))
