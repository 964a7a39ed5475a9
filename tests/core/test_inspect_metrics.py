"""Per-class metrics, the confusion matrix, cell galleries and reading outputs as probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import precision_recall_fscore_support

from studio.core.inspect import Evaluation, Samples, cell_examples, class_probabilities, metrics_report
from studio.core.optim import LOSSES
from studio.core.vocab import Task

NAMES = ("cat", "dog", "bird", "fish")


def random_labels(seed: int = 0, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, 3, n))  # "fish" is never predicted wrongly
    return y_true, y_pred


def test_metrics_equal_scikit_learn():
    y_true, y_pred = random_labels()
    report = metrics_report(y_true, y_pred, NAMES)
    np.testing.assert_array_equal(report.confusion, sk_confusion(y_true, y_pred, labels=range(4)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=range(4), zero_division=0)
    np.testing.assert_allclose(report.precision, p)
    np.testing.assert_allclose(report.recall, r)
    np.testing.assert_allclose(report.f1, f)
    np.testing.assert_array_equal(report.support, s)
    assert report.accuracy == pytest.approx(np.mean(y_true == y_pred))
    macro = precision_recall_fscore_support(y_true, y_pred, labels=range(4), average="macro", zero_division=0)
    weighted = precision_recall_fscore_support(y_true, y_pred, labels=range(4), average="weighted", zero_division=0)
    np.testing.assert_allclose(report.averages()["macro"], macro[:3])
    np.testing.assert_allclose(report.averages()["weighted"], weighted[:3])


def test_class_never_predicted_or_absent_scores_zero_without_warnings():
    report = metrics_report(np.array([0, 0, 1]), np.array([0, 0, 0]), ("a", "b", "c"))
    assert report.precision.tolist() == [pytest.approx(2 / 3), 0.0, 0.0]
    assert report.recall.tolist() == [1.0, 0.0, 0.0]
    assert report.support.tolist() == [2, 1, 0]
    assert report.confusion.tolist() == [[2, 0, 0], [1, 0, 0], [0, 0, 0]]


def make_evaluation() -> Evaluation:
    y_true, y_pred = random_labels(1, 120)
    rng = np.random.default_rng(2)
    probabilities = rng.random((len(y_true), 4)) * 0.5
    probabilities[np.arange(len(y_true)), y_pred] += 1.0  # the predicted class is the most probable
    probabilities /= probabilities.sum(1, keepdims=True)
    return Evaluation(metrics_report(y_true, y_pred, NAMES), y_true, y_pred, probabilities, Samples())


@pytest.mark.parametrize(("true", "predicted"), [(1, 1), (0, 2), (3, 3)])
def test_cell_gallery_holds_exactly_the_cell_most_confident_first(true, predicted):
    ev = make_evaluation()
    items = cell_examples(ev, true, predicted)
    expected = set(np.flatnonzero((ev.y_true == true) & (ev.y_pred == predicted)))
    assert {item.index for item in items} == expected and len(items) == ev.report.confusion[true, predicted]
    confidences = [item.confidence for item in items]
    assert confidences == sorted(confidences, reverse=True)
    for item in items:
        assert (item.true, item.predicted) == (true, predicted)
        assert item.top[0] == (predicted, pytest.approx(ev.probabilities[item.index, predicted]))
        assert len(item.top) == 3 and [p for _, p in item.top] == sorted((p for _, p in item.top), reverse=True)


def test_cell_gallery_limit_keeps_the_most_confident():
    ev = make_evaluation()
    everything = cell_examples(ev, 0, 0)
    assert cell_examples(ev, 0, 0, limit=3) == everything[:3]


@pytest.mark.parametrize("name", [n for n, loss in LOSSES.items() if Task.CLASSIFICATION in loss.tasks])
@pytest.mark.parametrize("classes", [2, 5])
def test_probabilities_agree_with_the_loss_prediction(name, classes):
    width = LOSSES.get(name).outputs(Task.CLASSIFICATION, classes, None)
    output = torch.randn(64, width, generator=torch.Generator().manual_seed(classes)) * 2 + 0.3
    probabilities = class_probabilities(output, name)
    assert probabilities.shape == (64, classes)
    assert torch.all(probabilities >= 0)
    torch.testing.assert_close(probabilities.sum(1), torch.ones(64))
    assert torch.equal(probabilities.argmax(1), LOSSES.get(name).predict(output))
