"""Rows in the order typed: table and CSV data keep their file order in both splits, and a fit without
shuffling visits the training rows exactly in that order."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.core.callbacks import Callback
from studio.core.data import DATASETS, prepare_data
from studio.core.engine import Trainer
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec

# Twelve rows whose first feature is the row number, so any order is readable from x_train[:, 0].
ROWS = "; ".join(f"{i}, {(-1) ** i * i}, {i % 2}" for i in range(12))


def _table(val_fraction: float, seed: int = 0) -> DataSpec:
    return DataSpec("table", {"rows": ROWS}, preprocessing="none", val_fraction=val_fraction, seed=seed)


def _csv(tmp_path: Path, val_fraction: float, task: str = "classification") -> DataSpec:
    lines = ["row,x,label"] + [f"{i},{(-1) ** i * i},{i % 3 if task == 'classification' else i * 0.5}"
                               for i in range(30)]
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return DataSpec("csv", {"path": str(path), "task": task}, preprocessing="none", val_fraction=val_fraction)


def _order(x: torch.Tensor) -> list[int]:
    return [int(v) for v in x[:, 0].tolist()]


def test_table_and_csv_are_the_ordered_datasets() -> None:
    assert {name for name, kind in DATASETS.items() if kind.ordered} == {"table", "csv"}


def test_zero_validation_fraction_keeps_every_row_in_order(tmp_path: Path) -> None:
    assert _order(prepare_data(_table(0.0)).x_train) == list(range(12))
    data = prepare_data(_csv(tmp_path, 0.0))
    assert _order(data.x_train) == list(range(30)) and data.n_val == 0


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_validation_rows_are_a_seeded_choice_and_both_splits_keep_file_order(tmp_path: Path, seed: int) -> None:
    data = prepare_data(_table(0.25, seed))
    train, val = _order(data.x_train), _order(data.x_val)
    assert train == sorted(train) and val == sorted(val)
    assert sorted(train + val) == list(range(12)) and len(val) == 4  # stratified: round(6 × 0.25) per class
    for task in ("classification", "regression"):
        spec = _csv(tmp_path, 0.2, task)
        spec.seed = seed
        data = prepare_data(spec)
        train, val = _order(data.x_train), _order(data.x_val)
        assert train == sorted(train) and val == sorted(val) and sorted(train + val) == list(range(30))


def test_the_validation_choice_depends_on_the_seed() -> None:
    picks = {tuple(_order(prepare_data(_table(0.25, seed)).x_val)) for seed in range(6)}
    assert len(picks) > 1


def test_other_datasets_still_shuffle_their_training_split() -> None:
    data = prepare_data(DataSpec("blobs", preprocessing="none", val_fraction=0.0))
    assert not DATASETS.get("blobs").ordered and len(data.x_train) > 10


class _Seen(Callback):
    """Records the first feature of every training sample, in the order the fit feeds them."""

    def __init__(self) -> None:
        self.rows: list[int] = []

    def on_fit_start(self, trainer: Trainer, event: object) -> None:
        trainer.model.register_forward_pre_hook(self._record)

    def _record(self, model: torch.nn.Module, inputs: tuple[torch.Tensor]) -> None:
        if model.training:  # evaluation passes run in eval mode
            self.rows += [int(v) for v in inputs[0][:, 0].tolist()]


def test_a_fit_without_shuffling_visits_the_rows_in_the_order_typed() -> None:
    project = Project(
        model=ModelSpec([LayerSpec("Linear", {"out_features": 1}), LayerSpec("Sign")]),
        data=_table(0.0),
        optimizer=Choice("sgd", {"lr": 1.0}),
        loss=Choice("perceptron"),
        training=TrainingSpec(epochs=2, batch_size=5, shuffle=False, stats_every=0),
    )
    seen = _Seen()
    Trainer(project, callbacks=[seen]).fit()
    assert seen.rows == list(range(12)) * 2
