"""Run folders: what a finished training run leaves behind for export, fine-tuning and comparison.

Layout (all written atomically)::

    RUN/project.json        the exact project that was trained
    RUN/model.safetensors   the final weights (state_dict of the nn.Sequential)
    RUN/metrics.json        per-epoch history and the final metrics / stop reason

Weights use safetensors, which cannot carry code, so a run folder from elsewhere is safe to open.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from studio.core.errors import ProjectFileError
from studio.core.io import atomic_path, atomic_write_text
from studio.core.jsonsafe import plain
from studio.core.project import Project, load_project, save_project

PROJECT_FILE = "project.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.json"


@dataclass
class Run:
    """A loaded run folder."""

    folder: Path
    project: Project
    state_dict: dict[str, torch.Tensor]
    metrics: dict[str, Any]


def save_run(folder: str | os.PathLike[str], project: Project, model: torch.nn.Module, metrics: Any) -> Path:
    """Write ``project``, the model's weights and ``metrics`` (e.g. the FitEnd, made JSON-safe) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_project(folder / PROJECT_FILE, project)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp))
    atomic_write_text(folder / METRICS_FILE, json.dumps(plain(metrics), indent=2) + "\n")
    return folder


def is_run_folder(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` looks like a run folder."""
    path = Path(path)
    return (path / PROJECT_FILE).is_file() and (path / WEIGHTS_FILE).is_file()


def load_run(folder: str | os.PathLike[str]) -> Run:
    """Read a run folder; a missing or corrupt part becomes a :class:`ProjectFileError`."""
    folder = Path(folder)
    if not is_run_folder(folder):
        raise ProjectFileError(f"{folder} is not a run folder (expected {PROJECT_FILE} and {WEIGHTS_FILE})")
    project = load_project(folder / PROJECT_FILE)
    try:
        state = load_file(str(folder / WEIGHTS_FILE))
    except (SafetensorError, OSError) as exc:
        raise ProjectFileError(f"cannot read weights {folder / WEIGHTS_FILE}: {exc}") from None
    metrics_path = folder / METRICS_FILE
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ProjectFileError(f"cannot read {metrics_path}: {exc}") from None
    return Run(folder, project, state, metrics)
