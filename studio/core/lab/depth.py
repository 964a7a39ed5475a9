"""Per-layer statistics along the depth of a network: what the residual lesson reads from a run.

A run's ``LayerStats`` events hold one value per row (rows inside blocks too, depth first, which is forward
order along a chain of blocks). :func:`depth_profile` keeps the rows with weights (those with a gradient
norm) and takes the median of the last few samples, so one noisy step does not decide the picture; the
ratio of the last weight row's gradient norm to the first's says how much of the gradient survives the
way back through the network (about 1e10 in a deep plain network with the default initialisation, about
1 with shortcuts: ``docs/lab/residual.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from studio.core.events import LayerStats

SAMPLES = 5  # the last samples whose median describes a run


@dataclass(frozen=True)
class DepthProfile:
    """The rows with weights in forward order, with their median gradient norm and output variance."""

    names: tuple[str, ...]
    grad_norm: np.ndarray
    act_var: np.ndarray

    @property
    def vanishing(self) -> float:
        """How many times smaller the first weight row's gradient norm is than the last one's."""
        first, last = float(self.grad_norm[0]), float(self.grad_norm[-1])
        return last / first if first > 0 else math.inf


def depth_profile(samples: Sequence[LayerStats], last: int = SAMPLES) -> DepthProfile:
    """The depth profile of a run from its statistics events (the last ``last`` of them)."""
    if not samples:
        raise ValueError("the run has no layer statistics (training.stats_every is 0?)")
    recent = samples[-last:]
    grad = np.median(np.stack([s.grad_norm for s in recent]), axis=0)
    var = np.median(np.stack([s.act_var for s in recent]), axis=0)
    rows = np.flatnonzero(np.isfinite(grad))
    return DepthProfile(tuple(recent[-1].names[i] for i in rows), grad[rows], var[rows])
