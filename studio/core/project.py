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
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from studio.core.errors import ProjectFileError
from studio.core.io import MB, atomic_write_text, read_bounded

SCHEMA_VERSION = 1
# A project is a few kilobytes; a bigger file is a mistake (or a device) and is refused unread.
PROJECT_FILE_LIMIT = 10 * MB

# Upgrades one schema version to the next: MIGRATIONS[n] turns a version-n dict into version n+1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


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
    lr_mult: float = 1.0
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
    val_fraction: float = 0.2
    subset_per_class: int | None = None
    seed: int = 0


@dataclass
class Choice:
    """A registry entry by name with its parameters (optimizer, loss, schedule)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainingSpec:
    """How long and how to train; ``None`` switches an optional stop condition off."""

    epochs: int = 20
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    shuffle: bool = True
    target_loss: float | None = None
    early_stopping_patience: int | None = None
    stats_every: int = 10
    snapshot_every: int = 0
    keep_snapshots: int = 3


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
        """Build a project from a (possibly older) dict; raise :class:`ProjectFileError` when it cannot."""
        if not isinstance(data, dict):
            raise ProjectFileError("a project file must contain a JSON object")
        data = migrate(data)
        try:
            return _build(cls, data, "project")
        except (TypeError, ValueError, AttributeError) as exc:
            raise ProjectFileError(f"the project file is not valid: {exc}") from None


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


def _build(cls: type, data: Any, where: str) -> Any:
    """Construct dataclass ``cls`` from ``data``, naming the first unknown or malformed key."""
    if not isinstance(data, dict):
        raise ValueError(f"'{where}' must be an object")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names - {"schema_version"})
    if unknown:
        raise ValueError(f"unknown key '{where}.{unknown[0]}'")
    missing = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
    absent = [name for name in missing if name not in data]
    if absent:
        raise ValueError(f"'{where}' needs '{absent[0]}'")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "schema_version":
            continue
        if key in _NESTED and cls is Project:
            kwargs[key] = _build(_NESTED[key], value, key)
        elif cls in (ModelSpec, LayerSpec) and key == "layers":
            if not isinstance(value, list):
                raise ValueError(f"'{where}.layers' must be a list")
            kwargs[key] = [_build(LayerSpec, item, f"{where}.layers[{i}]") for i, item in enumerate(value)]
        else:
            kwargs[key] = value
    return cls(**kwargs)


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a project file; any problem becomes one clear :class:`ProjectFileError`."""
    path = Path(path)
    try:
        text = read_bounded(path, PROJECT_FILE_LIMIT, "project file").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectFileError(f"cannot read project file {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectFileError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}); is it truncated?") from None
    try:
        return Project.from_dict(data)
    except ProjectFileError as exc:
        raise ProjectFileError(f"{path}: {exc}") from None


def save_project(path: str | os.PathLike[str], project: Project) -> None:
    """Write ``project`` to ``path`` atomically."""
    atomic_write_text(path, project.to_json())
