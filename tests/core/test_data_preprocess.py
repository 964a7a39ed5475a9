"""Preprocessing: statistics come from the training split only; apply/to_dict/from_dict round-trip."""

import json

import numpy as np
import pytest
import torch

from studio.core.data import Moments, Preprocessing, prepare_data
from studio.core.errors import ProjectFileError
from studio.core.project import DataSpec


def _raw_train(spec: DataSpec):
    raw = prepare_data(DataSpec(**{**spec.__dict__, "preprocessing": "none"}))
    return raw.x_train.double(), raw.x_val.double()


def test_standardize_uses_training_split_statistics_only():
    spec = DataSpec(dataset="digits", preprocessing="standardize", val_fraction=0.5, seed=3)
    x_train, x_val = _raw_train(spec)
    data = prepare_data(spec)
    mean, std = x_train.mean(0), x_train.std(0, unbiased=False)
    np.testing.assert_allclose(data.preprocessing.mean, mean.numpy(), atol=1e-6)
    used = std > 1e-6
    np.testing.assert_allclose(data.preprocessing.std[used.numpy()], std[used].numpy(), rtol=1e-5)
    # The validation split's own statistics differ, and they were not used:
    assert not np.allclose(data.preprocessing.mean, x_val.mean(0).numpy(), atol=1e-3)
    np.testing.assert_allclose(data.x_train.double().mean(0).numpy(), 0.0, atol=1e-5)
    assert abs(float(data.x_val.double().mean())) > 1e-4


def test_constant_features_are_left_unscaled():
    data = prepare_data(DataSpec(dataset="digits", preprocessing="standardize"))
    assert data.preprocessing.std[0] == 1.0  # the top-left pixel of every digit is blank
    assert torch.isfinite(data.x_val).all()


def test_pixel_mean_subtracts_the_mean_image_only():
    spec = DataSpec(dataset="digits", preprocessing="pixel_mean")
    x_train, _ = _raw_train(spec)
    data = prepare_data(spec)
    assert data.preprocessing.std is None
    np.testing.assert_allclose(data.x_train.numpy(), (x_train - x_train.mean(0)).numpy(), atol=1e-5)


def test_channel_mean_on_flat_features_is_one_scalar():
    spec = DataSpec(dataset="digits", preprocessing="channel_mean")
    x_train, _ = _raw_train(spec)
    data = prepare_data(spec)
    assert data.preprocessing.mean.shape == (1,)
    assert data.preprocessing.mean[0] == pytest.approx(float(x_train.mean()), abs=1e-6)


def test_channel_mean_on_images_is_per_channel():
    x = torch.rand(10, 3, 4, 5)
    x[:, 1] += 2.0
    pre = Preprocessing.fit("channel_mean", lambda: Moments.of(x))
    assert pre.mean.shape == (3, 1, 1)
    np.testing.assert_allclose(pre.mean[:, 0, 0], x.mean(dim=(0, 2, 3)).numpy(), atol=1e-5)


def test_none_computes_nothing():
    def never():
        raise AssertionError("statistics were computed")

    pre = Preprocessing.fit("none", never)
    x = torch.rand(3, 2)
    assert torch.equal(pre.apply(x), x)


def test_moments_accumulate_like_one_pass():
    x = torch.randn(9000, 3, dtype=torch.float64)
    m = Moments.of(x)
    assert m.count == 9000
    np.testing.assert_allclose(m.mean, x.mean(0).numpy(), atol=1e-6)
    np.testing.assert_allclose(m.std, x.std(0, unbiased=False).numpy(), rtol=1e-6)


def test_apply_matches_training_transform_and_does_not_touch_input():
    spec = DataSpec(dataset="digits", preprocessing="standardize")
    x_train, _ = _raw_train(spec)
    data = prepare_data(spec)
    original = x_train[:5].float()
    copy = original.clone()
    out = data.preprocessing.apply(original)
    assert torch.equal(original, copy)
    np.testing.assert_allclose(out.numpy(), data.x_train[:5].numpy(), atol=1e-5)
    single = data.preprocessing.apply(original[0])
    assert single.shape == (64,) and torch.allclose(single, out[0])


@pytest.mark.parametrize("name", ["none", "standardize", "pixel_mean", "channel_mean"])
def test_to_dict_is_json_safe_and_round_trips(name):
    data = prepare_data(DataSpec(preprocessing=name))
    text = json.dumps(data.preprocessing.to_dict())
    back = Preprocessing.from_dict(json.loads(text))
    assert back.name == name
    x = torch.rand(4, 64)
    assert torch.allclose(back.apply(x), data.preprocessing.apply(x))


def test_from_dict_rejects_malformed_records():
    with pytest.raises(ProjectFileError, match="unknown preprocessing"):
        Preprocessing.from_dict({"name": "whiten"})
    with pytest.raises(ProjectFileError, match="not valid"):
        Preprocessing.from_dict({"name": "standardize", "mean": ["a"], "std": None})
    with pytest.raises(ProjectFileError):
        Preprocessing.from_dict(["standardize"])
