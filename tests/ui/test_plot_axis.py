"""Log-axis tick labels: decades first, then minor ticks only where their labels cannot overlap."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pyqtgraph as pg
import pytest

from studio.ui.plots.axis import MIN_GAP_PX, LogFriendlyAxis, spaced

MINORS = [math.log10(m) for m in range(2, 10)]  # 2 to 9 in the decade above 1


def test_roomy_axes_keep_every_minor_tick_and_crowded_ones_the_most_telling() -> None:
    assert spaced(MINORS, [0.0, 1.0], px_per_unit=2000) == MINORS
    kept = spaced(MINORS, [0.0, 1.0], px_per_unit=60)  # one decade in 60 px: room for two labels or so
    assert math.log10(5) in kept and len(kept) < len(MINORS)  # 5 first: it halves the decade
    for a, b in combinations([0.0, 1.0, *kept], 2):
        assert abs(a - b) * 60 >= MIN_GAP_PX


@pytest.mark.parametrize("axis_class", [LogFriendlyAxis, pytest.param(pg.AxisItem, marks=pytest.mark.xfail(
    strict=True, reason="pyqtgraph's own axis overlaps here: the reason for LogFriendlyAxis"))])
def test_the_learning_rate_plot_labels_do_not_overlap(qtbot, axis_class: type) -> None:
    """The case that overlapped: a constant learning rate, less than a decade shown, 100 px tall."""
    axis = axis_class("left")
    axis.setLogMode(False, True)
    low, high, size = math.log10(0.0005), math.log10(0.0013), 100.0
    ticks = axis.tickValues(low, high, size)
    labelled = sorted(v for _, values in ticks for v in values)
    assert labelled  # something is labelled
    assert np.all(np.diff(labelled) * size / (high - low) >= MIN_GAP_PX)
