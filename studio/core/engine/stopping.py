"""When a fit ends and how that is explained to the learner (one sentence per reason)."""

from __future__ import annotations

import math

import torch

from studio.core.engine.state import FitPosition
from studio.core.events import EpochEnd
from studio.core.project import TrainingSpec
from studio.core.vocab import EndReason, Interval


def monitored_loss(event: EpochEnd) -> float:
    """The loss early stopping watches: validation loss, or training loss without a validation split."""
    return event.val_loss if event.val_loss is not None else event.train_loss


def after_epoch(position: FitPosition, training: TrainingSpec, event: EpochEnd) -> tuple[EndReason, str] | None:
    """``(reason, message)`` when the fit should end after this epoch, else None."""
    target = training.target_loss
    if target is not None and event.train_loss <= target:
        return EndReason.TARGET_LOSS, (
            f"Reached the target loss: training loss {event.train_loss:.4g} ≤ {target:g} in epoch {event.epoch}."
        )
    patience = training.early_stopping_patience
    if patience is not None and position.bad_epochs >= patience:
        which = "validation" if event.val_loss is not None else "training"
        return EndReason.EARLY_STOPPING, (
            f"Stopped early: the {which} loss has not improved for {patience} epoch(s);"
            f" the best was {position.best_loss:.4g} in epoch {position.best_epoch}."
        )
    if position.epoch >= training.epochs:
        return EndReason.COMPLETED, f"Finished {position.epoch} epoch(s)."
    return None


def after_batch(position: FitPosition, training: TrainingSpec, loss: float) -> tuple[EndReason, str] | None:
    """With ``target_check: batch``: ``(reason, message)`` when this batch's loss reached the target."""
    target = training.target_loss
    if training.target_check != Interval.BATCH or target is None or loss > target:
        return None
    return EndReason.TARGET_LOSS, (
        f"Reached the target loss: batch {position.batch} of epoch {position.epoch + 1} (step {position.step}) had "
        f"training loss {loss:.4g} ≤ {target:g}."
    )


def l2_penalty(optimizer: torch.optim.Optimizer) -> float:
    """½ Σ weight_decay·‖w‖² over the optimizer's groups: the penalty whose gradient weight decay adds.

    (AdamW decays the weights directly instead of through the gradient; the same sum says how large
    the weights it pulls towards zero are.)
    """
    total = 0.0
    with torch.no_grad():
        for group in optimizer.param_groups:
            decay = group.get("weight_decay", 0.0)
            if decay:
                total += 0.5 * decay * float(sum(p.detach().float().pow(2).sum() for p in group["params"]))
    return total


def stopped_message(position: FitPosition) -> str:
    where = f" and {position.batch} batch(es) of the next" if position.batch else ""
    return f"Stopped on request after {position.epoch} complete epoch(s){where}."


def non_finite_message(loss: float, step: int, epoch: int, batch: int, kept_step: int, lr: float) -> str:
    what = "NaN (not a number)" if math.isnan(loss) else "infinite"
    kept = f"the weights of step {kept_step} (the last good one)" if kept_step else "the initial weights"
    return (
        f"The loss became {what} at step {step} (epoch {epoch}, batch {batch}); training stopped and"
        f" {kept} were kept. The learning rate ({lr:g}) is probably too high: try a lower one."
    )
