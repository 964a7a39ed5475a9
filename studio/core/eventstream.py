"""The JSON event stream of ``train --json``: the boundary between a run and whoever watches it.

One JSON object per line, ``{"event": NAME, ...fields}``, for every engine event in order (fit
start, batch ends, layer statistics, pauses, epoch ends, fit end). :func:`encode` writes a line
and :func:`decode` turns one back into the same frozen event, so a window watching a run in
another process, on another machine or under torchrun gets exactly what its own worker thread
would have given it. JSON has no NaN: NaN is written as ``null`` and read back as NaN.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from typing import Any

import numpy as np

from studio.core import events
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats, Paused
from studio.core.jsonsafe import plain

Event = FitStart | BatchEnd | LayerStats | Paused | EpochEnd | FitEnd

# The name of each event on the stream (the "event" key).
NAMES: dict[type, str] = {
    FitStart: "fit_start",
    BatchEnd: "batch_end",
    LayerStats: "layer_stats",
    Paused: "paused",
    EpochEnd: "epoch_end",
    FitEnd: "fit_end",
}
_CLASSES = {name: cls for cls, name in NAMES.items()}


def encode(event: Event) -> str:
    """One line of JSON (without the newline)."""
    return json.dumps({"event": NAMES[type(event)], **plain(event)})


def decode(line: str) -> Event | None:
    """The event a line holds; None for a line that is not an event (a log line, a blank line)."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.get("event") not in _CLASSES:
        return None
    event: Event = from_dict(_CLASSES[data.pop("event")], data)
    return event


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild event ``cls`` from its plain fields (unknown keys from a newer version are ignored)."""
    hints = typing.get_type_hints(cls, vars(events))
    values = {f.name: _value(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data}
    return cls(**values)


def _value(hint: Any, value: Any) -> Any:
    """A plain JSON value as the field's type wants it: arrays, tuples, nested events, NaN for null floats."""
    if hint is np.ndarray:
        return np.array([math.nan if v is None else v for v in value], dtype=np.float64)
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        item = args[0]
        return tuple(from_dict(item, v) if isinstance(item, type) and dataclasses.is_dataclass(item) else v
                     for v in value)
    if hint is float and value is None:
        return math.nan
    return value
