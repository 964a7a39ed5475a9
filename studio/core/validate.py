"""Every project is checked against its own JSON Schema before anything is applied.

Two stages, both before a single field reaches the code that uses it:

- :func:`parse_json` reads the text strictly: duplicate keys, ``NaN``/``Infinity``, numbers that
  overflow (``1e999``) or run to hundreds of digits, and absurd nesting are refused with one line
  instead of a crash deep inside ``json``;
- :func:`validate_project` checks the parsed (and migrated) dict against ``schema.project_schema()``
  with ``jsonschema`` and words each problem for a learner, naming the field
  (``training.epochs must be a whole number, not "ten"``).

Integers are strict (``3.0`` is not a batch size) and numbers must be finite, so a value of the
wrong type never reaches code that assumed the right one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from studio.core.errors import InvalidProjectError, ProjectFileError

MAX_DIGITS = 40  # longer integers are typos (a 5,000-digit integer stalls int())
MAX_DEPTH = 32  # a project nests 6 levels deep; deeper is not a project
MAX_PROBLEMS = 10  # problems listed, one line each; more are counted

_TYPE_WORDS = {"integer": "a whole number", "number": "a finite number", "boolean": "true or false",
               "string": "text", "array": "a list", "object": "an object ({...})", "null": "null (off)"}


# --- reading -------------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ProjectFileError(f"the key {json.dumps(key)} appears twice in one object; keep one")
        out[key] = value
    return out


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ProjectFileError(f"the number {text[:20]} is too large")
    return value


def _short_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ProjectFileError(f"a number has {len(text.lstrip('-')):,} digits; no setting needs more than"
                               f" {MAX_DIGITS}")
    return int(text)


def _no_constant(text: str) -> Any:
    raise ProjectFileError(f"{text} is not a number JSON allows; write a finite number or null")


def parse_json(text: str) -> Any:
    """Parse project JSON strictly; any problem is one :class:`ProjectFileError` line."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_float=_finite, parse_int=_short_int,
                          parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ProjectFileError(f"not valid JSON (line {exc.lineno}: {exc.msg}); is it truncated?") from None
    except RecursionError:
        raise ProjectFileError(f"the file nests lists or objects too deeply (a project needs at most"
                               f" {MAX_DEPTH} levels)") from None
    if _depth(data) > MAX_DEPTH:
        raise ProjectFileError(f"the file nests lists or objects more than {MAX_DEPTH} levels deep; it is not a"
                               " project")
    return data


def _depth(data: Any) -> int:
    """Nesting depth of lists and objects, without recursion."""
    deepest, level = 0, [(data, 1)]
    while level:
        value, depth = level.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_DEPTH:
                    return depth + 1
                level.append((child, depth + 1))
        deepest = max(deepest, depth)
    return deepest


# --- checking ------------------------------------------------------------------------------------


