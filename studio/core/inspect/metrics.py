"""Per-class precision, recall and F1 and the confusion matrix, from true and predicted classes.

Plain numpy, so the GUI can recompute or slice them without torch. A class that is never
predicted gets precision 0 (as scikit-learn's ``zero_division=0``), and one absent from the
data gets recall 0; ``support`` tells the two cases apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(classes, classes) int64 counts: row = true class, column = predicted class."""
    y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat[: num_classes * num_classes].reshape(num_classes, num_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    ratio: np.ndarray = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return ratio


@dataclass(frozen=True)
class MetricsReport:
    """Per-class metrics (arrays indexed by class) and the confusion matrix they come from."""

    class_names: tuple[str, ...]
    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray

    @classmethod
    def from_confusion(cls, confusion: np.ndarray, class_names: tuple[str, ...]) -> MetricsReport:
        confusion = np.asarray(confusion, np.int64)
        correct = np.diag(confusion)
        support, predicted = confusion.sum(1), confusion.sum(0)
        precision, recall = _ratio(correct, predicted), _ratio(correct, support)
        f1 = _ratio(2 * precision * recall, precision + recall)
        return cls(tuple(class_names), confusion, precision, recall, f1, support)

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / self.total) if self.total else float("nan")

    def averages(self) -> dict[str, tuple[float, float, float]]:
        """``{"macro": (p, r, f1), "weighted": (p, r, f1)}``: plain and support-weighted means."""
        weights = self.support / max(int(self.support.sum()), 1)
        columns = (self.precision, self.recall, self.f1)
        macro = tuple(float(m.mean()) for m in columns)
        weighted = tuple(float((m * weights).sum()) for m in columns)
        return {"macro": macro, "weighted": weighted}  # type: ignore[dict-item]


def metrics_report(y_true: np.ndarray, y_pred: np.ndarray, class_names: tuple[str, ...]) -> MetricsReport:
    """Precision, recall, F1 and support of every class in ``class_names``."""
    return MetricsReport.from_confusion(confusion_matrix(y_true, y_pred, len(class_names)), class_names)
