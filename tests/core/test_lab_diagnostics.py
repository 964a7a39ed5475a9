"""Diagnostics: every rule fires on a run made to show it, once, with evidence and an action."""

from __future__ import annotations

import pytest

from studio.core.engine import Trainer
from studio.core.lab.diagnostics import RULES, Diagnostics, Hint
from studio.core.presets import load_preset
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec


def _digits(**training) -> Project:
    project = load_preset("digits-mlp")
    project.data.subset_per_class = 20
    project.training = TrainingSpec(**{"epochs": 3, "batch_size": 32, "stats_every": 2, **training})
    return project


def _hints(project: Project, log_every: int = 2) -> dict[str, list[Hint]]:
    received: list[Hint] = []
    diagnostics = Diagnostics(on_hint=received.append)
    Trainer(project, callbacks=[diagnostics], log_every=log_every).fit()
    assert received == diagnostics.hints
    keys = [(h.rule, h.layer) for h in received]
    assert len(keys) == len(set(keys))  # each rule fires once per layer
    by_rule: dict[str, list[Hint]] = {}
    for hint in received:
        assert hint.message and hint.evidence and hint.action and hint.severity in ("info", "warning", "error")
        by_rule.setdefault(hint.rule, []).append(hint)
    return by_rule


def _deep(preset: str, init: str) -> Project:
    project = load_preset(preset)
    project.model.init, project.model.init_params = init, {}
    project.data.subset_per_class = 10
    project.training = TrainingSpec(epochs=1, batch_size=32, stats_every=1)
    return project


def test_non_finite_loss() -> None:
    project = _digits()
    project.optimizer = Choice("sgd", {"lr": 10.0})
    project.model.layers.insert(1, LayerSpec("Linear", {"out_features": 128}))
    hint = _hints(project)["non_finite"][0]
    assert hint.severity == "error" and "learning rate" in hint.action


def test_rising_loss() -> None:
    project = Project(model=ModelSpec([LayerSpec("Linear", {"out_features": 1})]),
                      data=DataSpec("sine", {"n_samples": 200}), optimizer=Choice("sgd", {"lr": 1.2}),
                      loss=Choice("mse"), training=TrainingSpec(epochs=2, batch_size=20, stats_every=0))
    hints = _hints(project, log_every=1)
    assert "too high" in hints["loss_rising"][0].message and "loss_flat" not in hints


def test_flat_loss_and_tiny_updates() -> None:
    project = _digits()
    project.optimizer = Choice("sgd", {"lr": 1e-6})
    hints = _hints(project)
    assert "too low" in hints["loss_flat"][0].message
    assert all("Raise" in h.action for h in hints["update_ratio"])


def test_overfitting_marks_the_best_epoch() -> None:
    project = _digits(epochs=30, stats_every=0)
    project.data.subset_per_class = 15
    hint = _hints(project, log_every=10)["overfitting"][0]
    assert hint.best_epoch is not None and 1 <= hint.best_epoch <= hint.epoch
    assert f"epoch {hint.best_epoch}" in hint.action


def test_underfitting() -> None:
    project = Project(model=ModelSpec([LayerSpec("Linear", {"out_features": 2})]),
                      data=DataSpec("xor", {"n_samples": 300}), training=TrainingSpec(epochs=5, stats_every=0))
    assert "underfitting" in _hints(project)["underfitting"][0].message


@pytest.mark.parametrize(("preset", "init", "word"), [("init-tanh-deep", "small_random", "collapses"),
                                                      ("init-relu-deep", "normal", "explodes")])
def test_activation_variance_across_depth(preset: str, init: str, word: str) -> None:
    hint = _hints(_deep(preset, init))["activation_scale"][0]
    assert word in hint.message and "batch norm" in hint.action


def test_dead_relus() -> None:
    project = _digits(epochs=2)
    project.optimizer = Choice("adam", {"lr": 0.05})
    project.data.subset_per_class = None
    hint = _hints(project, log_every=10)["dead_relu"][0]
    assert project.model.layers[hint.layer].type == "ReLU" and "never active" in hint.evidence


def test_a_healthy_run_raises_no_warning_and_rules_can_be_chosen() -> None:
    hints = _hints(_digits())
    assert not {"non_finite", "loss_rising", "loss_flat", "overfitting", "dead_relu", "activation_scale"} & set(hints)
    only = Diagnostics(rules=["loss_flat"])
    assert [rule.name for rule in only.rules] == ["loss_flat"]
    assert set(RULES.names()) == {"non_finite", "loss_rising", "loss_flat", "overfitting", "underfitting",
                                  "activation_scale", "dead_relu", "update_ratio"}


def test_update_ratio_median_skips_missing_samples() -> None:
    import numpy as np

    from studio.core.events import LayerStats
    from studio.core.lab.diagnostics import Watch

    def stats(step: int, ratio: list[float], epoch: int = 2) -> LayerStats:
        a = np.zeros(2)
        return LayerStats(step, epoch, ("1 Linear", "2 Linear"), a, a, a, a, a, np.array(ratio))

    rule = RULES.get("update_ratio")
    gaps = Watch(names := ("Linear", "Linear"), names, 1,
                 stats=[stats(1, [1e-6, 1e-3]), stats(2, [np.nan, 1e-3]), stats(3, [1e-6, 1e-3])])
    assert [h.layer for h in rule.check(gaps)] == [0]  # layer 0: the median of its two measured samples is tiny
    tiny = Watch(names, names, 1, stats=[stats(1, [1e-6, 1e-3]), stats(2, [1e-6, 1e-3]), stats(3, [1e-2, 1e-3])])
    assert [h.layer for h in rule.check(tiny)] == [0]  # no NaN: the plain median
    warming_up = Watch(names, names, 1, stats=[stats(i, [1e-6, 1.0], epoch=1) for i in (1, 2, 3)])
    assert rule.check(warming_up) == []  # the first epoch's ratios are not judged


def test_the_default_project_trains_without_a_hint() -> None:
    """A learner's first run is healthy (97% in 20 epochs): no hint may say otherwise."""
    diagnostics = Diagnostics()
    Trainer(load_preset("digits-mlp"), callbacks=[diagnostics]).fit()
    assert diagnostics.hints == []


def test_batch_losses_keep_constant_memory_and_the_first_bad_loss() -> None:
    from studio.core.lab.diagnostics import ENDS, BatchLosses

    losses = BatchLosses()
    for i in range(10_000):
        losses.add(float("nan") if i in (500, 700) else 1.0 + i)
    assert (losses.first, losses.finite) == (1.0, 9_998)
    assert losses.head == [1.0, 2.0, 3.0] and list(losses.tail) == [9_998.0, 9_999.0, 10_000.0]
    assert len(losses.tail) == ENDS and losses.bad != losses.bad  # the NaN itself


def test_dead_unit_probe_keeps_to_its_share_of_training_time() -> None:
    import time

    from studio.core.lab.diagnostics import PROBE_SHARE

    diagnostics = Diagnostics()
    diagnostics._probe_cost = 0.010  # a 10 ms probe...
    diagnostics._probed_at = time.perf_counter() - 0.1  # ...100 ms ago: too soon
    assert not diagnostics._probe_due()
    diagnostics._probed_at = time.perf_counter() - 0.011 / PROBE_SHARE
    assert diagnostics._probe_due()
