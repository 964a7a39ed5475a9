"""ONNX export, verified with onnxruntime.

Uses torch's current exporter (``dynamo=True``, built on ``torch.export``) when ``onnxscript`` is installed, as
torch recommends; without it, the TorchScript-based one (``dynamo=False``, about 120 ms on LeNet against about
2.6 s), which needs only ``onnx`` and which torch calls legacy. Its deprecation warnings are logged, not shown
to the learner (``formats.write_verified``).

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

OPSET = 17  # the legacy exporter's
NEEDS = ("onnx", "onnxruntime")


def onnx_installed() -> bool:
    """True when the ``onnx`` extra's packages are importable."""
    return all(find_spec(name) is not None for name in NEEDS)


def dynamo_available() -> bool:
    """True when torch's current ONNX exporter can run (it needs ``onnxscript``)."""
    return find_spec("onnxscript") is not None


def write_onnx(source: ExportSource, path: Path, dynamo: bool) -> list[Path]:
    """``model.onnx`` with a dynamic batch size, by the current exporter (``dynamo``) or the legacy one."""
    model, example = inference_copy(source.model), (example_inputs(source),)
    if dynamo:
        # One self-contained file (the weights inside, not in a "model.onnx.data" beside it), in the exporter's own
        # opset (converting down to OPSET is a detour with warnings of its own), without its progress lines.
        torch.onnx.export(model, example, str(path), dynamo=True, dynamic_shapes=({0: torch.export.Dim("batch")},),
                          external_data=False, verbose=False, input_names=["input"], output_names=["output"])
    else:
        axes = {"input": {0: "batch"}, "output": {0: "batch"}}
        torch.onnx.export(model, example, str(path), dynamo=False, dynamic_axes=axes, opset_version=OPSET,
                          input_names=["input"], output_names=["output"])
    return [path]


def _write_onnx(source: ExportSource, path: Path) -> list[Path]:
    if not onnx_installed():
        raise ExportError("the ONNX format needs the onnx extra: pip install 'training-studio[onnx]'")
    return write_onnx(source, path, dynamo_available())


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
