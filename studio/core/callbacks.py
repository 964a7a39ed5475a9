"""Callbacks: the one way to watch or steer a fit (plots, logs, checkpoints, the GUI bridge).

Hooks are named ``on_<when>`` and receive the fit's :class:`FitContext` (the trainer) and a frozen
event (``studio.core.events``). They run on the training thread, between batches, so they must be
quick; a hook may call ``trainer.request_stop()`` or ``trainer.training_state()`` (e.g. a checkpoint
at epoch end).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats, Paused

if TYPE_CHECKING:
    import torch
    from torch import nn

    from studio.core.data import PreparedData
    from studio.core.engine.state import FitPosition, FitState
    from studio.core.optim.losses import LossFn
    from studio.core.project import Project
    from studio.core.units import Unit


class FitContext(Protocol):
    """What a callback may use of the fit it watches (a ``Trainer`` is one): read these, call the two methods."""

    @property
    def project(self) -> Project: ...

    @property
    def data(self) -> PreparedData: ...

    @property
    def model(self) -> nn.Module: ...

    @property
    def device(self) -> torch.device: ...

    @property
    def units(self) -> Sequence[Unit]: ...

    @property
    def loss_fn(self) -> LossFn: ...

    @property
    def layer_names(self) -> tuple[str, ...]: ...

    @property
    def position(self) -> FitPosition: ...

    def request_stop(self) -> None: ...

    def training_state(self) -> FitState: ...


class Callback:
    """Base class with no-op hooks; override the ones you need."""

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        """Before the first batch (also when a fit resumes)."""

    def on_train_batch_end(self, trainer: FitContext, event: BatchEnd) -> None:
        """Every ``log_every`` training batches and after the last batch of each epoch."""

    def on_layer_stats(self, trainer: FitContext, event: LayerStats) -> None:
        """Every ``stats_every`` training steps, when statistics are on."""

    def on_pause(self, trainer: FitContext, event: Paused) -> None:
        """Each time the fit starts to hold for a pause; a callback that buffers events sends them now."""

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        """After validation; ``trainer.training_state()`` here includes this epoch."""

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        """Once, however the fit ended (completed, stopped, early stopping, non-finite loss)."""


class CallbackList(Callback):
    """Calls each callback's hook in the order given."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks = list(callbacks)

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        for callback in self.callbacks:
            callback.on_fit_start(trainer, event)

    def on_train_batch_end(self, trainer: FitContext, event: BatchEnd) -> None:
        for callback in self.callbacks:
            callback.on_train_batch_end(trainer, event)

    def on_layer_stats(self, trainer: FitContext, event: LayerStats) -> None:
        for callback in self.callbacks:
            callback.on_layer_stats(trainer, event)

    def on_pause(self, trainer: FitContext, event: Paused) -> None:
        for callback in self.callbacks:
            callback.on_pause(trainer, event)

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(trainer, event)

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        for callback in self.callbacks:
            callback.on_fit_end(trainer, event)


class EventLog(Callback):
    """Keeps every event in order; handy for tests, the command line and post-mortems."""

    def __init__(self) -> None:
        self.events: list[FitStart | BatchEnd | LayerStats | Paused | EpochEnd | FitEnd] = []

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        self.events.append(event)

    def on_train_batch_end(self, trainer: FitContext, event: BatchEnd) -> None:
        self.events.append(event)

    def on_layer_stats(self, trainer: FitContext, event: LayerStats) -> None:
        self.events.append(event)

    def on_pause(self, trainer: FitContext, event: Paused) -> None:
        self.events.append(event)

    def on_epoch_end(self, trainer: FitContext, event: EpochEnd) -> None:
        self.events.append(event)

    def on_fit_end(self, trainer: FitContext, event: FitEnd) -> None:
        self.events.append(event)

    def of_type(self, kind: type) -> list[Any]:
        """The recorded events of one class, in order."""
        return [event for event in self.events if isinstance(event, kind)]
