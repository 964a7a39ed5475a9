"""Project settings by key path (``--set KEY=VALUE``): known keys change, unknown ones are named, values are
checked like project-file values."""

from __future__ import annotations

import pytest

from studio.core.errors import ConfigError
from studio.core.keypath import apply_settings, format_path, parse_assignment, parse_path, set_value
from studio.core.presets import load_preset
from studio.core.project import LayerSpec


def test_paths_parse_and_print_back() -> None:
    assert parse_path("model.layers[2].params.p") == ("model", "layers", 2, "params", "p")
    assert format_path(("model", "layers", 2, "params", "p")) == "model.layers[2].params.p"
    assert parse_path("optimizer.params.lr") == ("optimizer", "params", "lr")
    for bad in ("model..init", "layers[x]", "", "a.b[2"):
        with pytest.raises(ConfigError):
            parse_path(bad)


def test_values_are_json_or_text() -> None:
    assert parse_assignment("optimizer.params.lr=0.01") == ("optimizer.params.lr", 0.01)
    assert parse_assignment("model.init=zeros") == ("model.init", "zeros")
    assert parse_assignment("training.target_loss=null") == ("training.target_loss", None)
    assert parse_assignment("x.weight=[[0, 1]]") == ("x.weight", [[0, 1]])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_assignment("optimizer.params.lr")


def test_known_keys_change_a_copy() -> None:
    project = load_preset("digits-mlp")
    changed = apply_settings(project, ["optimizer.params.lr=0.05", "training.epochs=3", "model.layers[0].lr_mult=0.5"])
    assert changed.optimizer.params["lr"] == 0.05 and changed.training.epochs == 3
    assert changed.model.layers[0].lr_mult == 0.5
    assert project.training.epochs != 3  # the original is untouched


def test_registry_settings_missing_from_the_file_can_be_set() -> None:
    project = load_preset("perceptron")
    assert "momentum" not in project.optimizer.params
    assert set_value(project, "optimizer.params.momentum", 0.9).optimizer.params["momentum"] == 0.9
    changed = apply_settings(project, ["optimizer.name=adam", "optimizer.params.beta1=0.5"])  # in order
    assert changed.optimizer.name == "adam" and changed.optimizer.params["beta1"] == 0.5
    zero = set_value(project, "model.layers[1].params.zero", 0)
    assert zero.model.layers[1].params["zero"] == 0


@pytest.mark.parametrize(("key", "words"), [
    ("optimizer.params.lrr", "unknown setting 'optimizer.params.lrr': optimizer sgd has the settings lr,"),
    ("trainng.epochs", "unknown setting 'trainng.epochs': the project has no trainng"),
    ("model.layers[5].params.p", "model.layers has 2 entries (counted from 0), so there is no [5]"),
    ("model.layers[1].params.p", "layer Sign has the settings zero"),
    ("training.epochs.x", "the project has no training.epochs.x"),
    ("model.layers[0].init_params.gain", "init values has the settings weight, bias"),
])
def test_unknown_keys_are_named(key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        set_value(load_preset("perceptron"), key, 1)
    assert words in str(info.value) and info.value.field == key


@pytest.mark.parametrize(("key", "value", "words"), [
    ("optimizer.params.lr", -1, "learning rate must be at least"),
    ("model.layers[1].params.zero", 2, "sign of 0 must be at most 1"),
    ("data.params.rows", 3, "rows must be text"),
])
def test_values_are_checked_like_file_values(key: str, value: object, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        set_value(load_preset("perceptron"), key, value)


def test_rows_inside_blocks_are_reached_by_their_path() -> None:
    project = load_preset("perceptron")
    project.model.layers = [LayerSpec("Repeat", {"times": 2}, layers=[LayerSpec("Linear", {"out_features": 4}),
                                                                     LayerSpec("ReLU")]),
                            LayerSpec("Linear", {"out_features": 1}), LayerSpec("Sign")]
    deeper = apply_settings(project, ["model.layers[0].params.times=8", "model.layers[0].layers[0].params.bias=false",
                                      "model.layers[0].layers[1].type=Tanh"])
    block = deeper.model.layers[0]
    assert block.params["times"] == 8 and block.layers[0].params["bias"] is False and block.layers[1].type == "Tanh"
    with pytest.raises(ConfigError, match="layer Linear has the settings out_features, bias"):
        set_value(project, "model.layers[0].layers[0].params.p", 0.5)
