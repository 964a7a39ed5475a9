"""Checkpoints: a training run frozen at an epoch boundary, complete enough to resume it exactly.

A checkpoint file holds the project (JSON text, so resuming needs nothing else), the engine's
``training_state()`` (weights, optimizer, schedule, random-number states, epoch/step, history)
and what export needs without preparing data again (input shape, class names, preprocessing
statistics and a few real validation inputs). It is written with ``torch.save`` into a
temporary file that atomically replaces the target, and read with ``weights_only=True``:
numpy arrays and scalars are encoded as tensors/plain values first, so the restricted
unpickler can read everything and a foreign file can never run code. A checksum of everything
in the file (``checksum.py``) is stored with it and checked on loading, so a corrupted file is
refused instead of resuming with damaged weights (files of format 1 predate it).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from studio.core.callbacks import Callback, FitContext
from studio.core.checksum import checksum
from studio.core.errors import ProjectFileError
from studio.core.events import EpochEnd, FitEnd, FitStart
from studio.core.io import atomic_path
from studio.core.project import Project
from studio.core.safeload import safe_torch_load
from studio.core.vocab import Task

if TYPE_CHECKING:
    from studio.core.engine import Trainer

FORMAT = "training-studio-checkpoint"
FORMAT_VERSION = 2  # 2: a checksum of the contents
CHECKSUM_KEY = "checksum"
SUFFIX = ".ckpt"
_NAME = re.compile(r"^epoch-(\d+)(?:-batch-(\d+))?\.ckpt$")
_NUMPY_TAG = "__numpy__"
# How many real validation inputs a checkpoint carries for export-time verification.
SAMPLE_INPUTS = 16


@dataclass
class ModelInfo:
    """What export and inference need to know about the data a model was trained on."""

    input_shape: tuple[int, ...]
    task: Task = Task.CLASSIFICATION
    num_classes: int | None = None
    class_names: list[str] = field(default_factory=list)
    target_dim: int | None = None
    preprocessing: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.task = Task(self.task)  # a ValueError for a task that does not exist

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "task": self.task.value,  # a plain string: checkpoints are read with weights_only=True
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "target_dim": self.target_dim,
            "preprocessing": self.preprocessing,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInfo:
        return cls(
            input_shape=tuple(int(v) for v in data["input_shape"]),
            task=data.get("task", Task.CLASSIFICATION),
            num_classes=data.get("num_classes"),
            class_names=[str(c) for c in data.get("class_names") or []],
            target_dim=data.get("target_dim"),
            preprocessing=dict(data.get("preprocessing") or {}),
        )

    @classmethod
    def from_data(cls, data: Any) -> ModelInfo:
        """Read the fields from a ``PreparedData``."""
        preprocessing = getattr(data, "preprocessing", None)
        return cls(
            input_shape=tuple(int(v) for v in data.input_shape),
            task=getattr(data, "task", Task.CLASSIFICATION),
            num_classes=getattr(data, "num_classes", None),
            class_names=[str(c) for c in (getattr(data, "class_names", None) or [])],
            target_dim=getattr(data, "target_dim", None),
            preprocessing=preprocessing.to_dict() if preprocessing is not None else {},
        )


@dataclass
class Checkpoint:
    """A loaded checkpoint: the project, the engine state to resume from and the model's data facts."""

    project: Project
    state: dict[str, Any]
    info: ModelInfo
    sample_inputs: torch.Tensor | None = None
    path: Path | None = None

    @property
    def epoch(self) -> int:
        """Epochs completed when the checkpoint was taken."""
        return int(self.state.get("epoch", 0))

    @property
    def step(self) -> int:
        return int(self.state.get("step", 0))

    @property
    def history(self) -> Any:
        return self.state.get("history", {})

    def model_state(self) -> dict[str, torch.Tensor]:
        """The network's weights (a ``state_dict``)."""
        return dict(self.state["model"])


def sample_inputs_from(data: Any, n: int = SAMPLE_INPUTS) -> torch.Tensor | None:
    """Up to ``n`` real, preprocessed inputs (validation first) for checking exports later."""
    for name in ("x_val", "x_train"):
        x = getattr(data, name, None)
        if isinstance(x, torch.Tensor) and len(x):
            return x[:n].detach().cpu().clone()
    for name in ("val_set", "train_set"):
        dataset = getattr(data, name, None)
        if dataset is not None and len(dataset):
            return torch.stack([dataset[i][0] for i in range(min(n, len(dataset)))]).float()
    return None


