"""Splits: validation fraction, stratification, per-class subsets, seeded determinism."""

import numpy as np
import pytest
import torch

from studio.core.data import prepare_data
from studio.core.errors import ConfigError, DatasetError
from studio.core.project import DataSpec


def test_same_spec_gives_identical_tensors():
    spec = DataSpec(dataset="digits", seed=7)
    a, b = prepare_data(spec), prepare_data(spec)
    for name in ("x_train", "y_train", "x_val", "y_val"):
        assert torch.equal(getattr(a, name), getattr(b, name))


def test_other_seed_gives_other_split():
    a, b = prepare_data(DataSpec(seed=1)), prepare_data(DataSpec(seed=2))
    assert not torch.equal(a.y_train, b.y_train)
    assert a.n_train == b.n_train


def test_training_order_is_shuffled():
    data = prepare_data(DataSpec(seed=0))
    labels = data.y_train.numpy()
    assert np.any(np.diff(labels) < 0)


def test_split_is_stratified_and_disjoint():
    data = prepare_data(DataSpec(val_fraction=0.3, preprocessing="none"))
    train_counts = np.bincount(data.y_train.numpy(), minlength=10)
    val_counts = np.bincount(data.y_val.numpy(), minlength=10)
    fractions = val_counts / (train_counts + val_counts)
    assert np.all(np.abs(fractions - 0.3) < 0.01)
    train_rows = {tuple(r) for r in data.x_train.numpy().round(4).tolist()}
    val_rows = [tuple(r) for r in data.x_val.numpy().round(4).tolist()]
    # A handful of digits images are exact duplicates of others in the dataset itself.
    assert sum(r in train_rows for r in val_rows) < 5


def test_zero_validation_fraction_keeps_everything_for_training():
    data = prepare_data(DataSpec(dataset="moons", params={"n_samples": 100}, val_fraction=0.0))
    assert data.n_train == 100 and data.n_val == 0
    assert data.x_val.shape == (0, 2) and data.y_val.dtype == torch.int64


@pytest.mark.parametrize("k", [1, 10])
def test_subset_per_class_gives_exactly_k_per_class(k):
    data = prepare_data(DataSpec(subset_per_class=k, val_fraction=0.2))
    assert np.bincount(data.y_train.numpy(), minlength=10).tolist() == [k] * 10
    val_counts = np.bincount(data.y_val.numpy(), minlength=10)
    assert np.all(val_counts == val_counts[0]) and val_counts[0] >= 1


def test_subset_is_seeded():
    a = prepare_data(DataSpec(subset_per_class=3, seed=4))
    b = prepare_data(DataSpec(subset_per_class=3, seed=4))
    c = prepare_data(DataSpec(subset_per_class=3, seed=5))
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)


def test_subset_larger_than_available_names_the_class():
    spec = DataSpec(dataset="blobs", params={"n_samples": 30, "classes": 3}, subset_per_class=50)
    with pytest.raises(DatasetError, match=r"class 'blob 1' has only \d+ samples in the training split.*50"):
        prepare_data(spec)


def test_subset_on_regression_is_a_config_error():
    with pytest.raises(ConfigError, match="needs a classification dataset") as err:
        prepare_data(DataSpec(dataset="sine", subset_per_class=5))
    assert err.value.field == "subset_per_class"


@pytest.mark.parametrize("bad", [-0.1, 0.95, 1.0, "half"])
def test_validation_fraction_out_of_range(bad):
    with pytest.raises(ConfigError, match="validation fraction") as err:
        prepare_data(DataSpec(val_fraction=bad))
    assert err.value.field == "val_fraction"


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_subset_size(bad):
    with pytest.raises(ConfigError, match="subset per class must be a whole number") as err:
        prepare_data(DataSpec(subset_per_class=bad))
    assert err.value.field == "subset_per_class"


def test_regression_without_validation_split():
    from studio.core.data import prepare_data
    from studio.core.project import DataSpec

    data = prepare_data(DataSpec("sine", val_fraction=0.0))
    assert data.y_val.shape == (0, 1) and data.y_train.shape == (len(data.x_train), 1)
