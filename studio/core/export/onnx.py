"""ONNX export, verified with onnxruntime.

Uses the TorchScript-based exporter (``dynamo=False``): about 120 ms and it needs only ``onnx``,
whereas the default dynamo exporter takes seconds and needs ``onnxscript``. torch warns that this
exporter is legacy; the export report lists the warning.

``onnx`` and ``onnxruntime`` (about 110 MB) come with the ``onnx`` extra, not with every install:
without them this format says how to get them, and the bundle leaves its ONNX part out.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch

from studio.core.export.formats import ExportFormat, register
from studio.core.export.graph import inference_copy
from studio.core.export.graphs import example_inputs
from studio.core.export.source import ExportSource
from studio.core.export.verify import ExportError, Runner

OPSET = 17
NEEDS = ("onnx", "onnxruntime")


def onnx_installed() -> bool:
    """True when the ``onnx`` extra's packages are importable."""
    return all(find_spec(name) is not None for name in NEEDS)


def _write_onnx(source: ExportSource, path: Path) -> list[Path]:
    if not onnx_installed():
        raise ExportError("the ONNX format needs the onnx extra: pip install 'training-studio[onnx]'")
    axes = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(inference_copy(source.model), (example_inputs(source),), str(path), dynamo=False,
                      input_names=["input"], output_names=["output"], dynamic_axes=axes, opset_version=OPSET)
    return [path]


def _load_onnx(source: ExportSource, path: Path) -> Runner:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def run(x: torch.Tensor) -> torch.Tensor:
        (output,) = session.run(["output"], {"input": np.ascontiguousarray(x.numpy(), dtype=np.float32)})
        return torch.from_numpy(output)

    return run


register(ExportFormat(
    "onnx", "ONNX",
    "The network as an ONNX graph, for onnxruntime and other ONNX tools (input 'input', output 'output').",
    "model.onnx", _write_onnx, _load_onnx,
))
