"""Typed, ranged parameters: the single description from which defaults, validation, JSON,
GUI forms (spin boxes, combo boxes, tooltips) and CLI help are all derived.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from studio.core.errors import ConfigError

KINDS = ("int", "float", "bool", "choice", "str", "path", "array")


@dataclass(frozen=True)
class Param:
    """One setting of a layer, dataset, optimizer, loss or schedule.

    ``kind`` is one of ``int``, ``float``, ``bool``, ``choice``, ``str``, ``path``, ``array`` (a list of
    numbers, or equal-length lists nested to any depth: typed weights; kept as plain JSON lists).
    ``optional`` allows ``None`` (shown as "off" in the GUI). ``log`` asks the GUI to
    edit the value on a logarithmic scale (learning rates, eps).
    """

    name: str
    kind: str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    log: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name!r}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"parameter {self.name!r}: a choice needs choices")

    @property
    def title(self) -> str:
        """Human label for forms: the explicit label or the name with spaces."""
        return self.label or self.name.replace("_", " ")

    def coerce(self, value: Any, owner: str = "") -> Any:
        """Return ``value`` converted to this parameter's type, or raise :class:`ConfigError`."""
        where = f"{owner}: " if owner else ""
        if value is None:
            if self.optional:
                return None
            raise ConfigError(f"{where}{self.title} needs a value", field=self.name)
        try:
            converted = _CONVERTERS[self.kind](self, value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where}{self.title} must be {_KIND_WORDS[self.kind]}, not {value!r}", field=self.name
            ) from None
        self._check_range(converted, where)
        return converted

    def _check_range(self, value: Any, where: str) -> None:
        if self.kind == "choice" and value not in self.choices:
            raise ConfigError(
                f"{where}{self.title} must be one of {', '.join(self.choices)}; got {value!r}", field=self.name
            )
        if self.kind in ("int", "float"):
            if self.kind == "float" and not math.isfinite(value):
                raise ConfigError(f"{where}{self.title} must be a finite number", field=self.name)
            if self.min is not None and value < self.min:
                raise ConfigError(f"{where}{self.title} must be at least {self.min:g}; got {value:g}", field=self.name)
            if self.max is not None and value > self.max:
                raise ConfigError(f"{where}{self.title} must be at most {self.max:g}; got {value:g}", field=self.name)


def _to_int(_: Param, value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    return int(value)


def _to_float(_: Param, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    return float(value)


def _to_bool(_: Param, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise ValueError(value)


def _to_str(_: Param, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def _to_array(_: Param, value: Any) -> list[Any]:
    """A rectangular nested list of finite numbers, as floats; anything else is a ValueError."""
    if not isinstance(value, list):
        raise ValueError(value)
    shape = _array_shape(value)
    flat = _flatten(value, len(shape))
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in flat):
        raise ValueError(value)
    floats: list[Any] = _floats(value)
    return floats


def _array_shape(value: Any) -> tuple[int, ...]:
    """The shape of a nested list, or a ValueError when its rows differ in length or depth."""
    if not isinstance(value, list):
        return ()
    shapes = {_array_shape(item) for item in value}
    if len(shapes) > 1:
        raise ValueError(value)
    return (len(value), *(shapes.pop() if shapes else ()))


def _flatten(value: Any, depth: int) -> list[Any]:
    if depth == 0:
        return [value]
    return [leaf for item in value for leaf in _flatten(item, depth - 1)]


def _floats(value: Any) -> Any:
    return [_floats(item) for item in value] if isinstance(value, list) else float(value)


def array_shape(value: list[Any]) -> tuple[int, ...]:
    """The shape of a valid ``array`` value (``[[1, 2, 3]]`` is ``(1, 3)``)."""
    return _array_shape(value)


_CONVERTERS = {
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "choice": _to_str,
    "str": _to_str,
    "path": _to_str,
    "array": _to_array,
}
_KIND_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "choice": "one of the listed choices",
    "str": "text",
    "path": "a file or folder path",
    "array": "a list of numbers (or of equal-length lists of numbers)",
}


def resolve(params: Sequence[Param], values: Mapping[str, Any] | None, owner: str) -> dict[str, Any]:
    """Fill defaults, reject unknown names and coerce every value; the result is complete and valid."""
    values = dict(values or {})
    by_name = {p.name: p for p in params}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        known = ", ".join(by_name) or "none"
        raise ConfigError(f"{owner}: unknown setting {unknown[0]!r} (settings: {known})", field=unknown[0])
    return {p.name: p.coerce(values.get(p.name, p.default), owner) for p in params}


def defaults(params: Sequence[Param]) -> dict[str, Any]:
    """The default value of every parameter."""
    return {p.name: p.default for p in params}
