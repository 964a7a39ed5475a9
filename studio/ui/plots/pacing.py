"""How often to repaint: as often as a CPU budget allows, measured rather than guessed.

Painting runs in the GUI thread and competes with training for the same cores; on a 2-core
machine every millisecond of painting cost training about three (one of torch's two threads
is pushed off its core and the other waits for it). So the plots measure what a repaint
costs and space repaints to stay within ``budget`` of one core: about 4 Hz on a fast
machine, slower on a slow or busy one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RepaintPacer:
    """Turns measured repaint costs into the interval until the next repaint."""

    budget: float = 0.025  # fraction of one core that repainting may use
    min_ms: int = 250  # never more than 4 repaints a second: the eye gains nothing from more
    max_ms: int = 2000  # never less than one every 2 s: the plots must still look live
    smoothing: float = 0.7  # weight of the past in the cost estimate; one slow paint must not stall the plots
    cost_s: float | None = None  # smoothed CPU seconds per repaint

    def record(self, seconds: float) -> None:
        """Add the measured CPU time of one repaint (data, ranges and painting)."""
        if self.cost_s is None:
            self.cost_s = seconds
        else:
            self.cost_s = self.smoothing * self.cost_s + (1.0 - self.smoothing) * seconds

    def interval_ms(self) -> int:
        if self.cost_s is None:
            return self.min_ms
        wanted = 1000.0 * self.cost_s / self.budget
        return int(min(max(wanted, self.min_ms), self.max_ms))
