"""What the training engine tells the world: frozen records of plain numbers and numpy arrays.

Events never hold tensors, so a receiver (a GUI thread, a log file, a test) can keep them
without pinning device memory or racing the training thread. ``acc`` fields are ``None`` for
regression; per-layer arrays hold ``NaN`` where a statistic does not apply to a layer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from studio.core.vocab import EndReason, Precision


@dataclass(frozen=True)
class FitStart:
    """Sent once before the first batch; ``start_epoch`` is above 0 when a fit resumes.

    ``processes`` is above 1 under torchrun (``device`` is then rank 0's); ``precision`` is ``training.precision``.
    """

    total_epochs: int
    steps_per_epoch: int
    n_train: int
    n_val: int
    device: str
    layer_names: tuple[str, ...]
    param_count: int
    start_epoch: int
    processes: int = 1
    precision: str = Precision.FP32


@dataclass(frozen=True)
class BatchEnd:
    """Progress inside an epoch, sent every ``log_every`` batches (and after an epoch's last batch).

    ``loss`` is the mean training loss of the batches since the previous ``BatchEnd``; ``acc`` is
    the running training accuracy of the epoch so far. Counting: ``epoch`` is 1 for the first
    epoch, ``step`` is the number of batches trained since the fit began (1 after the first),
    ``batch`` the number trained in this epoch (``steps_per_epoch`` after its last). ``lr`` is the
    first parameter group's learning rate. ``penalty`` is the L2 penalty of weight decay for the
    current weights when the project reports it (``loss + penalty`` is what weight decay minimises).
    """

    epoch: int
    step: int
    batch: int
    loss: float
    acc: float | None
    lr: float
    samples_per_s: float
    penalty: float | None = None


@dataclass(frozen=True)
class Paused:
    """The fit holds at a batch boundary until it is resumed or stopped (counting as in :class:`BatchEnd`)."""

    epoch: int
    step: int
    batch: int


@dataclass(frozen=True)
class LayerStats:
    """Per-layer statistics of one sampled training step (one entry per row, rows inside blocks too: ``names``).

    ``act_mean``/``act_var`` describe the layer's outputs over the whole batch; ``frac_zero`` is the
    fraction of exact zeros (dead ReLUs); ``frac_saturated`` the fraction of outputs near the bounds
    of a squashing activation (tanh, sigmoid; NaN elsewhere); ``grad_norm`` the L2 norm of the
    layer's gradients and ``update_ratio`` ‖Δw‖/‖w‖ of this step (both NaN without trainable weights).
    """

    step: int
    epoch: int
    names: tuple[str, ...]
    act_mean: np.ndarray
    act_var: np.ndarray
    frac_zero: np.ndarray
    frac_saturated: np.ndarray
    grad_norm: np.ndarray
    update_ratio: np.ndarray


@dataclass(frozen=True)
class EpochEnd:
    """One finished epoch. Validation fields are ``None`` when there is no validation split; ``penalty``
    (the L2 penalty of weight decay at the epoch's end) when the project does not report it."""

    epoch: int
    train_loss: float
    train_acc: float | None
    val_loss: float | None
    val_acc: float | None
    seconds: float
    lr: float
    samples_per_s: float
    penalty: float | None = None


@dataclass(frozen=True)
class FitEnd:
    """How and why a fit ended; ``fit()`` returns the same record it sends to ``on_fit_end``.

    ``reason`` says which condition ended it (an :class:`~studio.core.vocab.EndReason`); ``message``
    explains it in a sentence for the learner. ``best_epoch``/``best_val_loss`` track the monitored
    loss used by early stopping (validation loss, or training loss without a validation split).
    """

    reason: EndReason
    epochs_completed: int
    steps: int
    best_epoch: int | None
    best_val_loss: float | None
    message: str
    history: tuple[EpochEnd, ...]

    def summary(self) -> dict[str, Any]:
        """The outcome and the last epoch's metrics as a flat dict of plain values (run files, logs)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "history"}
        if self.history:
            last = self.history[-1]
            out.update({f.name: getattr(last, f.name) for f in fields(last) if f.name != "epoch"})
        return out


# ``Trainer.fit`` returns the record it sends to ``on_fit_end``; one class, two names for readers of either.
FitResult = FitEnd
