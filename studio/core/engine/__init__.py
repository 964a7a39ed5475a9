"""The training engine: the fit loop, batching, evaluation and exact resume.

``Trainer(project, data, callbacks).fit()`` trains and reports through callbacks
(``studio.core.callbacks``) with events from ``studio.core.events``.
"""

from studio.core.engine.evaluate import evaluate, evaluate_batches
from studio.core.engine.trainer import DEFAULT_LOG_EVERY, Trainer
from studio.core.events import FitResult

__all__ = ["DEFAULT_LOG_EVERY", "FitResult", "Trainer", "evaluate", "evaluate_batches"]
