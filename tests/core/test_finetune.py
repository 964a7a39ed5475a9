"""Fine-tuning: position-and-shape matching with a readable report, new output layer, freezing, lr ramp."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from studio.core.build import build_model, layer_label
from studio.core.checkpoint import ModelInfo, save_checkpoint
from studio.core.errors import ConfigError
from studio.core.finetune import (
    freeze_layers,
    layerwise_lr,
    load_pretrained,
    output_layer_index,
    replace_output_layer,
)
from studio.core.optim import build_model_optimizer
from studio.core.project import Choice, LayerSpec, ModelSpec, Project


def _spec(n_classes: int = 10, dropout: bool = False) -> ModelSpec:
    layers = [LayerSpec("Linear", {"out_features": 16}), LayerSpec("ReLU")]
    if dropout:
        layers.append(LayerSpec("Dropout", {"p": 0.1}))
    layers += [LayerSpec("Linear", {"out_features": 8}), LayerSpec("Tanh"),
               LayerSpec("Linear", {"out_features": n_classes})]
    return ModelSpec(layers=layers)


def _labels(spec: ModelSpec) -> list[str]:
    return [layer_label(layer, i) for i, layer in enumerate(spec.layers)]


def test_new_output_layer_loads_everything_but_the_head(tmp_path: Path) -> None:
    old = build_model(_spec(10), (64,), seed=1)
    save_file(old.state_dict(), str(tmp_path / "old.safetensors"))
    spec = replace_output_layer(_spec(10), 3)
    assert spec.layers[-1].params["out_features"] == 3
    new = build_model(spec, (64,), seed=2)
    fresh_head = new[4].weight.detach().clone()

    report = load_pretrained(new, tmp_path / "old.safetensors", names=_labels(spec))

    assert len(report.loaded) == 2 and len(report.skipped) == 1
    name, reason = report.skipped[0]
    assert name.startswith("5 Linear") and "weight shape 10×8 in the source, 3×8 here" in reason
    assert torch.equal(new[0].weight, old[0].weight) and torch.equal(new[2].bias, old[2].bias)
    assert torch.equal(new[4].weight, fresh_head)
    text = report.summary()
    assert "2 of 3 layers" in text and "not loaded" in text and "old.safetensors" in text


def test_matching_is_by_position_among_weighted_layers() -> None:
    old = build_model(_spec(10), (64,), seed=1)
    new = build_model(_spec(10, dropout=True), (64,), seed=2)  # a Dropout shifts module indices
    report = load_pretrained(new, old)
    assert len(report.loaded) == 3 and not report.skipped
    assert torch.equal(new[3].weight, old[2].weight)
    assert torch.allclose(new.eval()(torch.ones(2, 64)), old.eval()(torch.ones(2, 64)))


def test_exclude_keeps_fresh_weights_and_extra_source_layers_are_reported() -> None:
    old = build_model(_spec(10), (64,), seed=1)
    spec = ModelSpec(layers=[LayerSpec("Linear", {"out_features": 16}), LayerSpec("ReLU"),
                             LayerSpec("Linear", {"out_features": 8})])
    new = build_model(spec, (64,), seed=2)
    report = load_pretrained(new, old.state_dict(), exclude=[2])
    assert report.loaded == ["0 Linear"]
    assert report.skipped == [("2 Linear", "kept its new weights (excluded)")]
    assert report.unused == ["2", "4"]


def test_source_without_matching_layers_loads_nothing() -> None:
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3))
    new = build_model(_spec(10), (64,), seed=0)
    report = load_pretrained(new, conv)
    assert report.loaded == []
    assert "different kinds of weights" in report.skipped[0][1] or "shape" in report.skipped[0][1]
    assert "no more layers" in report.skipped[1][1]


def test_freeze_and_layerwise_lr_reach_the_optimizer() -> None:
    spec = _spec(10)
    freeze_layers(spec, [0])
    layerwise_lr(spec, first=0.01)
    assert spec.layers[0].frozen and spec.layers[0].lr_mult == pytest.approx(0.01)
    assert spec.layers[-1].lr_mult == 1.0
    assert spec.layers[0].lr_mult < spec.layers[2].lr_mult < spec.layers[4].lr_mult
    model = build_model(spec, (64,), seed=0)
    optimizer = build_model_optimizer(Choice("sgd", {"lr": 0.1}), model, spec.layers)
    by_layer = {group["layer"]: group["lr"] for group in optimizer.param_groups}
    assert 0 not in by_layer  # frozen: left out
    assert by_layer[4] == pytest.approx(0.1) and by_layer[2] < by_layer[4]


def test_replace_output_layer_errors_and_does_not_touch_the_original() -> None:
    spec = _spec(10)
    replace_output_layer(spec, 2)
    assert spec.layers[-1].params["out_features"] == 10
    assert output_layer_index(spec) == 4
    with pytest.raises(ConfigError, match="no Linear layer"):
        replace_output_layer(ModelSpec(layers=[LayerSpec("ReLU")]), 2)
    with pytest.raises(ConfigError, match="at least 1"):
        replace_output_layer(spec, 0)


def test_loads_from_a_checkpoint_file_and_a_folder(tmp_path: Path) -> None:
    old = build_model(_spec(10), (64,), seed=1)
    state = {"model": old.state_dict(), "epoch": 2, "step": 8, "history": []}
    path = save_checkpoint(tmp_path / "run" / "epoch-0002.ckpt", Project(model=_spec(10)), state, ModelInfo((64,)))
    for source in (path, tmp_path / "run"):
        new = build_model(_spec(10), (64,), seed=2)
        report = load_pretrained(new, source)
        assert len(report.loaded) == 3 and not report.skipped
        assert torch.equal(new[4].weight, old[4].weight)
