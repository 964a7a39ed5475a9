"""Nested rows downstream of the stack: statistics per row, learning-rate multipliers, freezing, diagnostics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from studio.core.build import build_model
from studio.core.callbacks import EventLog
from studio.core.engine import Trainer
from studio.core.errors import ConfigError
from studio.core.events import LayerStats
from studio.core.lab.diagnostics import dead_units
from studio.core.optim import param_groups
from studio.core.project import Choice, LayerSpec, ModelSpec, Project, TrainingSpec
from studio.core.units import model_units
from tests.core.test_engine import blobs


def L(type_: str, *rows: LayerSpec, **params: object) -> LayerSpec:
    return LayerSpec(type_, dict(params), layers=list(rows))


def residual_mlp() -> list[LayerSpec]:
    """Linear, Repeat×2[Residual[Linear, ReLU]], Residual[Linear 6] (projected), Linear 3."""
    block = L("Residual", L("Linear", out_features=8), L("ReLU"))
    return [L("Linear", out_features=8), L("Repeat", block, times=2), L("Residual", L("Linear", out_features=6)),
            L("Linear", out_features=3)]


def project(layers: list[LayerSpec], **training: object) -> Project:
    return Project(model=ModelSpec(layers), optimizer=Choice("sgd", {"lr": 0.1}),
                   training=TrainingSpec(**{"epochs": 1, "batch_size": 8, "stats_every": 2, "device": "cpu",
                                            **training}))


def test_every_nested_row_has_its_own_statistics_labelled_by_its_path() -> None:
    log = EventLog()
    trainer = Trainer(project(residual_mlp()), blobs(features=4), callbacks=[log])
    trainer.fit()
    names = trainer.layer_names
    assert names == ("1 Linear 8", "2 Repeat ×2", "2.1 Residual", "2.1.1 Linear 8", "2.1.2 ReLU", "2[2].1 Residual",
                     "2[2].1.1 Linear 8", "2[2].1.2 ReLU", "3 Residual", "3.1 Linear 6", "4 Linear 3")
    stats = [e for e in log.events if isinstance(e, LayerStats)]
    assert stats and stats[0].names == names
    grad = dict(zip(names, stats[-1].grad_norm, strict=True))
    assert grad["2[2].1.1 Linear 8"] > 0 and grad["2.1.1 Linear 8"] > 0
    assert math.isnan(grad["2.1.2 ReLU"]) and math.isnan(grad["2 Repeat ×2"])
    assert grad["3 Residual"] > 0  # its projection is its own weight
    assert np.isfinite(stats[-1].act_var).all()  # every row, blocks included, reports its output


def test_multipliers_multiply_down_the_blocks_and_frozen_blocks_train_nothing() -> None:
    layers = residual_mlp()
    layers[1].lr_mult = 0.5
    layers[1].layers[0].layers[0].lr_mult = 0.2
    layers[2].frozen = True
    model = build_model(ModelSpec(layers), (4,), seed=0)
    units = model_units(model, layers)
    groups = param_groups(model, layers, 1.0)
    lr = {units[g["layer"]].label: g["lr"] for g in groups}
    assert lr == {"1 Linear 8": 1.0, "2.1.1 Linear 8": pytest.approx(0.1), "2[2].1.1 Linear 8": pytest.approx(0.1),
                  "4 Linear 3": 1.0}
    grouped = {id(p) for g in groups for p in g["params"]}
    assert not any(id(p) in grouped for p in model[2].parameters())
    layers[1].layers[0].layers[0].lr_mult = -1.0
    with pytest.raises(ConfigError) as info:
        param_groups(model, layers, 1.0)
    assert info.value.field == "layers[1].layers[0].layers[0].lr_mult"
    assert str(info.value).startswith("Block 2 › block 1 › row 1 (Linear): the learning-rate multiplier")


def test_a_frozen_block_keeps_its_weights_through_training() -> None:
    layers = residual_mlp()
    layers[1].frozen = True
    trainer = Trainer(project(layers, epochs=2), blobs(features=4))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit()
    after = trainer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("1."))
    assert not torch.equal(before["0.weight"], after["0.weight"])


def test_dead_units_are_measured_per_nested_relu() -> None:
    layers = residual_mlp()
    model = build_model(ModelSpec(layers), (4,), seed=0)
    with torch.no_grad():  # kill every unit of the first copy's ReLU: its Linear outputs only negatives
        model[1].copies[0][0].body[0].bias.fill_(-1e3)
    units = model_units(model, layers)
    dead = dict(zip([u.label for u in units], dead_units(model, torch.randn(32, 4), units), strict=True))
    assert dead["2.1.2 ReLU"] == 1.0 and dead["2[2].1.2 ReLU"] < 1.0 and math.isnan(dead["2.1.1 Linear 8"])
