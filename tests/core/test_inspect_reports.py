"""Exported evaluation and training curves: CSV that reads back, TensorBoard only when installed."""

from __future__ import annotations

import csv
import io
import math
import sys

import numpy as np
import pytest

from studio.core.events import EpochEnd
from studio.core.inspect import metrics_report
from studio.core.inspect.reports import (
    confusion_csv,
    curves_csv,
    metrics_csv,
    tensorboard_available,
    write_curves,
    write_evaluation,
    write_tensorboard,
)

NAMES = ("T-shirt/top", "trouser, long", "bag")


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def report():
    return metrics_report(np.array([0, 0, 1, 1, 2, 2, 2]), np.array([0, 1, 1, 1, 2, 0, 2]), NAMES)


def epochs() -> list[EpochEnd]:
    return [
        EpochEnd(1, 0.9, 0.6, 0.8, 0.65, 1.5, 0.01, 1000.0),
        EpochEnd(2, 0.5, 0.8, None, None, 1.4, 0.005, 1100.0),
    ]


def test_metrics_csv_reads_back_with_names_that_need_quoting():
    r = report()
    table = rows(metrics_csv(r))
    assert table[0] == ["class", "precision", "recall", "f1", "support"]
    assert [row[0] for row in table[1:4]] == list(NAMES)
    for i, row in enumerate(table[1:4]):
        assert [float(v) for v in row[1:4]] == [r.precision[i], r.recall[i], r.f1[i]]
        assert int(row[4]) == r.support[i]
    assert table[4][0] == "macro average" and float(table[4][3]) == pytest.approx(r.f1.mean())
    assert table[-1] == ["accuracy", "", "", str(r.accuracy), "7"]


def test_confusion_csv_rows_are_true_classes():
    table = rows(confusion_csv(report()))
    assert table[0] == ["true \\ predicted", *NAMES]
    assert table[1] == [NAMES[0], "1", "1", "0"] and table[3] == [NAMES[2], "1", "0", "2"]


def test_curves_csv_has_every_epoch_field_and_blanks_for_missing_values():
    table = rows(curves_csv(epochs()))
    assert table[0][:5] == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
    assert table[1][:5] == ["1", "0.9", "0.6", "0.8", "0.65"]
    assert table[2][3:5] == ["", ""]


def test_writing_puts_the_files_in_the_folder(tmp_path):
    evaluation = write_evaluation(tmp_path / "out", report())
    curves = write_curves(tmp_path / "out", epochs(), [0.5, 1.0], [1.2, 0.7])
    assert [p.name for p in evaluation + curves] == ["metrics.csv", "confusion.csv", "curves.csv", "batch_losses.csv"]
    assert rows((tmp_path / "out" / "batch_losses.csv").read_text())[1:] == [["0.5", "1.2"], ["1.0", "0.7"]]
    assert write_curves(tmp_path / "only", epochs())[-1].name == "curves.csv"
    assert not (tmp_path / "only" / "batch_losses.csv").exists()


def test_tensorboard_is_skipped_when_the_package_is_missing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # makes `import tensorboard` fail
    assert not tensorboard_available()
    assert write_tensorboard(tmp_path, epochs()) is None
    assert not (tmp_path / "tensorboard").exists()


def test_tensorboard_event_files_hold_the_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    folder = write_tensorboard(tmp_path, epochs())
    events = EventAccumulator(str(folder))
    events.Reload()
    train = [(s.step, s.value) for s in events.Scalars("loss/train")]
    assert train == [(1, pytest.approx(0.9)), (2, pytest.approx(0.5))]
    assert [s.step for s in events.Scalars("loss/validation")] == [1]
    assert all(math.isfinite(s.value) for s in events.Scalars("learning_rate"))
