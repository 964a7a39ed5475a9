"""A log axis whose labels never overlap.

pyqtgraph labels the minor ticks (2 to 9 times a power of ten) of a log axis that shows less than
about three decades, and crowds them at the top of each decade, where they overlap ("0.0009"
over "0.001"). This axis keeps the decades and then, in the order 1, 5, 2, 3, ..., the minor ticks
at least ``MIN_GAP_PX`` away from every tick already kept.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

MIN_GAP_PX = 18.0  # about one line of 8-pt tick text and some air
# Which minor ticks to keep first, by their leading digit.
_PRIORITY = {1: 0, 5: 1, 2: 2, 3: 3, 4: 4, 6: 5, 7: 6, 8: 7, 9: 8}


def _leading_digit(value: float) -> int:
    return min(9, max(1, round(10 ** (value - math.floor(value)))))


def spaced(values: list[float], taken: list[float], px_per_unit: float) -> list[float]:
    """The ``values`` (log10 positions) to label: by priority, each far enough from those kept before it."""
    kept: list[float] = []
    for value in sorted(values, key=lambda v: (_PRIORITY[_leading_digit(v)], v)):
        if all(abs(value - other) * px_per_unit >= MIN_GAP_PX for other in (*taken, *kept)):
            kept.append(value)
    return sorted(kept)


class LogFriendlyAxis(pg.AxisItem):
    """An ``AxisItem`` that, in log mode, drops the minor ticks whose labels would overlap."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # pyqtgraph's names
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        if not size or not maxVal > minVal:
            return ticks
        px_per_unit = size / (maxVal - minVal)
        majors = [(spacing, values) for spacing, values in ticks if spacing is not None]
        taken = [value for _, values in majors for value in values]
        minors = [value for spacing, values in ticks if spacing is None for value in values]
        return [*majors, (None, spaced(minors, taken, px_per_unit))] if minors else majors
