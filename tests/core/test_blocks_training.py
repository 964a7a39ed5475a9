"""Nested rows downstream of the stack: statistics per row, learning-rate multipliers, freezing, diagnostics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.core.build import build_model
from studio.core.callbacks import EventLog
from studio.core.checkpoint import CheckpointCallback, resume_fit
from studio.core.engine import Trainer
from studio.core.errors import ConfigError
from studio.core.events import LayerStats
from studio.core.finetune import (
    freeze_layers,
    load_pretrained,
    output_layer_index,
    output_layer_path,
    replace_output_layer,
)
from studio.core.inspect.activations import sample_layers
from studio.core.inspect.snapshot import ModelSnapshot
from studio.core.lab.diagnostics import dead_units
from studio.core.optim import param_groups
from studio.core.project import Choice, LayerSpec, ModelSpec, Project, TrainingSpec
from studio.core.units import model_units, module_labels
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


def test_a_nested_run_resumes_exactly_from_its_checkpoint(tmp_path: Path) -> None:
    layers = residual_mlp()
    layers.insert(1, L("BatchNorm1d"))
    layers[2].layers[0].layers.append(L("Dropout", p=0.2))  # the global RNG, inside a Repeat
    layers[2].lr_mult = 0.5
    nested = project(layers, epochs=3, stats_every=0)
    nested.optimizer = Choice("sgd", {"lr": 0.05, "momentum": 0.9})
    data = blobs(features=4)
    full = Trainer(nested, data, [CheckpointCallback(tmp_path / "full", every=1, keep=5)])
    full_end = full.fit()
    resumed, end = resume_fit(tmp_path / "full" / "epoch-0001.ckpt", data=data)
    assert end.epochs_completed == full_end.epochs_completed == 3
    ref, state = full.training_state(), resumed.training_state()
    for name, tensor in ref["model"].items():
        assert torch.equal(state["model"][name], tensor), name
    assert [e.train_loss for e in end.history] == [e.train_loss for e in full_end.history]


def test_fine_tuning_loads_nested_rows_by_position_and_shape(tmp_path: Path) -> None:
    layers = residual_mlp()
    source = build_model(ModelSpec(layers), (4,), seed=1)
    new_spec = replace_output_layer(ModelSpec(residual_mlp()), 5)
    target = build_model(new_spec, (4,), seed=2)
    assert output_layer_path(new_spec) == (3,) and output_layer_index(new_spec) == 3
    names = module_labels(target, model_units(target, new_spec.layers))
    report = load_pretrained(target, source, names=names)
    assert "2[2].1.1 Linear 8" in report.loaded and "3 Residual (shortcut)" in report.loaded
    assert [name for name, _ in report.skipped] == ["4 Linear 5"]
    assert torch.equal(target[1].copies[1][0].body[0].weight, source[1].copies[1][0].body[0].weight)
    kept = load_pretrained(build_model(new_spec, (4,), seed=2), source, names=names, exclude=["1.copies.1"])
    assert ("2[2].1.1 Linear 8", "kept its new weights (excluded)") in kept.skipped
    freeze_layers(new_spec, [(1, 0, 0)])
    assert new_spec.layers[1].layers[0].layers[0].frozen


def test_inspecting_a_sample_shows_every_nested_row() -> None:
    data = blobs(features=4)
    trainer = Trainer(project(residual_mlp()), data)
    trainer.fit()
    snapshot = ModelSnapshot(trainer.project, trainer.model, data)
    layers = sample_layers(snapshot, 0)
    assert [a.name for a in layers.activations] == list(trainer.layer_names)
    by_name = {a.name: a.values for a in layers.activations}
    block = trainer.model[2]  # the projected Residual: its output is rows + shortcut
    x = torch.as_tensor(by_name["2[2].1 Residual"])[None]
    assert np.allclose(by_name["3 Residual"], (block.body(x) + block.shortcut(x)).detach().numpy()[0], atol=1e-5)
    assert layers.weights is not None and layers.weights.layer == "1 Linear 8"
