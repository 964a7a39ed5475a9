"""Paired comparison: each variation changes exactly one setting; runs are seeded like a plain run; summaries."""

from __future__ import annotations

import pytest

from studio.core.engine import Trainer
from studio.core.errors import ConfigError
from studio.core.lab.compare import compare
from studio.core.lab.variations import VARIATIONS, UnchangedError, vary
from studio.core.presets import load_preset
from studio.core.project import Project


def _tiny() -> Project:
    project = load_preset("digits-mlp")
    project.data.subset_per_class = 8
    project.training.epochs = 2
    return project


def _changed_paths(a: dict, b: dict, prefix: str = "") -> set[str]:
    """Top-level-ish paths whose values differ (layers compared as a whole)."""
    paths = set()
    for key in a.keys() | b.keys():
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            paths |= _changed_paths(va, vb, f"{prefix}{key}.")
        elif va != vb:
            paths.add(prefix + key)
    return paths


@pytest.mark.parametrize(("setting", "expected"), [
    ("init", {"model.init", "model.init_params"}),
    ("optimizer", {"optimizer.name", "optimizer.params"}),
    ("lr", {"optimizer.params.lr"}),
    ("batch_size", {"training.batch_size"}),
    ("batchnorm", {"model.layers"}),
    ("dropout", {"model.layers"}),
    ("l2", {"optimizer.params.weight_decay"}),
    ("depth", {"model.layers"}),
    ("preprocessing", {"data.preprocessing"}),
])
def test_each_variation_changes_exactly_one_setting(setting: str, expected: set[str]) -> None:
    project = _tiny()
    original = project.to_dict()
    variant = vary(project, setting)
    assert project.to_dict() == original  # the original is never modified
    changed = _changed_paths(original, variant.project.to_dict())
    assert changed and all(any(path == e or path.startswith(e + ".") for e in expected) for path in changed)
    assert variant.before != variant.after and variant.label in variant.description


def test_layer_variations_insert_and_remove_the_right_rows() -> None:
    project = _tiny()
    types = lambda p: [s.type for s in p.model.layers]  # noqa: E731
    on = vary(project, "batchnorm").project
    assert types(on) == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert types(vary(on, "batchnorm").project) == types(project)
    dropped = vary(project, "dropout", 0.2).project
    assert types(dropped) == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert {s.params["p"] for s in dropped.model.layers if s.type == "Dropout"} == {0.2}
    assert types(vary(dropped, "dropout", "off").project) == types(project)
    assert len(vary(project, "depth", 2).project.model.layers) == 9
    assert types(vary(project, "depth", -2).project) == ["Linear"]
    with pytest.raises(ConfigError, match="only 2 hidden"):
        vary(project, "depth", -3)
    with pytest.raises(UnchangedError):
        vary(project, "lr", 0.001)
    with pytest.raises(ConfigError, match="unknown variation"):
        vary(project, "colour")
    assert set(VARIATIONS.names()) >= {"init", "optimizer", "lr", "batch_size", "batchnorm", "dropout", "l2", "depth"}


def test_pair_runs_are_seeded_like_a_plain_run_and_summarised() -> None:
    project = _tiny()
    tags: set[str] = set()
    result = compare(project, "lr", "0.01", on_event=lambda tag, event: tags.add(tag))
    plain = Trainer(project).fit()
    assert result.a.final.train_loss == plain.history[-1].train_loss  # A is exactly the project's own run
    assert result.b.project.optimizer.params["lr"] == 0.01
    assert tags == {"A", "B"}
    assert set(result.differences) == {"train_loss", "val_loss", "train_acc", "val_acc"}
    assert result.differences["val_acc"] == pytest.approx(result.b.final.val_acc - result.a.final.val_acc)
    assert "Learning rate: 0.001 → 0.01" in result.summary[0]
    assert any(line.startswith("Final validation accuracy") for line in result.summary)


def test_stop_during_a_skips_b() -> None:
    result = compare(_tiny(), "l2", stop=lambda: True)
    assert result.a.reason == "stopped" and result.b.final is None and "B finished no epoch" in " ".join(
        result.summary)
