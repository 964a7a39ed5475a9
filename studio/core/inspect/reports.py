"""Reports a learner can keep: the evaluation and the training curves as CSV, TensorBoard event files.

CSV is written here, in the core, so the command line can export too. The confusion-matrix
*picture* is drawn by the GUI (``studio.ui.inspect.confusion_widget.save_confusion_png``) with
the very painter that draws it on screen: labels and counts need a font renderer, Qt is already
a dependency and has one, matplotlib is not one, and a text-free heat map written by a
hand-made PNG encoder would be a worse picture than the numbers in ``confusion.csv``.
TensorBoard files are written only when the optional ``tensorboard`` package is installed.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from studio.core.events import EpochEnd
from studio.core.inspect.metrics import MetricsReport
from studio.core.io import atomic_write_text

METRICS_FILE = "metrics.csv"
CONFUSION_CSV = "confusion.csv"
CONFUSION_PNG = "confusion.png"
CURVES_FILE = "curves.csv"
BATCH_LOSSES_FILE = "batch_losses.csv"
TENSORBOARD_FOLDER = "tensorboard"


def _cell(value: object) -> object:
    """CSV cell: empty for None or NaN (no value), numbers as Python writes them (round-trip exact)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


def metrics_csv(report: MetricsReport) -> str:
    """One row per class (precision, recall, F1, support), then macro and weighted averages and accuracy."""
    rows: list[list[object]] = [
        [name, float(report.precision[i]), float(report.recall[i]), float(report.f1[i]), int(report.support[i])]
        for i, name in enumerate(report.class_names)
    ]
    total = int(report.support.sum())
    for label, (p, r, f) in report.averages().items():
        rows.append([f"{label} average", p, r, f, total])
    rows.append(["accuracy", None, None, report.accuracy, total])
    return _table(("class", "precision", "recall", "f1", "support"), rows)


def confusion_csv(report: MetricsReport) -> str:
    """The counts with class names: one row per true class, one column per predicted class."""
    rows = [[name, *map(int, report.confusion[i])] for i, name in enumerate(report.class_names)]
    return _table(("true \\ predicted", *report.class_names), rows)


def curves_csv(epochs: Sequence[EpochEnd]) -> str:
    """One row per epoch with every field of :class:`EpochEnd` (empty where a value does not apply)."""
    names = [f.name for f in fields(EpochEnd)]
    return _table(names, [[getattr(e, n) for n in names] for e in epochs])


def batch_losses_csv(positions: Sequence[float], losses: Sequence[float]) -> str:
    """The per-batch loss curve; ``epoch`` is fractional (batch 32 of 64 in epoch 3 is 2.5)."""
    return _table(("epoch", "loss"), list(zip(positions, losses, strict=True)))


def write_evaluation(folder: str | os.PathLike[str], report: MetricsReport) -> list[Path]:
    """Write ``metrics.csv`` and ``confusion.csv`` into ``folder``; returns the paths written."""
    folder = Path(folder)
    written = [folder / METRICS_FILE, folder / CONFUSION_CSV]
    atomic_write_text(written[0], metrics_csv(report))
    atomic_write_text(written[1], confusion_csv(report))
    return written


def write_curves(
    folder: str | os.PathLike[str],
    epochs: Sequence[EpochEnd],
    batch_positions: Sequence[float] = (),
    batch_losses: Sequence[float] = (),
) -> list[Path]:
    """Write ``curves.csv`` (per epoch) and, when given, ``batch_losses.csv``; returns the paths written."""
    folder = Path(folder)
    written = [folder / CURVES_FILE]
    atomic_write_text(written[0], curves_csv(epochs))
    if batch_losses:
        written.append(folder / BATCH_LOSSES_FILE)
        atomic_write_text(written[1], batch_losses_csv(batch_positions, batch_losses))
    return written


def tensorboard_available() -> bool:
    """True when the optional ``tensorboard`` package can be imported."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


# EpochEnd field -> TensorBoard tag; tags sharing a prefix share a chart (train and val loss together).
TENSORBOARD_TAGS = {
    "train_loss": "loss/train",
    "val_loss": "loss/validation",
    "train_acc": "accuracy/train",
    "val_acc": "accuracy/validation",
    "lr": "learning_rate",
    "samples_per_s": "speed/samples_per_s",
}


def write_tensorboard(folder: str | os.PathLike[str], epochs: Sequence[EpochEnd]) -> Path | None:
    """Per-epoch scalars as TensorBoard event files under ``folder/tensorboard``; None without tensorboard."""
    if not tensorboard_available():
        return None
    from torch.utils.tensorboard import SummaryWriter

    target = Path(folder) / TENSORBOARD_FOLDER
    with SummaryWriter(log_dir=str(target)) as writer:
        for event in epochs:
            for name, tag in TENSORBOARD_TAGS.items():
                value = getattr(event, name)
                if value is not None and math.isfinite(value):
                    writer.add_scalar(tag, value, global_step=event.epoch)
    return target
