"""When a live plot's view should move: rarely, because every range change repaints the axes.

Painting the axes (ticks, labels, grid) is most of a plot's paint cost, so the x axis spans the
whole run from the start (0 to the number of epochs) and the y axis only moves when the data
leaves the view or has shrunk to a small part of it.
"""

from __future__ import annotations

import math

Range = tuple[float, float]

PAD = 0.06  # room around the data, as a fraction of its span: growing data moves the axis less often
SHRINK_BELOW = 0.5  # zoom in once the data fills less than this fraction of the view


def padded(lo: float, hi: float, pad: float = PAD) -> Range:
    """``lo..hi`` widened by ``pad`` of its span on each side; a single value gets a unit-ish span."""
    span = hi - lo
    if math.isclose(span, 0.0, abs_tol=1e-12):
        span = abs(lo) * 0.2 or 1.0
        return lo - span / 2, hi + span / 2
    return lo - pad * span, hi + pad * span


def _close(a: Range, b: Range) -> bool:
    tolerance = 1e-6 * max(abs(b[1] - b[0]), 1e-12)
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def next_x_range(data: Range, span: Range | None, view: Range | None) -> Range | None:
    """The x range to show, or None to keep ``view``; ``span`` is the run's planned extent (0, epochs)."""
    lo, hi = data
    if span is not None:
        lo, hi = min(lo, span[0]), max(hi, span[1])
    target = padded(lo, hi, pad=0.03)  # room for the first and last tick labels
    return None if view is not None and _close(view, target) else target


def snapped(lo: float, hi: float) -> Range:
    """``lo..hi`` widened to multiples of a round step (a twentieth of a power of ten below the span).

    Data that drifts a little stays inside the same rounded range, so the axis keeps its ticks.
    """
    step = 10.0 ** math.floor(math.log10(hi - lo)) / 20 if hi > lo else 1.0
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def at_least(data: Range, span: float) -> Range:
    """``data`` widened around its middle to ``span``, when narrower."""
    lo, hi = data
    if hi - lo >= span:
        return data
    middle = (lo + hi) / 2
    return middle - span / 2, middle + span / 2


def next_y_range(data: Range, view: Range | None, min_span: float = 0.0) -> Range | None:
    """The y range to show, or None to keep ``view``: move only when the data left it or shrank in it.

    ``min_span`` keeps a nearly constant series flat: on a log axis (in decades) a 0.5% change of the learning
    rate is 0.002 decades, which a view fitted to the data would draw as a plunge from top to bottom.
    """
    data = at_least(data, min_span)
    if view is not None:
        inside = view[0] <= data[0] and data[1] <= view[1]
        if inside and (data[1] - data[0]) >= SHRINK_BELOW * (view[1] - view[0]):
            return None
    return snapped(*padded(*data))
