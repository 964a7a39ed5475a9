"""Project settings named by their path in the project file: ``optimizer.params.lr``, ``model.layers[2].params.p``.

The command line changes a project with ``--set KEY=VALUE`` (and a sweep varies ``KEY``) without
editing the file. A path names a key that the file has, or a setting that the named registry entry
knows (``optimizer.params.momentum`` for SGD even when the file leaves it out); anything else is an
unknown key, named in one line. The changed project goes through the same checks as a project file
(``Project.from_dict``), and a registry setting through its ``Param``, so a value is judged exactly
as it would be in the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from studio.core.errors import ConfigError, StudioError
from studio.core.params import Param, resolve
from studio.core.project import Project

Path = tuple[str | int, ...]

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")
_INDEX = re.compile(r"\[(\d+)\]")


def parse_path(key: str) -> Path:
    """``"model.layers[2].params.p"`` -> ``("model", "layers", 2, "params", "p")``; a malformed key is a ConfigError."""
    path: list[str | int] = []
    for part in key.split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise ConfigError(f"{key!r} is not a setting's path; write it like optimizer.params.lr or "
                              "model.layers[2].params.p", field=key)
        path.append(match.group(1))
        path.extend(int(index) for index in _INDEX.findall(match.group(2)))
    return tuple(path)


def format_path(path: Sequence[str | int]) -> str:
    """The inverse of :func:`parse_path`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def parse_value(text: str) -> Any:
    """A command-line value read as JSON (``0.01``, ``true``, ``null``, ``[[0, 0]]``), else as plain text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"KEY=VALUE"`` -> (key, value); without ``=`` it is a ConfigError."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set needs KEY=VALUE (e.g. optimizer.params.lr=0.01), not {text!r}", field="set")
    return key.strip(), parse_value(value.strip())


# --- which settings a params object may hold --------------------------------------------------------


def _registry_params(kind: str) -> Callable[[dict[str, Any], Path], tuple[Sequence[Param], str]]:
    """Settings of the registry entry named in the object above a ``params`` dict (optimizer, loss...)."""

    def params(doc: dict[str, Any], at: Path) -> tuple[Sequence[Param], str]:
        from studio.core.data import DATASETS
        from studio.core.init import BIAS_INITS, INITS
        from studio.core.layers import LAYERS
        from studio.core.optim import LOSSES, OPTIMIZERS, SCHEDULES

        registries: dict[str, Any] = {"optimizer": OPTIMIZERS, "loss": LOSSES, "schedule": SCHEDULES,
                                      "dataset": DATASETS, "layer": LAYERS, "init": INITS, "bias_init": BIAS_INITS}
        owner = _get(doc, at[:-1])
        name = {"dataset": owner.get("dataset"), "layer": owner.get("type"), "bias_init": owner.get("bias_init"),
                "init": owner.get("init") or _get(doc, ("model", "init"))}.get(kind, owner.get("name"))
        entry = registries[kind].get(name)
        return entry.params, f"{kind.replace('_', ' ')} {name}"

    return params


# (pattern of the params dict's path, with "*" for any row) -> where its settings are described.
_PARAMS_OWNERS: dict[Path, Callable[[dict[str, Any], Path], tuple[Sequence[Param], str]]] = {
    ("optimizer", "params"): _registry_params("optimizer"),
    ("loss", "params"): _registry_params("loss"),
    ("schedule", "params"): _registry_params("schedule"),
    ("data", "params"): _registry_params("dataset"),
    ("model", "init_params"): _registry_params("init"),
    ("model", "bias_init_params"): _registry_params("bias_init"),
    ("model", "layers", "*", "params"): _registry_params("layer"),
    ("model", "layers", "*", "init_params"): _registry_params("init"),
}


def _owner(at: Path) -> Callable[[dict[str, Any], Path], tuple[Sequence[Param], str]] | None:
    pattern = ["*" if isinstance(part, int) else part for part in at]
    row = ["model", "layers", "*"]
    while pattern[:5] == [*row, "layers", "*"]:  # a row inside a block is described like a top-level row
        pattern = row + pattern[5:]
    return _PARAMS_OWNERS.get(tuple(pattern))


def _get(doc: Any, path: Path) -> Any:
    for part in path:
        doc = doc[part]
    return doc


# --- setting -----------------------------------------------------------------------------------------


def _container(doc: dict[str, Any], path: Path, key: str) -> Any:
    """The dict or list that holds the last part of ``path``; an unknown part is a ConfigError naming it."""
    node: Any = doc
    for depth, part in enumerate(path[:-1]):
        node = _step(node, part, path[: depth + 1], key)
    return node


def _step(node: Any, part: str | int, upto: Path, key: str) -> Any:
    where = format_path(upto)
    if isinstance(part, int):
        if not isinstance(node, list):
            raise ConfigError(f"unknown setting {key!r}: {format_path(upto[:-1])} is not a list", field=key)
        if part >= len(node):
            raise ConfigError(f"unknown setting {key!r}: {format_path(upto[:-1])} has {len(node)} entries "
                              f"(counted from 0), so there is no [{part}]", field=key)
        return node[part]
    if not isinstance(node, dict) or part not in node:
        raise ConfigError(f"unknown setting {key!r}: the project has no {where}", field=key)
    return node[part]


def _check_leaf(doc: dict[str, Any], path: Path, key: str) -> tuple[Sequence[Param], str] | None:
    """The registry settings of the params dict being changed (None outside one); unknown names are errors."""
    parent, leaf = path[:-1], path[-1]
    holder = _container(doc, path, key)
    owner = _owner(parent)
    if owner is not None:
        params, label = owner(doc, parent)
        if leaf not in {p.name for p in params}:
            known = ", ".join(p.name for p in params) or "none"
            raise ConfigError(f"unknown setting {key!r}: {label} has the settings {known}", field=key)
        return params, label
    if isinstance(leaf, int):
        _step(holder, leaf, path, key)
    elif not isinstance(holder, dict) or leaf not in holder:
        raise ConfigError(f"unknown setting {key!r}: the project has no {format_path(path)}", field=key)
    return None


def set_value(project: Project, key: str, value: Any) -> Project:
    """A copy of ``project`` with the setting at ``key`` changed to ``value``, checked like a project file value."""
    path = parse_path(key)
    doc = project.to_dict()
    described = _check_leaf(doc, path, key)
    _container(doc, path, key)[path[-1]] = value
    if described is not None:
        params, label = described
        try:
            resolve(params, _get(doc, path[:-1]), label)
        except ConfigError as exc:
            raise ConfigError(f"{key}: {exc}", field=key) from None
    try:
        return Project.from_dict(doc)
    except StudioError as exc:
        raise ConfigError(f"{key}: {exc}", field=key) from None


def apply_settings(project: Project, assignments: Iterable[str]) -> Project:
    """``project`` with every ``KEY=VALUE`` applied in order (a later one sees the earlier ones)."""
    for text in assignments:
        project = set_value(project, *parse_assignment(text))
    return project
