"""JSON Schema of the project file, derived from the project dataclasses and the registries.

Deriving it (instead of writing it by hand) keeps the schema, the document classes and the
registries from drifting apart; ``python main.py schema`` prints it and ``validate.py`` checks
every project against it. It is tight on purpose: every field has its type, counts have their
ranges (from the dataclass fields' ``schema`` metadata), names come from the registries, and
each layer's, dataset's, optimizer's, loss's, schedule's and initialisation's settings are
checked against that entry's own :class:`~studio.core.params.Param`\\ s, so a wrong type never
reaches code that assumed the right one.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import Any

from studio.core import project as doc
from studio.core.params import Param

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
_PARAM_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "choice": "string", "str": "string",
                "path": "string", "array": "array"}
# An ``array`` setting: numbers, or lists of them, nested (the settings check rectangularity and shape).
NUMBER_ARRAY = {"type": "array", "items": {"type": ["number", "array"], "items": {"$ref": "#/$defs/NumberArray/items"}}}
# Integer settings without a maximum of their own get this one: a 40-digit count is a typo, and
# it would overflow the C integers and floats it is converted to.
INT_LIMIT = doc.MAX_COUNT


def _type_schema(tp: Any) -> dict[str, Any]:
    """Schema of one annotated field type; ``X | None`` becomes a list of JSON types."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [_type_schema(arg) for arg in typing.get_args(tp)]
        if all(set(option) == {"type"} for option in options):
            return {"type": [option["type"] for option in options]}
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
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return {"$ref": f"#/$defs/{tp.__name__}"}
    return {}


def _class_schema(cls: type) -> dict[str, Any]:
    """Schema of a project dataclass: its fields, their limits and defaults, nothing else allowed."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        schema = {**_type_schema(hints[f.name]), **f.metadata.get("schema", {})}
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


def param_schema(param: Param) -> dict[str, Any]:
    """Schema of one registry setting: its JSON type, range or choices, and help text."""
    kind = _PARAM_TYPES[param.kind]
    schema: dict[str, Any] = {"type": [kind, "null"] if param.optional else kind, "description": param.help}
    if param.kind == "choice" and isinstance(param.choices, tuple):  # lazy ones (torchvision's models): resolve()
        schema["enum"] = [*param.choices, *([None] if param.optional else [])]
    if param.kind == "array":
        schema["items"] = {"$ref": "#/$defs/NumberArray/items"}
    if param.min is not None:
        schema["minimum"] = param.min
    if param.max is not None:
        schema["maximum"] = param.max
    elif param.kind == "int":
        schema["maximum"] = INT_LIMIT
    if param.default is not None:
        schema["default"] = param.default
    return schema


def params_schema(params: Sequence[Param]) -> dict[str, Any]:
    """Schema of a settings object: the entry's own settings and no others."""
    return {
        "type": "object",
        "properties": {p.name: param_schema(p) for p in params},
        "additionalProperties": False,
    }


def _per_name(name_key: str, params_key: str, entries: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """One ``if name == X then params match X's settings`` rule per registry entry."""
    return [
        {
            "if": {"properties": {name_key: {"const": name}}, "required": [name_key]},
            "then": {"properties": {params_key: params_schema(entry.params)}},
        }
        for name, entry in entries
    ]


def registries() -> dict[str, Any]:
    """The registries whose names the schema lists (imported here: they pull in torch)."""
    from studio.core.data import DATASETS, PREPROCESSINGS
    from studio.core.device import DEVICE_PATTERN
    from studio.core.init import BIAS_INITS, INITS
    from studio.core.layers import LAYERS
    from studio.core.optim import LOSSES, OPTIMIZERS, SCHEDULES

    return {"layers": LAYERS, "inits": INITS, "bias_inits": BIAS_INITS, "datasets": DATASETS,
            "preprocessings": PREPROCESSINGS, "devices": DEVICE_PATTERN,
            "optimizer": OPTIMIZERS, "loss": LOSSES, "schedule": SCHEDULES}


def _definitions(reg: dict[str, Any]) -> dict[str, Any]:
    """The ``$defs``: each document class, with registry names and per-entry settings filled in."""
    classes = [doc.LayerSpec, doc.ModelSpec, doc.DataSpec, doc.TrainingSpec]
    defs = {cls.__name__: _class_schema(cls) for cls in classes}
    layer, model = defs["LayerSpec"]["properties"], defs["ModelSpec"]["properties"]
    data = defs["DataSpec"]["properties"]
    layer["type"]["enum"] = reg["layers"].names()
    layer["init"]["enum"] = [*reg["inits"].names(), None]
    model["init"]["enum"] = reg["inits"].names()
    model["bias_init"]["enum"] = reg["bias_inits"].names()
    data["dataset"]["enum"] = reg["datasets"].names()
    data["preprocessing"]["enum"] = reg["preprocessings"].names()
    training = defs["TrainingSpec"]["properties"]
    training["device"].update(pattern=reg["devices"], title="auto, cpu, cuda, cuda:N (one GPU) or mps")
    defs["LayerSpec"]["allOf"] = (_per_name("type", "params", reg["layers"].items())
                                  + _per_name("init", "init_params", reg["inits"].items()))
    defs["ModelSpec"]["allOf"] = (_per_name("init", "init_params", reg["inits"].items())
                                  + _per_name("bias_init", "bias_init_params", reg["bias_inits"].items()))
    defs["DataSpec"]["allOf"] = _per_name("dataset", "params", reg["datasets"].items())
    defs["NumberArray"] = NUMBER_ARRAY
    return defs


def project_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a project file at the current schema version."""
    reg = registries()
    defs = _definitions(reg)
    root = _class_schema(doc.Project)
    for key in ("optimizer", "loss", "schedule"):
        choice = _class_schema(doc.Choice)
        choice["properties"]["name"]["enum"] = reg[key].names()
        choice["allOf"] = _per_name("name", "params", reg[key].items())
        root["properties"][key] = choice
    root["properties"] = {"schema_version": {"const": doc.SCHEMA_VERSION}, **root["properties"]}
    root["required"] = ["schema_version"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Training Studio project",
        **root,
        "$defs": defs,
    }
