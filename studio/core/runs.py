"""Run folders: what a training run leaves behind for resuming, export, fine-tuning and comparison.

Layout (all written atomically)::

    RUN/checkpoints/epoch-0003.ckpt   checkpoints while it trains (see ``checkpoint.py``)
    RUN/project.json        the exact project that was trained
    RUN/model.safetensors   the final weights (state_dict of the nn.Sequential)
    RUN/metrics.json        per-epoch history and the final metrics / stop reason
    RUN/name.txt            the name given in the run history, if any (``run_records.py``)

Weights use safetensors, which cannot carry code, so a run folder from elsewhere is safe to open.
One folder holds one run: a new run gets a new folder (:func:`new_run_folder` under
:func:`default_runs_root`, the folder the window uses too) or claims an empty one
(:func:`claim_run_folder`); a folder that already holds files is refused, so two runs never mix.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from studio.core.errors import ConfigError, ProjectFileError
from studio.core.io import atomic_path, atomic_write_text
from studio.core.jsonsafe import plain
from studio.core.project import Project, load_project, save_project
from studio.core.safeload import load_safetensors, save_safetensors

PROJECT_FILE = "project.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.json"
CHECKPOINTS = "checkpoints"
# The names Qt builds the window's data folder from (studio/app.py sets them; a GUI test compares).
APP_FOLDER = ("Training Studio", "Training Studio")


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
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        save_safetensors(model.state_dict(), tmp)
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
    state = load_safetensors(folder / WEIGHTS_FILE)
    metrics_path = folder / METRICS_FILE
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ProjectFileError(f"cannot read {metrics_path}: {exc}") from None
    return Run(folder, project, state, metrics)


# --- where runs go --------------------------------------------------------------------------------


def default_runs_root() -> Path:
    """``runs`` in the application's data folder: the same folder Qt's ``AppDataLocation`` names for the window."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base.joinpath(*APP_FOLDER) / "runs"


def new_run_folder(root: Path, project: Project, now: datetime | None = None) -> Path:
    """Create ``ROOT/<timestamp>-<project name>`` (with ``-2``, ``-3``… when two runs start in one second)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", project.name.lower()).strip("-") or "run"
    root.mkdir(parents=True, exist_ok=True)
    base, n = root / f"{stamp}-{slug}", 1
    while True:
        folder = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            n += 1


def claim_run_folder(path: str | os.PathLike[str]) -> Path:
    """Make ``path`` the folder of a new run, or refuse (a ``ConfigError`` on ``out``) before any work.

    Refused: a file, the current folder, a folder that already holds files (an earlier run, or the
    learner's own files) and a place that cannot be written. A missing folder is created.
    """
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path} is a file; give the run a folder of its own (a new one)", field="out")
    if path.resolve() == Path.cwd().resolve():
        raise ConfigError(f"{path} is the current folder; give the run a folder of its own, such as runs/first",
                          field="out")
    if path.is_dir() and any(path.iterdir()):
        hint = " (to continue that run, use --resume)" if is_run_folder(path) or (path / CHECKPOINTS).is_dir() else ""
        raise ConfigError(f"{path} already holds files; give this run a new folder so two runs never mix{hint}",
                          field="out")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):  # proves the folder is writable (permissions, read-only disks)
            pass
    except OSError as exc:
        raise ConfigError(f"cannot write the run folder {path}: {exc.strerror or exc}", field="out") from None
    return path
