"""Turning a checked layer stack into a real ``nn.Sequential``: one module per row, initialised from the seed.

Module ``i`` of the result is row ``i`` of the stack, so statistics, plots and per-layer learning rates
can address layers by the same index the user sees (plus one). A block row is one module (``Residual``,
``Parallel``, ``Repeat`` from ``studio.core.blocks``) holding its rows' modules; ``studio.core.units``
walks a built model row by row, blocks included.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from studio.core.init import apply_init, check_init
from studio.core.layers import describe_layer, layer_label
from studio.core.project import ModelSpec
from studio.core.shapes import PlannedRow, walk

__all__ = ["build_model", "describe_layer", "layer_label"]


def build_model(model: ModelSpec, input_shape: Sequence[int], seed: int) -> nn.Sequential:
    """Check ``model`` for ``input_shape``, build it on the CPU and initialise it from ``seed``.

    Raises ShapeError / ConfigError for user problems. Frozen rows get ``requires_grad=False`` (a frozen
    block freezes every row inside it). The same spec, shape and seed always give identical weights, and
    torch's global random state is untouched.
    """
    check_init(model)
    rows = list(walk(model.layers, input_shape))
    # Construction draws torch's default init from the global generator; apply_init overwrites it from
    # our own, so fork the global state to leave the caller's random stream (data shuffling) unchanged.
    with torch.random.fork_rng(devices=[]):
        network = nn.Sequential(*(_module(row) for row in rows))
    apply_init(network, model, torch.Generator().manual_seed(seed))
    from studio.core.units import model_units

    for unit in model_units(network, model.layers):
        if unit.spec is not None and unit.spec.frozen:
            unit.module.requires_grad_(False)
    return network


def _module(row: PlannedRow) -> nn.Module:
    """The module of one planned row; a block's is assembled from its rows' modules."""
    rule = row.layer_type.block
    if rule is None:
        assert row.layer_type.make is not None
        return row.layer_type.make(row.params, row.info.in_shape)
    copies = [[_module(child) for child in rows] for rows in row.copies]
    own = rule.own(row.params, row.info.in_shape, row.info.out_shape)
    return rule.assemble(row.params, own, copies)
