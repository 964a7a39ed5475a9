"""Per-layer activations for one sample and the first layer's weights as pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from studio.core.inspect import first_layer_weights, layer_activations
from studio.core.inspect.activations import MAPS, VECTOR


def lenet_like() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(64, 10)
    )


def test_each_layer_gives_maps_or_a_vector_equal_to_the_forward_pass():
    model = lenet_like().train()
    x = torch.rand(1, 8, 8)
    names = tuple(f"{i + 1} {type(m).__name__}" for i, m in enumerate(model))
    acts = layer_activations(model, x, names)
    assert [a.name for a in acts] == list(names)
    assert [a.kind for a in acts] == [MAPS, MAPS, MAPS, VECTOR, VECTOR, VECTOR]
    assert acts[0].values.shape == (4, 8, 8) and acts[2].values.shape == (4, 4, 4)
    model.eval()
    with torch.no_grad():
        expected = x.unsqueeze(0)
        for layer, act in zip(model, acts, strict=True):
            expected = layer(expected)
            np.testing.assert_allclose(act.values.reshape(-1), expected[0].reshape(-1).numpy(), rtol=1e-6)


def test_hooks_are_removed_and_the_mode_restored():
    model = lenet_like().train()
    layer_activations(model, torch.rand(1, 8, 8), ())
    assert model.training
    assert all(not m._forward_hooks for m in model.modules())


def test_dense_first_layer_weights_are_pictures_of_the_input():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 10))
    weights = first_layer_weights(model, ("1 Linear 100", "2 ReLU", "3 Linear 10"), (8, 8))
    assert weights.layer == "1 Linear 100" and weights.units == 100
    assert weights.images.shape == (64, 8, 8)  # at most 64 units are shown
    assert np.abs(weights.images).max() == pytest.approx(1.0)
    w0 = model[0].weight[0].detach().numpy().reshape(8, 8)
    np.testing.assert_allclose(weights.images[0] / weights.images[0].max(), w0 / w0.max(), rtol=1e-5)


def test_colour_kernels_are_rgb_and_grey_kernels_one_channel():
    rgb = first_layer_weights(nn.Sequential(nn.Conv2d(3, 6, 5)), (), (32, 32, 3))
    assert rgb.images.shape == (6, 5, 5, 3)
    grey = first_layer_weights(lenet_like(), (), (8, 8))
    assert grey.images.shape == (4, 3, 3)
    flattened_colour = first_layer_weights(nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), (), (2, 2, 3))
    assert flattened_colour.images.shape == (2, 2, 2, 3)


def test_weights_of_non_picture_inputs_are_one_matrix_and_none_without_weights():
    weights = first_layer_weights(nn.Sequential(nn.Linear(2, 8), nn.Tanh()), ("1 Linear 8", "2 Tanh"), None)
    assert weights.images.shape == (1, 8, 2)
    assert first_layer_weights(nn.Sequential(nn.ReLU()), (), None) is None
