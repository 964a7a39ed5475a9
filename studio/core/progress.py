"""Progress: how a long job (loading data, a lab experiment) says how far it is.

``progress(fraction, message)`` with ``fraction`` in [0, 1]; the GUI shows it on the job's bar and
the command line on a tqdm bar. The word means only this: where a fit stands (epoch, batch, step)
is the engine's :class:`~studio.core.engine.state.FitPosition`.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """The progress hook used when the caller passes none."""
