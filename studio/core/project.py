"""The project document: network, data, optimizer, loss, schedule and training settings.

A project is plain data (dataclasses of names and parameter dicts). It knows how to go to and
from JSON, how to migrate older schema versions and how to save atomically; it does not know
how to build anything (the registries in ``layers``, ``data`` and ``optim`` do that), so the
GUI, the command line and the tests all share one document and one format.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from studio.core.errors import InvalidProjectError, ProjectFileError
from studio.core.io import MB, atomic_write_text, read_bounded
from studio.core.validate import parse_json, validate_project
from studio.core.vocab import Precision

SCHEMA_VERSION = 2
# A project is a few kilobytes; a bigger file is a mistake (or a device) and is refused unread.
PROJECT_FILE_LIMIT = 10 * MB


def _checkpoint_names(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 -> 2: ``training.snapshot_every``/``keep_snapshots`` are ``checkpoint_every``/``keep_checkpoints``.

    "Snapshot" now means only the trained model the Inspect tab looks at; these settings always
    wrote checkpoints. A malformed ``training`` is left for the schema check to name.
    """
    training = data.get("training")
    if isinstance(training, dict):
        for old, new in (("snapshot_every", "checkpoint_every"), ("keep_snapshots", "keep_checkpoints")):
            if old in training and new not in training:
                training[new] = training.pop(old)
    return data


# Upgrades one schema version to the next: MIGRATIONS[n] turns a version-n dict into version n+1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _checkpoint_names}

# Upper bounds of counts (epochs, batch size...) and seeds: generous, but they keep a typo such as a
# 40-digit number from reaching code that converts it to a float or a C integer.
MAX_COUNT = 1_000_000_000
MAX_SEED = 2**32 - 1


# When ``TrainingSpec.target_loss`` is compared: each epoch's mean training loss, or every batch's loss.
TARGET_CHECKS = ("epoch", "batch")


def _limited(default: Any, **schema: Any) -> Any:
    """A field with JSON Schema constraints (``minimum``, ``enum``...) that ``schema.py`` adds to its type."""
    return field(default=default, metadata={"schema": schema})


@dataclass
class LayerSpec:
    """One row of the layer stack. ``init`` None means "use the network's initialisation";
    ``init_params`` are this row's own settings of its scheme (over the network's ``init_params``).

    A block type (``Residual``, ``Parallel``, ``Repeat``) holds its child rows in ``layers``, and a child
    may be a block itself; other rows leave it empty (and the file leaves it out).
    """

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    init: str | None = None
    frozen: bool = False
    lr_mult: float = _limited(1.0, minimum=0, maximum=1000)
    init_params: dict[str, Any] = field(default_factory=dict)
    layers: list[LayerSpec] = field(default_factory=list)


@dataclass
class ModelSpec:
    """The layer stack and the network-wide weight and bias initialisation."""

    layers: list[LayerSpec] = field(default_factory=list)
    init: str = "default"
    init_params: dict[str, Any] = field(default_factory=dict)
    bias_init: str = "zeros"
    bias_init_params: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataSpec:
    """Which dataset, with which options, preprocessing and split."""

    dataset: str = "digits"
    params: dict[str, Any] = field(default_factory=dict)
    preprocessing: str = "standardize"
    val_fraction: float = _limited(0.2, minimum=0, exclusiveMaximum=1)
    subset_per_class: int | None = _limited(None, minimum=1, maximum=MAX_COUNT)
    seed: int = _limited(0, minimum=0, maximum=MAX_SEED)


