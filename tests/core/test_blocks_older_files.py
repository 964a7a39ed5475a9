"""Older project files (written before blocks existed) open unchanged: the same rows, written back the same,
and the same starting weights for a seed. The file and the figures below were made by the code of the commit
before blocks landed (f6064d9^): the preset "dropout" with its first row frozen at half the learning rate."""

from __future__ import annotations

import json
from pathlib import Path

from studio.core.build import build_model
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
