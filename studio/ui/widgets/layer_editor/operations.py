"""Edits of a :class:`ModelSpec` as pure functions: each returns a new spec and leaves its input alone.

Keeping the edits free of Qt makes them trivial to test and lets every undo command be the same
"before -> after" snapshot (a ModelSpec is a few hundred bytes, so copying is cheap).
"""

from __future__ import annotations

import copy
from typing import Any

from studio.core.layers import LAYERS
from studio.core.params import defaults
from studio.core.project import LayerSpec, ModelSpec

# LayerSpec fields that the properties panel edits besides the type's own parameters.
LAYER_FIELDS = ("init", "init_params", "frozen", "lr_mult")
# ModelSpec fields that the network panel edits.
NETWORK_FIELDS = ("init", "init_params", "bias_init", "bias_init_params")


def new_layer(type_name: str) -> LayerSpec:
    """A layer of ``type_name`` with every parameter at its default, written out for reproducibility."""
    return LayerSpec(type=type_name, params=defaults(LAYERS.get(type_name).params))


def add_layer(spec: ModelSpec, type_name: str, row: int) -> ModelSpec:
    """Insert a new ``type_name`` layer so that it becomes row ``row`` (clamped to the stack)."""
    result = copy.deepcopy(spec)
    result.layers.insert(_clamp(row, len(result.layers)), new_layer(type_name))
    return result


def remove_layer(spec: ModelSpec, row: int) -> ModelSpec:
    result = copy.deepcopy(spec)
    del result.layers[row]
    return result


def duplicate_layer(spec: ModelSpec, row: int) -> ModelSpec:
    """Insert a copy of row ``row`` right below it."""
    result = copy.deepcopy(spec)
    result.layers.insert(row + 1, copy.deepcopy(result.layers[row]))
    return result


def move_layer(spec: ModelSpec, source: int, target: int) -> ModelSpec:
    """Move row ``source`` so that it ends up at index ``target``."""
    result = copy.deepcopy(spec)
    layer = result.layers.pop(source)
    result.layers.insert(_clamp(target, len(result.layers)), layer)
    return result


def drop_target(source: int, insert_before: int) -> int:
    """The final index of a row dropped before row ``insert_before`` (Qt's drop position)."""
    return insert_before - 1 if insert_before > source else insert_before


def set_layer_param(spec: ModelSpec, row: int, name: str, value: Any) -> ModelSpec:
    result = copy.deepcopy(spec)
    result.layers[row].params[name] = value
    return result


def set_layer_field(spec: ModelSpec, row: int, name: str, value: Any) -> ModelSpec:
    """Set ``init``, ``init_params``, ``frozen`` or ``lr_mult`` of one layer; a new ``init`` drops the old
    scheme's settings (see :func:`set_layer_init` to give the new one its own)."""
    if name not in LAYER_FIELDS:
        raise ValueError(f"not a layer field: {name!r}")
    result = copy.deepcopy(spec)
    setattr(result.layers[row], name, copy.deepcopy(value))
    if name == "init" and value != spec.layers[row].init:
        result.layers[row].init_params = {}
    return result


def set_layer_init(spec: ModelSpec, row: int, init: str | None, params: dict[str, Any]) -> ModelSpec:
    """Give one layer its own initialisation ``init`` (None: the network's) with settings ``params``."""
    result = copy.deepcopy(spec)
    result.layers[row].init, result.layers[row].init_params = init, copy.deepcopy(params)
    return result


def set_network_field(spec: ModelSpec, name: str, value: Any) -> ModelSpec:
    """Set the network-wide ``init``, ``init_params`` or ``bias_init``."""
    if name not in NETWORK_FIELDS:
        raise ValueError(f"not a network field: {name!r}")
    result = copy.deepcopy(spec)
    setattr(result, name, copy.deepcopy(value))
    return result


def _clamp(row: int, size: int) -> int:
    return min(max(row, 0), size)
