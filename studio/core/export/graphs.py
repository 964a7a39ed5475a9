"""Self-contained graph exports that plain PyTorch can run without any Training Studio code.

``pt2`` is ``torch.export`` (the recommended format: ``torch.export.load(path).module()``);
``torchscript`` is ``torch.jit.trace`` for consumers that need TorchScript (e.g. C++ libtorch).
torch deprecates TorchScript and says so with warnings; the export report lists them.
Both capture the batch size as dynamic, so any batch size works after loading.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.core.export.formats import ExportFormat, register
from studio.core.export.graph import inference_copy
from studio.core.export.source import ExportSource
from studio.core.export.verify import Runner


def example_inputs(source: ExportSource) -> torch.Tensor:
    """Two real inputs when available (a batch of 1 would let tracers bake in the batch size)."""
    if source.sample_inputs is not None and len(source.sample_inputs) >= 2:
        return source.sample_inputs[:2].float()
    return torch.zeros(2, *source.info.input_shape)


def _write_pt2(source: ExportSource, path: Path) -> list[Path]:
    batch = torch.export.Dim("batch")
    program = torch.export.export(inference_copy(source.model), (example_inputs(source),),
                                  dynamic_shapes=({0: batch},))
    # Through a file object: torch.export refuses paths that do not end in .pt2 (staging, user-chosen names).
    with open(path, "wb") as handle:
        torch.export.save(program, handle)
    return [path]


def _load_pt2(source: ExportSource, path: Path) -> Runner:
    with open(path, "rb") as handle:
        return torch.export.load(handle).module()


def _write_torchscript(source: ExportSource, path: Path) -> list[Path]:
    with torch.no_grad():
        traced = torch.jit.trace(inference_copy(source.model), example_inputs(source))
    torch.jit.save(traced, str(path))
    return [path]


def _load_torchscript(source: ExportSource, path: Path) -> Runner:
    runner: Runner = torch.jit.load(str(path), map_location="cpu").eval()
    return runner


register(ExportFormat(
    "pt2", "torch.export (.pt2)",
    "The whole network as a torch.export program: torch.export.load(path).module() runs it in plain PyTorch.",
    "model.pt2", _write_pt2, _load_pt2,
))
register(ExportFormat(
    "torchscript", "TorchScript (.pt)",
    "The network traced to TorchScript: torch.jit.load(path) runs it, also from C++ (libtorch). Deprecated by "
    "PyTorch in favour of torch.export.",
    "model.torchscript.pt", _write_torchscript, _load_torchscript,
))
