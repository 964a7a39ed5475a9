"""Building models: one module per row, frozen rows, errors before anything is built, real forward passes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from studio.core.build import build_model
from studio.core.errors import ShapeError
from studio.core.project import LayerSpec, ModelSpec

LENET = ModelSpec([
    LayerSpec("Conv2d", {"out_channels": 6, "kernel_size": 5}), LayerSpec("ReLU"), LayerSpec("MaxPool2d"),
    LayerSpec("Conv2d", {"out_channels": 16, "kernel_size": 5}), LayerSpec("ReLU"), LayerSpec("MaxPool2d"),
    LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 120}), LayerSpec("ReLU"),
    LayerSpec("Linear", {"out_features": 84}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 10}),
])


def test_lenet_builds_one_module_per_row_and_runs() -> None:
    model = build_model(LENET, (1, 28, 28), seed=0)
    assert isinstance(model, nn.Sequential) and len(model) == len(LENET.layers)
    assert [type(m).__name__ for m in model] == [spec.type for spec in LENET.layers]
    assert model[7].in_features == 256  # inferred from the previous rows
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)


def test_frozen_rows_do_not_require_gradients() -> None:
    spec = ModelSpec([LayerSpec("Linear", {"out_features": 8}, frozen=True), LayerSpec("BatchNorm1d", frozen=True),
                      LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 2})])
    model = build_model(spec, (4,), seed=0)
    assert [p.requires_grad for p in model[0].parameters()] == [False, False]
    assert [p.requires_grad for p in model[1].parameters()] == [False, False]
    assert all(p.requires_grad for p in model[3].parameters())
    model(torch.randn(5, 4)).sum().backward()
    assert model[0].weight.grad is None and model[3].weight.grad is not None


def test_problems_are_raised_before_building() -> None:
    with pytest.raises(ShapeError, match="Layer 2 \\(Conv2d\\)") as info:
        build_model(ModelSpec([LayerSpec("Flatten"), LayerSpec("Conv2d")]), (1, 8, 8), seed=0)
    assert info.value.index == 1
    with pytest.raises(ShapeError, match="no layers"):
        build_model(ModelSpec([]), (4,), seed=0)


def test_batchnorm_and_dropout_models_train_and_evaluate() -> None:
    spec = ModelSpec([LayerSpec("Conv2d", {"out_channels": 4, "padding": 1}), LayerSpec("BatchNorm2d"),
                      LayerSpec("Dropout2d"), LayerSpec("AdaptiveAvgPool2d"), LayerSpec("Flatten"),
                      LayerSpec("Linear", {"out_features": 3})])
    model = build_model(spec, (2, 6, 6), seed=0)
    assert model(torch.randn(4, 2, 6, 6)).shape == (4, 3)
    model.eval()
    assert model(torch.randn(1, 2, 6, 6)).shape == (1, 3)
