"""The dataset registry: names, tasks, params, the default dataset, digits and the synthetic sets."""

import numpy as np
import pytest
import torch

from studio.core.data import DATASETS, PREPROCESSINGS, describe, prepare_data, preview
from studio.core.errors import ConfigError
from studio.core.params import defaults, resolve
from studio.core.project import DataSpec

ALL_NAMES = [
    "digits", "moons", "circles", "spirals", "xor", "blobs", "quadratic", "sine", "table",
    "mnist", "fashion_mnist", "kmnist", "cifar10", "image_folder", "csv",
]
SYNTHETIC_2D = ["moons", "circles", "spirals", "xor", "blobs"]


def test_registry_names_in_gui_order():
    assert DATASETS.names() == ALL_NAMES
    assert PREPROCESSINGS.names() == ["none", "standardize", "pixel_mean", "channel_mean"]


@pytest.mark.parametrize("name", DATASETS.names())
def test_every_dataset_type_is_well_formed(name):
    kind = DATASETS.get(name)
    assert kind.name == name and kind.label and kind.description
    assert kind.task in ("classification", "regression")
    assert resolve(kind.params, {}, name) == defaults(kind.params)


def test_default_dataset_is_digits_and_loads_offline():
    data = prepare_data(DataSpec())
    assert DataSpec().dataset == "digits"
    assert data.input_shape == (64,)
    assert data.x_train.dtype == torch.float32 and data.x_train.shape[1:] == (64,)
    assert data.y_train.dtype == torch.int64
    assert data.task == "classification" and data.num_classes == 10 and data.target_dim == 0
    assert data.class_names == tuple("0123456789")
    assert data.n_train + data.n_val == 1797
    assert not data.streaming and data.train_set is None
    assert data.image_shape == (8, 8)


def test_digits_raw_pixels_are_in_unit_range():
    data = prepare_data(DataSpec(preprocessing="none"))
    assert float(data.x_train.min()) == 0.0 and float(data.x_train.max()) == 1.0


@pytest.mark.parametrize("name", SYNTHETIC_2D)
def test_synthetic_2d_sets(name):
    spec = DataSpec(dataset=name, params={"n_samples": 200, "noise": 0.1, "seed": 3}, val_fraction=0.25)
    data = prepare_data(spec)
    assert data.input_shape == (2,) and data.x_train.shape[1:] == (2,)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert data.n_train + data.n_val == 200
    assert data.n_val == pytest.approx(50, abs=data.num_classes)
    assert len(data.class_names) == data.num_classes >= 2
    assert data.image_shape is None
    assert set(data.y_train.tolist()) == set(range(data.num_classes))


def test_class_count_parameters():
    assert prepare_data(DataSpec(dataset="spirals", params={"classes": 4})).num_classes == 4
    assert prepare_data(DataSpec(dataset="blobs", params={"classes": 5})).class_names[-1] == "blob 5"


def test_generation_seed_changes_the_points_and_size_is_honoured():
    a = prepare_data(DataSpec(dataset="moons", params={"seed": 1}, preprocessing="none"))
    b = prepare_data(DataSpec(dataset="moons", params={"seed": 2}, preprocessing="none"))
    assert not torch.equal(a.x_train, b.x_train)
    assert prepare_data(DataSpec(dataset="xor", params={"n_samples": 50})).n_train == 40


def test_noise_parameter_spreads_the_points():
    quiet = prepare_data(DataSpec(dataset="circles", params={"noise": 0.0}, preprocessing="none", val_fraction=0))
    radii = quiet.x_train.norm(dim=1)
    assert torch.allclose(radii[quiet.y_train == 0], torch.ones(1), atol=1e-5)
    assert torch.allclose(radii[quiet.y_train == 1], torch.full((1,), 0.5), atol=1e-5)


@pytest.mark.parametrize(("name", "f"), [("quadratic", np.square), ("sine", np.sin)])
def test_regression_sets(name, f):
    data = prepare_data(DataSpec(dataset=name, params={"noise": 0.0, "n_samples": 100}, preprocessing="none"))
    assert data.task == "regression" and data.num_classes == 0 and data.class_names == ()
    assert data.input_shape == (1,) and data.target_dim == 1
    assert data.y_train.dtype == torch.float32 and data.y_train.shape == (80, 1)
    np.testing.assert_allclose(data.y_train.numpy(), f(data.x_train.numpy()), atol=1e-5)


def test_unknown_dataset_and_parameter_are_config_errors():
    with pytest.raises(ConfigError, match="unknown dataset 'nope'") as err:
        prepare_data(DataSpec(dataset="nope"))
    assert err.value.field == "dataset"
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        prepare_data(DataSpec(dataset="moons", params={"colour": 1}))
    with pytest.raises(ConfigError, match="noise must be at least 0"):
        prepare_data(DataSpec(dataset="moons", params={"noise": -1}))
    with pytest.raises(ConfigError, match="unknown preprocessing") as err:
        prepare_data(DataSpec(preprocessing="whiten"))
    assert err.value.field == "preprocessing"


def test_describe_matches_prepared_data():
    spec = DataSpec(dataset="blobs", params={"n_samples": 90}, val_fraction=0.1)
    info, data = describe(spec), prepare_data(spec)
    assert (info.input_shape, info.task, info.num_classes, info.class_names) == (
        data.input_shape, data.task, data.num_classes, data.class_names,
    )
    assert (info.n_train, info.n_val) == (data.n_train, data.n_val) == (81, 9)


def test_preview_digits_is_raw_images_in_unit_range():
    pv = preview(DataSpec(preprocessing="standardize"), n=20)
    assert pv.kind == "images" and pv.data.shape == (20, 8, 8)
    assert pv.data.min() >= 0.0 and pv.data.max() <= 1.0
    assert pv.labels.shape == (20,) and list(pv.labels) == sorted(pv.labels)
    assert pv.class_names == tuple("0123456789")


def test_preview_points_and_curves():
    points = preview(DataSpec(dataset="moons"), n=50)
    assert points.kind == "points" and points.data.shape == (50, 2) and set(points.labels) == {0, 1}
    curve = preview(DataSpec(dataset="sine", params={"noise": 0.0}), n=30)
    assert curve.kind == "curve" and curve.data.shape == (30, 2)
    assert np.all(np.diff(curve.data[:, 0]) >= 0)
    np.testing.assert_allclose(curve.data[:, 1], np.sin(curve.data[:, 0]), atol=1e-5)


def test_preview_is_quick_for_digits():
    import time

    preview(DataSpec())
    start = time.perf_counter()
    preview(DataSpec())
    assert time.perf_counter() - start < 0.5
