"""Run folders read back as run-history records, so the studio is a place you come back to.

Every run trained in the window (and every ``train --out``) leaves a run folder (``runs.py``); this
module lists them as :class:`~studio.core.history.RunRecord` objects with their per-epoch curves,
renames them (``name.txt`` in the folder: the folder itself keeps its timestamped name, so paths
already handed out stay valid) and deletes them. Reading a folder never loads its weights: the
parameter count comes from the safetensors header. Qt-free, like the rest of the core.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from studio.core.errors import ProjectFileError, StudioError
from studio.core.events import EpochEnd
from studio.core.history import RunRecord
from studio.core.io import atomic_write_text
from studio.core.project import load_project
from studio.core.runs import CHECKPOINTS, METRICS_FILE, PROJECT_FILE, WEIGHTS_FILE

log = logging.getLogger(__name__)

NAME_FILE = "name.txt"
MAX_LISTED = 500  # the newest run folders a history shows; older ones stay on disk, untouched
# Buffers in a state_dict that are not learned parameters.
_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class RunFolderError(StudioError):
    """A run folder cannot be renamed or deleted (not a run folder, outside the runs folder, no permission)."""


def run_folders(root: Path, limit: int = MAX_LISTED) -> list[Path]:
    """The finished run folders under ``root``, oldest first (folder names start with their start time)."""
    if not root.is_dir():
        return []
    folders = sorted((p for p in root.iterdir() if p.is_dir() and (p / PROJECT_FILE).is_file()), reverse=True)
    return sorted(folders[:limit])


def read_record(folder: Path, run_id: int) -> RunRecord:
    """The run saved in ``folder`` as a history record: its project, epochs, end and name.

    Only per-epoch numbers are saved, so the loss curve has one point per epoch (the training loss
    averaged over the epoch). A broken folder raises :class:`ProjectFileError`.
    """
    project = load_project(folder / PROJECT_FILE)
    metrics = _read_metrics(folder / METRICS_FILE)
    epochs = [_epoch(entry) for entry in metrics.get("history") or [] if isinstance(entry, dict)]
    record = RunRecord(run_id, run_name(folder), project, folder=folder, param_count=param_count(folder))
    record.epochs = epochs
    record.batch_epochs = [float(e.epoch) for e in epochs]
    record.batch_losses = [e.train_loss for e in epochs]
    record.reason = str(metrics.get("reason") or "")
    record.message = str(metrics.get("message") or "")
    return record


def saved_records(root: Path, first_id: int = 1, limit: int = MAX_LISTED) -> list[RunRecord]:
    """Every readable run folder under ``root`` as a record (ids from ``first_id``); broken ones are logged."""
    records: list[RunRecord] = []
    for folder in run_folders(root, limit):
        try:
            records.append(read_record(folder, first_id + len(records)))
        except (StudioError, OSError, TypeError, ValueError) as exc:
            log.warning("skipping the run folder %s: %s", folder, exc)
    return records


def run_name(folder: Path) -> str:
    """The name the learner gave the run, else the folder's name."""
    try:
        name = (folder / NAME_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        name = ""
    return name or folder.name


def rename_run(folder: Path, name: str) -> str:
    """Give the run in ``folder`` the display name ``name`` (one line); returns the name kept."""
    name = " ".join(name.split())
    if not (folder / PROJECT_FILE).is_file():
        raise RunFolderError(f"{folder} is not a run folder")
    try:
        atomic_write_text(folder / NAME_FILE, name + "\n")
    except OSError as exc:
        raise RunFolderError(f"cannot rename the run in {folder}: {exc.strerror or exc}") from None
    return name or folder.name


def delete_run(folder: Path, root: Path) -> None:
    """Delete the run folder ``folder``, which must lie directly in ``root`` and look like a run folder."""
    folder, root = folder.resolve(), root.resolve()
    if folder.parent != root:
        raise RunFolderError(f"{folder} is not in the runs folder {root}; it was left alone")
    if not ((folder / PROJECT_FILE).is_file() or (folder / CHECKPOINTS).is_dir()):
        raise RunFolderError(f"{folder} is not a run folder; it was left alone")
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise RunFolderError(f"cannot delete {folder}: {exc.strerror or exc}") from None


def param_count(folder: Path) -> int | None:
    """Learned parameters of the saved weights, read from the safetensors header (no tensor is loaded)."""
    from safetensors import SafetensorError, safe_open

    path = folder / WEIGHTS_FILE
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt", device="cpu") as reader:
            shapes = [reader.get_slice(name).get_shape() for name in reader.keys() if not name.endswith(_BUFFERS)]  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError):
        return None
    total = 0
    for shape in shapes:
        size = 1
        for dim in shape:
            size *= dim
        total += size
    return total


def _read_metrics(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ProjectFileError(f"cannot read {path}: {exc}") from None
    return value if isinstance(value, dict) else {}


def _epoch(entry: dict[str, Any]) -> EpochEnd:
    """An EpochEnd from its JSON form (NaN was written as null; unknown keys from newer files are ignored)."""
    def number(key: str, default: float = float("nan")) -> float:
        value = entry.get(key)
        return float(value) if isinstance(value, (int, float)) else default

    def optional(key: str) -> float | None:
        value = entry.get(key)
        return float(value) if isinstance(value, (int, float)) else None

    return EpochEnd(int(entry.get("epoch", 0)), number("train_loss"), optional("train_acc"), optional("val_loss"),
                    optional("val_acc"), number("seconds", 0.0), number("lr", 0.0), number("samples_per_s", 0.0),
                    optional("penalty"))
