"""The typed-in table dataset: parsing, class order, errors a learner can fix."""

from __future__ import annotations

import pytest

import studio.core.lab  # noqa: F401  (registers the table dataset)
from studio.core.data import DATASETS, prepare_data
from studio.core.errors import DatasetError
from studio.core.project import DataSpec


def _load(rows: str):
    return DATASETS.get("table").load({"rows": rows}, lambda f, m: None)


def test_rows_become_features_and_numeric_class_order() -> None:
    raw = _load("1, 2, 1\n-1, 0.5, -1; 3, 4, 1")
    assert raw.x.tolist() == [[1.0, 2.0], [-1.0, 0.5], [3.0, 4.0]]
    assert raw.class_names == ("-1", "1") and raw.y.tolist() == [1, 0, 1]
    assert raw.feature_names == ("x1", "x2")


@pytest.mark.parametrize(("rows", "message"), [
    ("1, 2, 1", "at least two rows"),
    ("1, 2, 1; 1, 1", "row 2 has 1 features"),
    ("1, a, 1; 2, 3, -1", "must be numbers"),
    ("1, 2, 1; 3, 4, 1", "only one class"),
    ("1, inf, 1; 3, 4, -1", "finite"),
])
def test_bad_tables_name_the_problem(rows: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        _load(rows)


def test_the_default_table_prepares_without_validation() -> None:
    data = prepare_data(DataSpec("table", preprocessing="none", val_fraction=0.0))
    assert data.n_train == 6 and data.n_val == 0 and data.input_shape == (2,)
