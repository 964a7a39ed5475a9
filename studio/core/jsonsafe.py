"""Turning results (event dataclasses, numpy values, tensors) into JSON-safe Python.

Run folders, model cards and the command line's JSON lines all write such results; JSON has no
NaN or infinity, so those become ``null``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch


def plain(value: Any) -> Any:
    """``value`` as JSON-safe Python: dataclasses to dicts, numpy/tensors to lists/numbers, NaN to None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