def _is_integer(_: Any, value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_: Any, value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _by_name(validator: Any, lookups: list[dict[str, Any]], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    """The ``x-by-name`` keyword: check ``instance`` against the case each name selects, by a dict lookup."""
    if not isinstance(instance, dict):
        return
    for lookup in lookups:
        name = instance.get(lookup["key"])
        case = lookup["cases"].get(name) if isinstance(name, str) else None
        if case is not None:
            yield from validator.descend(instance, case)


_Validator = jsonschema.validators.extend(
    Draft202012Validator,
    validators={"x-by-name": _by_name},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many({"integer": _is_integer, "number": _is_number}),
)


def _indexed(schema: Any) -> Any:
    """``schema`` with each ``allOf`` of ``if name == X then ...`` rules turned into one ``x-by-name`` lookup.

    Same meaning, but a 200-layer stack is checked in milliseconds instead of trying all 22 layer
    types' rules on every row (about a second).
    """
    if isinstance(schema, list):
        return [_indexed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _indexed(value) for key, value in schema.items()}
    rules = out.get("allOf")
    if rules and all(set(rule) == {"if", "then"} for rule in rules):
        lookups: dict[str, dict[str, Any]] = {}
        for rule in rules:
            key = rule["if"]["required"][0]
            lookups.setdefault(key, {})[rule["if"]["properties"][key]["const"]] = rule["then"]
        del out["allOf"]
        out["x-by-name"] = [{"key": key, "cases": cases} for key, cases in lookups.items()]
    return out


@cache
def _validator(key: tuple[int, ...]) -> Any:
    """The compiled validator for a :func:`_schema_key` (schema version and registry sizes)."""
    from studio.core.schema import project_schema

    return _Validator(_indexed(project_schema()))


def _schema_key() -> tuple[int, ...]:
    """What the schema depends on: a newly registered entry or a new version compiles it anew."""
    from studio.core.project import SCHEMA_VERSION
    from studio.core.schema import registries

    return (SCHEMA_VERSION, *(len(entry) for entry in registries().values()))


def validate_project(data: Any) -> None:
    """Raise :class:`InvalidProjectError` listing what in ``data`` breaks the project schema."""
    errors = list(_validator(_schema_key()).iter_errors(data))
    if not errors:
        return
    problems = [_describe(error, data) for error in errors]
    lines = [text for text, _ in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
    raise InvalidProjectError(lines, problems[0][1])


def check_project(project: Any) -> None:
    """Validate an in-memory :class:`~studio.core.project.Project` (built by code, not read from a file), and that
    a backbone's pictures reach it unscaled."""
    from studio.core.backbone import check_data

    validate_project(project.to_dict())
    check_data(project.model.layers, project.data.preprocessing)


def field_name(path: Iterable[Any]) -> str:
    """``["model", "layers", 2, "params"]`` -> ``"model.layers[2].params"``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _show(value: Any) -> str:
    """A value as the user wrote it in JSON, cut short."""
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _names(values: Sequence[Any]) -> str:
    return ", ".join("null" if v is None else str(v) for v in values)


def _describe(error: ValidationError, data: Any) -> tuple[str, str]:
    """One learner-worded line for ``error`` and the field it names."""
    field = field_name(error.absolute_path)
    where = (field or "the project") + _row(list(error.absolute_path), data)
    kind = str(error.validator)
    # jsonschema types these as "unset or anything"; on a reported error they are the JSON values.
    limit: Any = error.validator_value
    value: Any = error.instance
    schema: Any = error.schema  # the failing sub-schema: a dict here
    if kind == "additionalProperties":
        known = schema.get("properties", {})
        extra = sorted(k for k in value if k not in known)[0]
        allowed = f"; the keys are: {_names(list(known))}" if known else "; it takes none"
        return f"{where}: unknown key {json.dumps(extra)}{allowed}", field_name([*error.absolute_path, extra])
    if kind == "required":
        missing = next(k for k in limit if k not in value)
        return f"{where} needs {json.dumps(missing)}", field_name([*error.absolute_path, missing])
    if kind == "pattern" and "title" in schema:  # e.g. the device: "auto, cpu, cuda, cuda:N or mps"
        return f"{where} must be {schema['title']}; got {_show(value)}", field
    return f"{where} {_rule(kind, limit, value, error.message)}", field


def _row(path: list[Any], data: Any) -> str:
    """`` (layer 3, Linear)`` for a field inside a layer row, as the editor counts rows (from 1); inside a
    block ``model.layers[2].layers[1]...``: `` (block 3 › row 2, Linear)``.
    """
    if len(path) < 3 or path[:2] != ["model", "layers"] or not isinstance(path[2], int):
        return ""
    steps, rows, row = [], data["model"]["layers"], None
    for key, index in zip(path[1::2], path[2::2], strict=False):  # the field after the last row is left over
        if key != "layers" or not isinstance(index, int) or not isinstance(rows, list) or index >= len(rows):
            break
        row = rows[index]
        steps.append(index + 1)
        rows = row.get("layers") if isinstance(row, dict) else None
    kind = row.get("type") if isinstance(row, dict) else None
    where = f"layer {steps[0]}" if len(steps) == 1 else " › ".join(
        [f"block {steps[0]}", *(f"block {s}" for s in steps[1:-1]), f"row {steps[-1]}"])
    return f" ({where}, {kind})" if isinstance(kind, str) else f" ({where})"


_BOUND_WORDS = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "above", "exclusiveMaximum": "below"}


def _rule(kind: str, limit: Any, value: Any, fallback: str) -> str:
    """What ``value`` should have been, for one schema keyword."""
    if kind == "type":
        kinds = [limit] if isinstance(limit, str) else limit
        return f"must be {' or '.join(_TYPE_WORDS.get(k, k) for k in kinds)}, not {_show(value)}"
    if kind == "enum":
        return f"must be one of: {_names(limit)}; got {_show(value)}"
    if kind in _BOUND_WORDS:
        return f"must be {_BOUND_WORDS[kind]} {limit:g}; got {_show(value)}"
    if kind == "const":
        return f"must be {_show(limit)}; got {_show(value)}"
    return f"is not valid: {fallback}"
