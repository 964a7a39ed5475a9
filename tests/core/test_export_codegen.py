"""Every registered layer type prints as a constructor call that rebuilds an equivalent module."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from studio.core.export.codegen import CUSTOM_MODULES, constructor
from studio.core.export.verify import ExportError
from studio.core.layers import LAYERS
from studio.core.params import resolve

FLAT, IMAGE = (12,), (3, 9, 9)


def _namespace() -> dict:
    namespace = {"torch": torch, "nn": nn}
    for helper in dict.fromkeys(code.source for code in CUSTOM_MODULES.values()):  # as model.py defines them
        exec("from __future__ import annotations\n" + helper, namespace)
    return namespace


# Non-default settings, where a constructor that ignored a setting would be caught.
VARIANTS = [
    ("Linear", {"out_features": 5, "bias": False}),
    ("Conv2d", {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "bias": False}),
    ("MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 1}),
    ("AvgPool2d", {"kernel_size": 2, "stride": 1}),
    ("BatchNorm1d", {"affine": False, "eps": 1e-3, "momentum": 0.3}),
    ("LayerNorm", {"elementwise_affine": False}),
    ("GELU", {"approximate": "tanh"}),
    ("LeakyReLU", {"negative_slope": 0.2}),
    ("Softplus", {"beta": 2.0, "threshold": 5.0}),
]


@pytest.mark.parametrize(("name", "values"), [(name, {}) for name, kind in LAYERS.items() if kind.block is None]
                         + VARIANTS)
def test_constructor_rebuilds_the_module(name: str, values: dict) -> None:
    layer_type = LAYERS.get(name)
    shape = IMAGE if layer_type.expects == "image" else FLAT
    if any(param.name == "kernel_size" for param in layer_type.params):
        values = {"kernel_size": 3, **values}  # the default may not fit the small test image
    params = resolve(layer_type.params, values, name)
    original = layer_type.make(params, shape).eval()
    code = constructor(original)
    rebuilt = eval(code, _namespace()).eval()  # our own generated code

    assert type(rebuilt).__name__ == type(original).__name__, code
    assert repr(rebuilt) == repr(original)
    rebuilt.load_state_dict(original.state_dict())  # same weights, same shapes, same names
    x = torch.randn(4, *shape)
    assert torch.equal(rebuilt(x), original(x)), code


def test_unknown_module_is_a_clear_error() -> None:
    class Custom(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    with pytest.raises(ExportError, match="does not know how to write a Custom layer"):
        constructor(Custom())
