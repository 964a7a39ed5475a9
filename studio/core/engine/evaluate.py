"""Loss and accuracy of a model on data, in eval mode without autograd, fetched once at the end."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import nn

from studio.core.data import PreparedData
from studio.core.engine.batching import Batch, sequential_batches, stream_batches
from studio.core.optim import LossFn
from studio.core.vocab import Task

EVAL_BATCH = 512


def evaluate_batches(
    model: nn.Module,
    batches: Iterable[Batch],
    loss_fn: LossFn,
    reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
    context: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> tuple[float, float | None]:
    """Mean loss and accuracy (None for regression) over ``batches``; NaN for no batches.

    Batches must already be on the model's device. The model's train/eval mode is restored after.
    ``reduce`` sums the totals (loss sum, correct, count) over processes before the one fetch, so each
    process can evaluate its own share of the data; ``context`` is the autocast the passes run under.
    """
    classify = loss_fn.task == Task.CLASSIFICATION
    was_training = model.training
    model.eval()
    sums: list[torch.Tensor] = []
    device = next(model.parameters(), torch.empty(0)).device
    try:
        with torch.inference_mode(), context():
            for x, y in batches:
                if not len(y):
                    continue
                out = model(x)
                loss = loss_fn(out, y).float()
                correct = (loss_fn.predict(out) == y).sum() if classify else loss.new_zeros(())
                sums.append(torch.stack([loss * len(y), correct.to(loss.dtype), loss.new_tensor(float(len(y)))]))
        totals = torch.stack(sums).sum(0) if sums else torch.zeros(3, device=device)
        if reduce is not None:
            totals = reduce(totals.clone())
        loss_sum, correct, n = totals.tolist()
    finally:
        model.train(was_training)
    if not n:
        return math.nan, (math.nan if classify else None)
    return loss_sum / n, (correct / n if classify else None)


def evaluate(
    model: nn.Module, data: PreparedData, loss_fn: LossFn, split: str = "val", batch_size: int = EVAL_BATCH
) -> tuple[float, float | None]:
    """Loss and accuracy of ``model`` on the ``"val"`` or ``"train"`` split of ``data``, on the model's device."""
    if split not in ("val", "train"):
        raise ValueError(f"split must be 'val' or 'train', not {split!r}")
    device = next(model.parameters(), torch.empty(0)).device
    return evaluate_batches(model, split_batches(data, split, batch_size, device), loss_fn)


def split_batches(data: PreparedData, split: str, batch_size: int, device: torch.device) -> Iterable[Batch]:
    """Sequential batches of one split on ``device``: tensor slices, or batches of the streaming dataset."""
    if data.streaming:
        dataset = data.val_set if split == "val" else data.train_set
        if dataset is None or not (data.n_val if split == "val" else data.n_train):
            return []
        return stream_batches(dataset, batch_size, False, 0, device).epoch(0)
    x, y = (data.x_val, data.y_val) if split == "val" else (data.x_train, data.y_train)
    if x is None or y is None:
        return []
    return sequential_batches(x.to(device), y.to(device), batch_size)
