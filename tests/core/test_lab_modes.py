"""Train vs eval mode: dropout's 1/(1-p) scaling measured, metrics in both modes, the real model untouched."""

from __future__ import annotations

import pytest
import torch

from studio.core.build import build_model
from studio.core.data import prepare_data
from studio.core.engine import evaluate
from studio.core.lab.modes import compare_modes, needs_modes
from studio.core.optim import build_loss
from studio.core.presets import load_preset
from studio.core.project import LayerSpec


def test_dropout_scales_kept_values_by_one_over_keep_probability() -> None:
    project = load_preset("dropout")
    project.model.layers[2].params["p"] = 0.25
    result = compare_modes(project)
    first = result.dropout[0]
    assert first.p == 0.25 and first.expected_scale == pytest.approx(4 / 3)
    assert first.measured_scale == pytest.approx(4 / 3, rel=1e-5)
    assert first.kept_fraction == pytest.approx(0.75, abs=0.02)
    assert first.mean_out_train == pytest.approx(first.mean_in, rel=0.05)
    assert "1/(1-p)" in result.explanation[0] and result.has_dropout and not result.has_batchnorm


def test_metrics_in_both_modes_and_the_model_is_untouched() -> None:
    project = load_preset("digits-mlp")
    project.model.layers.insert(1, LayerSpec("BatchNorm1d"))
    project.data.subset_per_class = 20
    assert needs_modes(project)
    data = prepare_data(project.data)
    model = build_model(project.model, data.input_shape, 0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = compare_modes(project, model, data)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # running stats unchanged
    eval_loss, eval_acc = evaluate(model, data, build_loss(project.loss, data.task, data.num_classes), "val")
    assert result.get("val", "eval").loss == pytest.approx(eval_loss) and result.get("val", "eval").acc == eval_acc
    assert result.get("train", "train").loss != pytest.approx(result.get("train", "eval").loss)
    assert any("Batch norm" in line for line in result.explanation)


def test_without_dropout_or_batch_norm_both_modes_agree() -> None:
    project = load_preset("digits-mlp")
    project.data.subset_per_class = 10
    assert not needs_modes(project)
    result = compare_modes(project)
    assert result.get("train", "train").loss == pytest.approx(result.get("train", "eval").loss, rel=1e-5)
    assert result.dropout == () and "same results" in result.explanation[0]
