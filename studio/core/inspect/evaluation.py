"""Run a classifier over the validation split: predictions, probabilities and what to show per sample.

Called in the training thread after every epoch (live evaluation) and on a snapshot after the
fit. The per-sample pictures never change during a fit, so :func:`validation_samples` is
computed once and the same arrays are shared by every epoch's :class:`Evaluation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from studio.core.data import PreparedData
from studio.core.engine.evaluate import split_batches
from studio.core.inspect.metrics import MetricsReport, metrics_report
from studio.core.inspect.snapshot import (
    BATCH,
    class_probabilities,
    device_of,
    evaluating,
    images_u8,
    raw_values,
    to_images,
)
from studio.core.optim import LOSSES

# Beyond this many input values (samples x features) the pictures are not kept for the gallery:
# 50M floats is CIFAR-10's test set at 16-bit, about the most a learner's machine should hold twice.
MAX_SAMPLE_VALUES = 50_000_000
MAX_FEATURES = 32  # tables wider than this are not worth listing in a gallery card


@dataclass(frozen=True)
class Samples:
    """How to show each sample of a split: pictures (uint8) or raw feature values, or neither."""

    images: np.ndarray | None = None
    features: np.ndarray | None = None


@dataclass(frozen=True)
class Evaluation:
    """A classifier's predictions on one split (``"val"``, or ``"train"`` when there is no validation)."""

    report: MetricsReport
    y_true: np.ndarray
    y_pred: np.ndarray
    probabilities: np.ndarray
    samples: Samples
    split: str = "val"
    epoch: int = 0

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.report.class_names


def inspect_split(data: PreparedData) -> str:
    """The split the evaluation looks at: validation when there is one."""
    return "val" if data.n_val else "train"


def validation_samples(data: PreparedData, image_shape: tuple[int, ...] | None) -> Samples:
    """Raw pictures (or features) of the inspected split, for the gallery; empty when too large."""
    split = inspect_split(data)
    n = data.n_val if split == "val" else data.n_train
    if n * int(np.prod(data.input_shape)) > MAX_SAMPLE_VALUES:
        return Samples()
    if image_shape is None and (len(data.input_shape) != 1 or data.input_shape[0] > MAX_FEATURES):
        return Samples()
    batches = split_batches(data, split, BATCH, torch.device("cpu"))
    raw = np.concatenate([raw_values(data.preprocessing, x.numpy()) for x, _ in batches])
    if image_shape is None:
        return Samples(features=raw)
    return Samples(images=images_u8(to_images(raw, image_shape)))


def evaluate_classifier(
    model: nn.Module, data: PreparedData, loss_name: str, samples: Samples, epoch: int = 0
) -> Evaluation:
    """Predictions, probabilities and per-class metrics of ``model`` (on its own device) on the inspected split."""
    split = inspect_split(data)
    outputs, targets = [], []
    with evaluating(model):
        for x, y in split_batches(data, split, BATCH, device_of(model)):
            outputs.append(model(x).float())
            targets.append(y)
        output = torch.cat(outputs) if outputs else torch.zeros(0, data.num_classes)
        y_pred = LOSSES.get(loss_name).predict(output).cpu().numpy() if outputs else np.zeros(0, np.int64)
        probabilities = class_probabilities(output, loss_name).cpu().numpy()
    y_true = torch.cat(targets).cpu().numpy() if targets else np.zeros(0, np.int64)
    report = metrics_report(y_true, y_pred, data.class_names)
    return Evaluation(report, y_true, y_pred, probabilities, samples, split, epoch)