@dataclass
class Choice:
    """A registry entry by name with its parameters (optimizer, loss, schedule)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainingSpec:
    """How long and how to train; ``None`` switches an optional stop condition off.

    ``target_check`` says when ``target_loss`` is compared: with each epoch's mean training loss
    (``"epoch"``) or with every batch's loss (``"batch"``). ``report_penalty`` adds the L2 penalty of
    weight decay to the reported losses (the data loss stays as it is; the penalty is reported beside it).
    """

    epochs: int = _limited(20, minimum=1, maximum=MAX_COUNT)
    batch_size: int = _limited(64, minimum=1, maximum=MAX_COUNT)
    seed: int = _limited(0, minimum=0, maximum=MAX_SEED)
    device: str = "auto"
    shuffle: bool = True
    target_loss: float | None = None
    early_stopping_patience: int | None = _limited(None, minimum=1, maximum=MAX_COUNT)
    stats_every: int = _limited(10, minimum=0, maximum=MAX_COUNT)
    checkpoint_every: int = _limited(0, minimum=0, maximum=MAX_COUNT)
    keep_checkpoints: int = _limited(3, minimum=1, maximum=MAX_COUNT)
    target_check: str = _limited("epoch", enum=list(TARGET_CHECKS))
    report_penalty: bool = False
    precision: str = _limited(Precision.FP32, enum=list(Precision))
    channels_last: bool = False
    compile: bool = False
    sync_batchnorm: bool = True


@dataclass
class Project:
    """Everything needed to reproduce a training run."""

    name: str = "Untitled"
    description: str = ""
    model: ModelSpec = field(default_factory=ModelSpec)
    data: DataSpec = field(default_factory=DataSpec)
    optimizer: Choice = field(default_factory=lambda: Choice("adam", {"lr": 1e-3}))
    loss: Choice = field(default_factory=lambda: Choice("cross_entropy"))
    schedule: Choice = field(default_factory=lambda: Choice("none"))
    training: TrainingSpec = field(default_factory=TrainingSpec)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with the schema version first; rows without child rows leave ``layers`` out."""
        data = asdict(self)
        _drop_empty_rows(data["model"]["layers"])
        return {"schema_version": SCHEMA_VERSION, **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def copy(self) -> Project:
        return copy.deepcopy(self)

    @classmethod
    def from_dict(cls, data: Any) -> Project:
        """Build a project from a (possibly older) dict, checked against the schema after migrating.

        Raises :class:`ProjectFileError` (:class:`InvalidProjectError`, naming the field, for schema
        problems) before anything is built, so a bad file is refused whole.
        """
        if not isinstance(data, dict):
            raise ProjectFileError("a project file must contain a JSON object")
        data = migrate(data)
        validate_project(data)
        project: Project = _build(cls, data)
        return project


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Upgrade ``data`` step by step to :data:`SCHEMA_VERSION`."""
    version = data.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise ProjectFileError("the file has no valid 'schema_version'; is it a Training Studio project?")
    if version > SCHEMA_VERSION:
        raise ProjectFileError(
            f"the file was written by a newer Training Studio (schema {version}; this version reads up to"
            f" {SCHEMA_VERSION}); please update"
        )
    data = copy.deepcopy(data)
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    return data


def _drop_empty_rows(rows: list[dict[str, Any]]) -> None:
    """Remove the empty ``layers`` of plain rows, so a file without blocks reads as it always did."""
    for row in rows:
        if row["layers"]:
            _drop_empty_rows(row["layers"])
        else:
            del row["layers"]


_NESTED: dict[str, type] = {
    "model": ModelSpec,
    "data": DataSpec,
    "optimizer": Choice,
    "loss": Choice,
    "schedule": Choice,
    "training": TrainingSpec,
}


def _build(cls: type, data: dict[str, Any]) -> Any:
    """Construct dataclass ``cls`` from a dict that passed :func:`validate_project`."""
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "schema_version":
            continue
        if cls is Project and key in _NESTED:
            kwargs[key] = _build(_NESTED[key], value)
        elif cls in (ModelSpec, LayerSpec) and key == "layers":
            kwargs[key] = [_build(LayerSpec, item) for item in value]
        else:
            kwargs[key] = value
    return cls(**kwargs)


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a project file; any problem becomes :class:`ProjectFileError` lines that start with the path.

    A UTF-8 byte-order mark (some Windows editors write one) is accepted.
    """
    path = Path(path)
    try:
        text = read_bounded(path, PROJECT_FILE_LIMIT, "project file").decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProjectFileError(f"cannot read project file {path}: {exc}") from None
    try:
        return Project.from_dict(parse_json(text))
    except InvalidProjectError as exc:
        raise InvalidProjectError([f"{path}: {line}" for line in exc.problems], exc.field) from None
    except ProjectFileError as exc:
        raise ProjectFileError(f"{path}: {exc}") from None


def save_project(path: str | os.PathLike[str], project: Project) -> None:
    """Write ``project`` to ``path`` atomically."""
    atomic_write_text(path, project.to_json())
