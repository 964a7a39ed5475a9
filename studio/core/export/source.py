"""What an export starts from: a trained network plus the facts about its data and training.

A source comes from a checkpoint (self-contained: project, weights, data facts, a few real
inputs), a run folder (project + weights; data facts by preparing the data again) or the
in-app model. Exporters only see :class:`ExportSource`, never where it came from.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.core.build import build_model, layer_label
from studio.core.checkpoint import Checkpoint, ModelInfo, load_checkpoint, sample_inputs_from
from studio.core.errors import ProjectFileError
from studio.core.jsonsafe import plain
from studio.core.project import Project
from studio.core.runs import is_run_folder, load_run


@dataclass
class ExportSource:
    """A trained network ready to export: model (CPU, eval mode), project, data facts and real inputs."""

    model: nn.Sequential
    project: Project
    info: ModelInfo
    sample_inputs: torch.Tensor | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    data: Any = None  # the PreparedData, when it was at hand (train.py ships its split)

    def __post_init__(self) -> None:
        self.model = self.model.cpu().eval()

    @property
    def final_metrics(self) -> dict[str, Any]:
        return dict(self.history[-1]) if self.history else {}

    def layer_labels(self) -> list[str]:
        """The stack's labels (``"1 Linear 128"``), one per module."""
        return [layer_label(layer, i) for i, layer in enumerate(self.project.model.layers)]

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint) -> ExportSource:
        model = _built(checkpoint.project, checkpoint.info.input_shape, checkpoint.model_state())
        history = plain_history(checkpoint.history)
        return cls(model, checkpoint.project, checkpoint.info, checkpoint.sample_inputs, history)

    @classmethod
    def from_data(cls, project: Project, model: nn.Sequential, data: Any, history: Any = ()) -> ExportSource:
        """The in-app case: a model and the ``PreparedData`` it was trained on."""
        return cls(model, project, ModelInfo.from_data(data), sample_inputs_from(data), plain_history(history), data)


def open_source(path: str | os.PathLike[str]) -> ExportSource:
    """An export source from a checkpoint file, a folder of checkpoints or a run folder."""
    path = Path(path)
    if is_run_folder(path):
        from studio.core.data import prepare_data

        run = load_run(path)
        data = prepare_data(run.project.data)
        model = _built(run.project, data.input_shape, run.state_dict)
        history = run.metrics.get("history", []) if isinstance(run.metrics, dict) else []
        return ExportSource.from_data(run.project, model, data, history)
    if path.is_dir() or path.is_file():
        return ExportSource.from_checkpoint(load_checkpoint(path))
    raise ProjectFileError(f"nothing to export at {path}: expected a run folder or a checkpoint file")


def plain_history(history: Any) -> list[dict[str, Any]]:
    """Per-epoch records as JSON-ready dicts, whatever the engine stored (dataclasses, dicts, numpy values)."""
    if isinstance(history, dict):
        # Column form {"train_loss": [...], ...} becomes one dict per epoch.
        columns = {k: list(v) for k, v in history.items() if isinstance(v, (list, tuple))}
        length = max((len(v) for v in columns.values()), default=0)
        return [{k: plain(v[i]) for k, v in columns.items() if i < len(v)} for i in range(length)]
    rows = []
    for item in history or ():
        row = dataclasses.asdict(item) if dataclasses.is_dataclass(item) and not isinstance(item, type) else item
        if isinstance(row, dict):
            rows.append({str(k): plain(v) for k, v in row.items()})
    return rows


def _built(project: Project, input_shape: tuple[int, ...], state: dict[str, torch.Tensor]) -> nn.Sequential:
    model = build_model(project.model, input_shape, project.training.seed)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ProjectFileError(f"the saved weights do not fit the saved network: {str(exc).splitlines()[0]}") from None
    return model
