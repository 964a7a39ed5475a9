"""ONNX export, verified with onnxruntime.

Uses the TorchScript-based exporter (``dynamo=False``): about 120 ms and it needs only ``onnx``,
whereas the default dynamo exporter takes seconds and needs ``onnxscript``. torch warns that this
exporter is legacy; the export report lists the warning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from studio.core.export.formats import ExportFormat, register
from studio.core.export.graph import inference_copy
from studio.core.export.graphs import example_inputs
from studio.core.export.source import ExportSource
from studio.core.export.verify import ExportError, Runner

OPSET = 17


def _write_onnx(source: ExportSource, path: Path) -> list[Path]:
    axes = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(inference_copy(source.model), (example_inputs(source),), str(path), dynamo=False,
                      input_names=["input"], output_names=["output"], dynamic_axes=axes, opset_version=OPSET)
    return [path]


def _load_onnx(source: ExportSource, path: Path) -> Runner:
    try:
        import onnxruntime
    except ImportError:
        raise ExportError("verifying an ONNX export needs onnxruntime: pip install onnxruntime") from None
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
