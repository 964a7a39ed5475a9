"""Inspection while a network trains: a callback that computes views inside the training thread.

Every result is a frozen record of numpy arrays handed to ``emit`` (the GUI passes a signal's
``emit``, which queues it to the GUI thread). What is sent depends on the data:

* classification: an :class:`Evaluation` of the validation split after an epoch;
* 2-D points: the :class:`PointSet` once, then a :class:`BoundaryGrid` every ``boundary_every``
  steps (at most every ``min_interval_s`` seconds) and after an epoch;
* regression: a :class:`RegressionFit` after an epoch;
* "after an epoch" means at most every ``epoch_interval_s`` seconds, and always after the last
  epoch: a small network runs tens of epochs a second, and a validation pass per epoch would
  cost training more time than a learner can watch;
* at the end of the fit, the same views once more (the fit may stop mid-epoch) and the
  :class:`ModelSnapshot` that the "try it" and layer views work on.

All passes run in eval mode, which draws no random numbers and leaves batch-norm statistics
alone, so a fit watched this way gives the same weights as an unwatched one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from torch import nn

from studio.core.callbacks import Callback, FitContext
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart
from studio.core.inspect.boundary import RESOLUTION, Extent, boundary_grid, is_planar, point_set, regression_fit
from studio.core.inspect.evaluation import Samples, evaluate_classifier, validation_samples
from studio.core.inspect.snapshot import ModelSnapshot, image_shape_of
from studio.core.vocab import Task

BOUNDARY_EVERY = 20
MIN_INTERVAL_S = 0.1  # 10 boundary pictures a second is smooth; more would only cost training time
EPOCH_INTERVAL_S = 0.5  # the evaluation table and confusion matrix are read, not watched as an animation

Emit = Callable[[Any], None]


class InspectCallback(Callback):
    """Sends live evaluations, decision boundaries, regression fits and the final snapshot to ``emit``."""

    def __init__(
        self,
        emit: Emit,
        boundary_every: int = BOUNDARY_EVERY,
        resolution: int = RESOLUTION,
        min_interval_s: float = MIN_INTERVAL_S,
        epoch_interval_s: float = EPOCH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if boundary_every < 1:
            raise ValueError("boundary_every must be at least 1")
        self._emit = emit
        self._every = boundary_every
        self._resolution = resolution
        self._min_interval = min_interval_s
        self._epoch_interval = epoch_interval_s
        self._clock = clock
        self._samples = Samples()
        self._extent: Extent | None = None
        self._last_step = 0
        self._last_time = float("-inf")
        self._last_views = float("-inf")
        self._total_epochs = 0

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        data = trainer.data
        self._extent = None
        self._total_epochs, self._last_views = event.total_epochs, float("-inf")
        if data.task == Task.CLASSIFICATION:
            self._samples = validation_samples(data, image_shape_of(trainer.project.data, data.input_shape))
        if is_planar(data):
            points = point_set(data)
            self._extent = points.extent()
            self._emit(points)
            self._boundary(trainer, trainer.position.step, trainer.position.epoch)

    def on_train_batch_end(self, trainer: FitContext, event: BatchEnd) -> None:
        if self._extent is None or event.step - self._last_step < self._every:
            return
        if self._clock() - self._last_time >= self._min_interval:
            self._boundary(trainer, event.step, event.epoch)

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        now = self._clock()
        if event.epoch >= self._total_epochs or now - self._last_views >= self._epoch_interval:
            self._last_views = now
            self._views(trainer.model, trainer, trainer.position.step, event.epoch)

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        snapshot = ModelSnapshot.from_trainer(trainer)
        self._views(snapshot.model, trainer, event.steps, event.epochs_completed)
        self._emit(snapshot)

    def _views(self, model: nn.Module, trainer: FitContext, step: int, epoch: int) -> None:
        data, loss = trainer.data, trainer.project.loss.name
        if self._extent is not None:
            self._emit(boundary_grid(model, data, loss, self._extent, self._resolution, step, epoch))
        if data.task == Task.CLASSIFICATION:
            if data.n_val or data.n_train:
                self._emit(evaluate_classifier(model, data, loss, self._samples, epoch))
        elif not data.streaming:
            self._emit(regression_fit(model, data, step, epoch))

    def _boundary(self, trainer: FitContext, step: int, epoch: int) -> None:
        if self._extent is None:  # not a 2-D classification: no boundary to draw
            return
        self._last_step, self._last_time = step, self._clock()
        self._emit(boundary_grid(trainer.model, trainer.data, trainer.project.loss.name, self._extent,
                                 self._resolution, step, epoch))
