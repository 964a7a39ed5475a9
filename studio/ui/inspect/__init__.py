"""Views that inspect and try a trained model; the computations live in ``studio.core.inspect``."""

from studio.ui.inspect.panel import InspectPanel

__all__ = ["InspectPanel"]
