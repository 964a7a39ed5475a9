"""The JSON event stream: every engine event survives a line of JSON, NaN included."""

from __future__ import annotations

import io
import math

import numpy as np

from studio.cli.reporting import JsonLines
from studio.core.callbacks import EventLog
from studio.core.engine import Trainer
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats, Paused
from studio.core.eventstream import decode, encode
from tests.core.test_engine import blobs, mlp_project


def same(a: object, b: object) -> bool:
    """Equal, with NaN equal to NaN and arrays compared by value."""
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return a == b


def test_a_fit_streamed_as_json_reads_back_as_the_same_events() -> None:
    stream, log = io.StringIO(), EventLog()
    Trainer(mlp_project(epochs=2, stats_every=2), blobs(), [JsonLines(stream), log], log_every=2).fit()
    decoded = [decode(line) for line in stream.getvalue().splitlines()]
    assert len(decoded) == len(log.events)
    assert all(same(a, b) for a, b in zip(decoded, log.events, strict=True))
    kinds = {type(e) for e in decoded}
    assert {FitStart, BatchEnd, LayerStats, EpochEnd, FitEnd} <= kinds
    stats = next(e for e in decoded if isinstance(e, LayerStats))
    assert np.isnan(stats.frac_saturated).all() and stats.act_mean.dtype == np.float64  # null back to NaN


def test_other_lines_are_not_events() -> None:
    assert decode("W1203 torch/distributed/run.py warning") is None
    assert decode('{"event": "nonsense"}') is None and decode("[1, 2]") is None
    paused = Paused(epoch=2, step=30, batch=7)
    assert decode(encode(paused)) == paused
    newer = encode(EpochEnd(1, 0.5, None, None, None, 1.0, 0.1, 10.0))[:-1] + ', "from_a_newer_version": 1}'
    assert decode(newer) == EpochEnd(1, 0.5, None, None, None, 1.0, 0.1, 10.0)
