"""Turning a checked layer stack into a real ``nn.Sequential``: one module per row, initialised from the seed.

Module ``i`` of the result is row ``i`` of the stack, so statistics, plots and per-layer learning rates
can address layers by the same index the user sees (plus one).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from studio.core.init import apply_init, check_init
from studio.core.layers import describe_layer, layer_label
from studio.core.project import ModelSpec
from studio.core.shapes import walk

__all__ = ["build_model", "describe_layer", "layer_label"]


def build_model(model: ModelSpec, input_shape: Sequence[int], seed: int) -> nn.Sequential:
    """Check ``model`` for ``input_shape``, build it on the CPU and initialise it from ``seed``.

    Raises ShapeError / ConfigError for user problems. Frozen rows get ``requires_grad=False``.
    The same spec, shape and seed always give identical weights, and torch's global random state is untouched.
    """
    check_init(model)
    rows = list(walk(model.layers, input_shape))
    # Construction draws torch's default init from the global generator; apply_init overwrites it from
    # our own, so fork the global state to leave the caller's random stream (data shuffling) unchanged.
    with torch.random.fork_rng(devices=[]):
        modules = [layer_type.make(params, info.in_shape) for info, layer_type, params in rows]
    network = nn.Sequential(*modules)
    apply_init(network, model, torch.Generator().manual_seed(seed))
    for module, spec in zip(network, model.layers, strict=True):
        if spec.frozen:
            module.requires_grad_(False)
    return network
