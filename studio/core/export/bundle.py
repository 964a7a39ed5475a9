"""The ``bundle`` export: one folder with every format, a model card and the inference preprocessing.

Each part is written and verified on its own (see ``formats.write_verified``); the model card
(``model-card.json``) then records the architecture, dataset, preprocessing statistics,
hyperparameters, final metrics and which file holds which format.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from torch import nn

from studio.core.export.codegen import constructor
from studio.core.export.formats import EXPORTERS, ExportFormat, register
from studio.core.export.onnx import onnx_installed
from studio.core.export.source import ExportSource
from studio.core.layers import LAYERS
from studio.core.project import LayerSpec
from studio.core.shapes import LayerInfo, infer_shapes

CARD_FILE = "model-card.json"
PREPROCESSING_FILE = "preprocessing.json"
# Every format; ONNX only where the onnx extra is installed (see export/onnx.py).
PARTS = tuple(part for part in ("state_dict", "safetensors", "pt2", "torchscript", "onnx", "python")
              if part != "onnx" or onnx_installed())


def _card_row(row: LayerInfo, module: nn.Module, spec: LayerSpec) -> dict[str, Any]:
    """One row of the architecture; a block lists its rows (a Repeat: those of its first copy) under ``rows``."""
    rule = LAYERS.get(spec.type).block
    entry = {
        "index": row.index,
        "path": list(row.path),
        "label": row.label,
        "type": row.type,
        "settings": spec.params,
        "pytorch": constructor(module) if rule is None else type(module).__name__,
        "input_shape": list(row.in_shape),
        "output_shape": list(row.out_shape),
        "parameters": row.params,
        "frozen": spec.frozen,
    }
    if rule is not None:
        entry["rows"] = [_card_row(info, child, child_spec) for info, child, child_spec
                         in zip(row.children, rule.rows(module)[0], spec.layers, strict=True)]
    return entry


def model_card(source: ExportSource) -> dict[str, Any]:
    """Everything a reader needs to know about the exported model, as JSON-ready data."""
    project, info = source.project, source.info
    rows = infer_shapes(project.model.layers, info.input_shape)
    return {
        "name": project.name,
        "description": project.description,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "exported_by": "Training Studio",
        "task": info.task,
        "input_shape": list(info.input_shape),
        "class_names": list(info.class_names),
        "architecture": [_card_row(row, module, spec)
                         for row, module, spec in zip(rows, source.model, project.model.layers, strict=True)],
        "parameters": sum(p.numel() for p in source.model.parameters()),
        "dataset": project.to_dict()["data"],
        "preprocessing": info.preprocessing,
        "hyperparameters": {
            "optimizer": project.to_dict()["optimizer"],
            "loss": project.to_dict()["loss"],
            "schedule": project.to_dict()["schedule"],
            "training": project.to_dict()["training"],
            "initialisation": {k: v for k, v in project.to_dict()["model"].items() if k != "layers"},
        },
        "final_metrics": source.final_metrics,
        "history": source.history,
        "files": {name: EXPORTERS.get(name).default_name for name in PARTS},
        "project": project.to_dict(),
    }


def _write_bundle(source: ExportSource, path: Path) -> list[Path]:
    card, preprocessing = path / CARD_FILE, path / PREPROCESSING_FILE
    card.write_text(json.dumps(model_card(source), indent=2) + "\n", encoding="utf-8")
    preprocessing.write_text(json.dumps(source.info.preprocessing, indent=1) + "\n", encoding="utf-8")
    return [card, preprocessing]


register(ExportFormat(
    "bundle", "Bundle (all formats + model card)",
    "A folder with every format, the preprocessing statistics for inference and a model-card.json "
    "(architecture, dataset, hyperparameters, final metrics).",
    "bundle", _write_bundle, parts=PARTS, folder=True,
))
