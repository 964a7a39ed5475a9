"""The examples behind one confusion-matrix cell, most confident first, with their top probabilities.

Sorting by the model's confidence in its own prediction puts the most telling examples first:
on the diagonal the clearest successes, off the diagonal the confident mistakes (often a label
error or a genuinely ambiguous sample), with the near-misses at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.inspect.evaluation import Evaluation

TOP_K = 3


@dataclass(frozen=True)
class GalleryItem:
    """One example: its position in the split, classes, confidence and the ``top`` (class, probability) pairs."""

    index: int
    true: int
    predicted: int
    confidence: float
    top: tuple[tuple[int, float], ...]


def top_classes(probabilities: np.ndarray, k: int = TOP_K) -> tuple[tuple[int, float], ...]:
    """The ``k`` most probable (class, probability) pairs of one sample, most probable first."""
    order = np.argsort(-probabilities, kind="stable")[:k]
    return tuple((int(c), float(probabilities[c])) for c in order)


def cell_examples(
    evaluation: Evaluation, true_class: int, predicted_class: int, limit: int | None = None
) -> list[GalleryItem]:
    """Samples of class ``true_class`` predicted as ``predicted_class``, by decreasing confidence."""
    rows = np.flatnonzero((evaluation.y_true == true_class) & (evaluation.y_pred == predicted_class))
    probabilities = evaluation.probabilities[rows]
    confidence = probabilities[:, predicted_class] if len(rows) else np.zeros(0)
    order = np.argsort(-confidence, kind="stable")[:limit]
    return [
        GalleryItem(int(rows[i]), true_class, predicted_class, float(confidence[i]), top_classes(probabilities[i]))
        for i in order
    ]
