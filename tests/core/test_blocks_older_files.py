"""Project files and blocks. Older project files (written before blocks existed) open unchanged: the same
rows, written back the same, and the same starting weights for a seed (the file and the figures below were
made by the code of the commit before blocks landed, f6064d9^: the preset "dropout" with its first row
frozen at half the learning rate). A bad setting inside a block is named by its place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.core.build import build_model
from studio.core.errors import InvalidProjectError
from studio.core.project import load_project, save_project

OLD_MODEL = json.loads("""{"layers": [
 {"type": "Linear", "params": {"out_features": 512}, "init": null, "frozen": true, "lr_mult": 0.5, "init_params": {}},
 {"type": "ReLU", "params": {}, "init": null, "frozen": false, "lr_mult": 1.0, "init_params": {}},
 {"type": "Dropout", "params": {"p": 0.5}, "init": null, "frozen": false, "lr_mult": 1.0, "init_params": {}},
 {"type": "Linear", "params": {"out_features": 512}, "init": null, "frozen": false, "lr_mult": 1.0, "init_params": {}},
 {"type": "ReLU", "params": {}, "init": null, "frozen": false, "lr_mult": 1.0, "init_params": {}},
 {"type": "Dropout", "params": {"p": 0.5}, "init": null, "frozen": false, "lr_mult": 1.0, "init_params": {}},
 {"type": "Linear", "params": {"out_features": 10}, "init": null, "frozen": false, "lr_mult": 1.0, "init_params": {}}],
 "init": "kaiming_normal", "init_params": {"nonlinearity": "relu", "mode": "fan_in"}, "bias_init": "zeros",
 "bias_init_params": {}}""")
# build_model(model, (64,), seed=3) before blocks: state-dict keys, sum and sum of magnitudes of every value.
OLD_KEYS = ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"]
OLD_SUM, OLD_ABS_SUM = -29.84867382573293, 17946.98048871904


def test_a_file_from_before_blocks_opens_and_saves_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"schema_version": 1, "name": "old", "model": OLD_MODEL}), encoding="utf-8")
    project = load_project(path)
    assert all(not row.layers for row in project.model.layers)
    save_project(tmp_path / "again.json", project)
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))["model"] == OLD_MODEL
    state = build_model(project.model, (64,), seed=3).state_dict()
    assert list(state) == OLD_KEYS
    total = sum(float(v.double().sum()) for v in state.values())
    magnitude = sum(float(v.double().abs().sum()) for v in state.values())
    assert abs(total - OLD_SUM) < 1e-9 and abs(magnitude - OLD_ABS_SUM) < 1e-6


def test_a_bad_setting_inside_a_block_is_named_by_its_place_in_the_file(tmp_path: Path) -> None:
    row = {"type": "Linear", "params": {"out_features": "many"}}
    block = {"type": "Residual", "params": {"projection": "auto"}, "layers": [row, {"type": "ReLU", "params": {}}]}
    model = {"layers": [{"type": "Linear", "params": {"out_features": 8}}, block]}
    path = tmp_path / "nested.json"
    path.write_text(json.dumps({"schema_version": 1, "name": "nested", "model": model}), encoding="utf-8")
    with pytest.raises(InvalidProjectError) as caught:
        load_project(path)
    assert caught.value.field == "model.layers[1].layers[0].params.out_features"
    assert ("model.layers[1].layers[0].params.out_features (block 2 › row 1, Linear) must be a whole number"
            in str(caught.value))