def save_checkpoint(
    path: str | os.PathLike[str],
    project: Project,
    state: Mapping[str, Any],
    info: ModelInfo,
    sample_inputs: torch.Tensor | None = None,
) -> Path:
    """Write a checkpoint atomically: a crash at any moment leaves the old file (or none), never half a file."""
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "project": project.to_json(),
        "info": info.to_dict(),
        "state": encode_state(state),
        "sample_inputs": sample_inputs,
    }
    payload[CHECKSUM_KEY] = checksum(payload)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint file (or the newest one in a folder); anything wrong is a :class:`ProjectFileError`."""
    path = Path(path)
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise ProjectFileError(f"no checkpoint (epoch-*.ckpt) found in {path}")
        path = found
    payload = safe_torch_load(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ProjectFileError(f"{path} is not a Training Studio checkpoint")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ProjectFileError(
            f"{path} was written by a newer Training Studio (checkpoint format {version}); please update"
        )
    if version >= 2:
        _verify(payload, path)
    try:
        project = _project(payload["project"])
        info = ModelInfo.from_dict(payload["info"])
        state = decode_state(payload["state"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProjectFileError(f"{path} is an incomplete checkpoint: {exc}") from None
    if not isinstance(state, dict) or "model" not in state:
        raise ProjectFileError(f"{path} is an incomplete checkpoint: it has no model weights")
    sample = payload.get("sample_inputs")
    return Checkpoint(project, state, info, sample if isinstance(sample, torch.Tensor) else None, path)


def _verify(payload: dict[str, Any], path: Path) -> None:
    """Refuse a file whose contents no longer match the checksum written with them."""
    contents = {key: value for key, value in payload.items() if key != CHECKSUM_KEY}
    try:
        matches = payload.get(CHECKSUM_KEY) == checksum(contents)
    except TypeError:  # a damaged file can unpickle into values a checkpoint never holds
        matches = False
    if not matches:
        raise ProjectFileError(
            f"{path} is damaged: its contents do not match the checksum written with them (a disk or copy error?);"
            " use an earlier checkpoint"
        )


def _project(text: str) -> Project:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"its project is not valid JSON ({exc.msg})") from None
    return Project.from_dict(data)


def checkpoint_name(epoch: int, batch: int = 0) -> str:
    """File name of the checkpoint after ``epoch`` epochs (and ``batch`` more batches, for a stop mid-epoch)."""
    return f"epoch-{epoch:04d}" + (f"-batch-{batch:06d}" if batch else "") + SUFFIX


def list_checkpoints(folder: str | os.PathLike[str]) -> list[Path]:
    """Checkpoint files in ``folder``, oldest first (temporary files of unfinished writes are ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [((int(m.group(1)), int(m.group(2) or 0)), p) for p in folder.iterdir()
             if (m := _NAME.match(p.name)) and p.is_file()]
    return [p for _, p in sorted(found)]


def latest_checkpoint(folder: str | os.PathLike[str]) -> Path | None:
    """The newest checkpoint in ``folder`` (or its ``checkpoints`` sub-folder), or None."""
    folder = Path(folder)
    found = list_checkpoints(folder) or list_checkpoints(folder / "checkpoints")
    return found[-1] if found else None


# --- during training: checkpoints and resume ----------------------------------------------------------


class CheckpointCallback(Callback):
    """Save a checkpoint every ``every`` epochs and when the fit ends (completed or stopped); keep the last ``keep``.

    ``every`` 0 saves only at the end. Files are ``FOLDER/epoch-0005.ckpt`` (``epoch-0003-batch-000012.ckpt``
    for a stop inside an epoch); each is written atomically, and older ones are deleted only after the new
    one is complete, so a kill at any moment leaves the previous checkpoints intact.
    """

    def __init__(self, folder: str | os.PathLike[str], every: int = 1, keep: int = 3) -> None:
        if every < 0 or keep < 1:
            raise ValueError(f"every must be >= 0 and keep >= 1; got every={every}, keep={keep}")
        self.folder, self.every, self.keep = Path(folder), every, keep
        self.saved: list[Path] = []
        self._info: ModelInfo | None = None
        self._sample: torch.Tensor | None = None

    @classmethod
    def from_project(cls, folder: str | os.PathLike[str], project: Project) -> CheckpointCallback:
        """Configured by ``TrainingSpec.checkpoint_every`` / ``keep_checkpoints``."""
        return cls(folder, project.training.checkpoint_every, project.training.keep_checkpoints)

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        self._remember_data(trainer)

    def _remember_data(self, trainer: FitContext) -> ModelInfo:
        """The data facts every checkpoint of this fit carries (computed once)."""
        if self._info is None:
            self._info = ModelInfo.from_data(trainer.data)
            self._sample = sample_inputs_from(trainer.data)
        return self._info

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        if self.every and event.epoch % self.every == 0:
            self.save(trainer)

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        position = checkpoint_name(trainer.position.epoch, trainer.position.batch)
        if not self.saved or self.saved[-1].name != position:
            self.save(trainer)

    def save(self, trainer: FitContext) -> Path:
        """Write the trainer's current state now, then delete checkpoints beyond the newest ``keep``."""
        info = self._remember_data(trainer)
        state = trainer.training_state()
        path = self.folder / checkpoint_name(int(state["epoch"]), int(state.get("batch", 0)))
        save_checkpoint(path, trainer.project, state, info, self._sample)
        self.saved.append(path)
        for old in list_checkpoints(self.folder)[: -self.keep]:
            old.unlink(missing_ok=True)
        return path


def resume_trainer(
    path: str | os.PathLike[str], callbacks: Iterable[Callback] = (), data: Any = None, epochs: int | None = None
) -> tuple[Trainer, Checkpoint]:
    """A trainer rebuilt from a checkpoint, ready for ``trainer.fit(resume=checkpoint.state)``.

    ``epochs`` raises the total number of epochs (to train longer than planned); ``data`` defaults to
    preparing the checkpoint's dataset again (the same seeded split).
    """
    from studio.core.engine import Trainer

    checkpoint = load_checkpoint(path)
    project = checkpoint.project.copy()
    if epochs is not None:
        project.training.epochs = epochs
    return Trainer(project, data, callbacks), checkpoint


def resume_fit(
    path: str | os.PathLike[str], callbacks: Iterable[Callback] = (), data: Any = None, epochs: int | None = None
) -> tuple[Trainer, FitEnd]:
    """Continue the run saved in ``path`` (a checkpoint or a folder of them) exactly where it stopped."""
    trainer, checkpoint = resume_trainer(path, callbacks, data, epochs)
    return trainer, trainer.fit(resume=checkpoint.state)


# --- encoding for the weights-only unpickler ---------------------------------------------------------


def encode_state(obj: Any) -> Any:
    """Turn numpy values into tensors/plain values so ``weights_only=True`` can read them back.

    Anything else the restricted unpickler cannot rebuild is rejected now, at save time, rather
    than producing a checkpoint that cannot be loaded later.
    """
    if isinstance(obj, np.generic):  # checked first: np.float64 is also a float, but pickles as numpy
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, torch.Tensor, torch.Size, torch.dtype)):
        return obj
    if isinstance(obj, np.ndarray):
        return {_NUMPY_TAG: obj.tobytes(), "dtype": obj.dtype.str, "shape": list(obj.shape)}
    if isinstance(obj, Mapping):
        return {key: encode_state(value) for key, value in obj.items()}
    if isinstance(obj, tuple):
        return tuple(encode_state(value) for value in obj)
    if isinstance(obj, list):
        return [encode_state(value) for value in obj]
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint (only tensors, numbers, text, containers)")


def decode_state(obj: Any) -> Any:
    """Inverse of :func:`encode_state`."""
    if isinstance(obj, Mapping):
        if _NUMPY_TAG in obj:
            array = np.frombuffer(obj[_NUMPY_TAG], dtype=np.dtype(obj["dtype"]))
            return array.reshape(obj["shape"]).copy()
        return {key: decode_state(value) for key, value in obj.items()}
    if isinstance(obj, tuple):
        return tuple(decode_state(value) for value in obj)
    if isinstance(obj, list):
        return [decode_state(value) for value in obj]
    return obj
