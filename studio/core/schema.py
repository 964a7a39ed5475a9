"""JSON Schema of the project file, derived from the project dataclasses and the registries.

Deriving it (instead of writing it by hand) keeps the schema, the document classes and the
registries from drifting apart; ``python main.py schema`` prints it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from studio.core import project as doc

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type_schema(tp: Any) -> dict[str, Any]:
    """Schema of one annotated field type."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [_type_schema(arg) for arg in typing.get_args(tp)]
        return {"anyOf": options}
    if tp is type(None):
        return {"type": "null"}
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    if origin is list:
        (item,) = typing.get_args(tp)
        return {"type": "array", "items": _type_schema(item)}
    if origin is dict or tp is dict:
        return {"type": "object"}
    if dataclasses.is_dataclass(tp):
        return {"$ref": f"#/$defs/{tp.__name__}"}
    return {}


def _class_schema(cls: type) -> dict[str, Any]:
    """Schema of a project dataclass: its fields, their defaults, nothing else allowed."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        schema = _type_schema(hints[f.name])
        if f.default is not dataclasses.MISSING:
            schema["default"] = f.default
        elif f.default_factory is dataclasses.MISSING:
            required.append(f.name)
        properties[f.name] = schema
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = required
    if cls.__doc__:
        out["description"] = " ".join(cls.__doc__.split())
    return out


def _registry_enums() -> dict[tuple[str, str], list[str]]:
    """Allowed names for the fields that refer to a registry entry."""
    from studio.core.data import DATASETS, PREPROCESSINGS
    from studio.core.init import BIAS_INITS, INITS
    from studio.core.layers import LAYERS

    return {
        ("LayerSpec", "type"): LAYERS.names(),
        ("ModelSpec", "init"): INITS.names(),
        ("ModelSpec", "bias_init"): BIAS_INITS.names(),
        ("DataSpec", "dataset"): DATASETS.names(),
        ("DataSpec", "preprocessing"): PREPROCESSINGS.names(),
    }


def _choice_enums() -> dict[str, list[str]]:
    """Allowed names for the optimizer, loss and schedule choices."""
    from studio.core.optim import LOSSES, OPTIMIZERS, SCHEDULES

    return {"optimizer": OPTIMIZERS.names(), "loss": LOSSES.names(), "schedule": SCHEDULES.names()}


def project_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a project file at the current schema version."""
    classes = [doc.LayerSpec, doc.ModelSpec, doc.DataSpec, doc.Choice, doc.TrainingSpec]
    defs = {cls.__name__: _class_schema(cls) for cls in classes}
    for (cls_name, field_name), names in _registry_enums().items():
        defs[cls_name]["properties"][field_name]["enum"] = names
    root = _class_schema(doc.Project)
    for key, names in _choice_enums().items():
        root["properties"][key] = {"allOf": [{"$ref": "#/$defs/Choice"}, {"properties": {"name": {"enum": names}}}]}
    root["properties"] = {"schema_version": {"const": doc.SCHEMA_VERSION}, **root["properties"]}
    root["required"] = ["schema_version"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Training Studio project",
        **root,
        "$defs": defs,
    }
