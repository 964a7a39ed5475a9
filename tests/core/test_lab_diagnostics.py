"""Diagnostics: every rule fires on a run made to show it, once, with the numbers that triggered it and an action;
no rule gives advice that the run's other findings contradict, and the healthy default run gets none."""

from __future__ import annotations

import pytest

from studio.core.engine import Trainer
from studio.core.events import EpochEnd
from studio.core.lab.diagnostics import RULES, Diagnostics, Hint, Watch
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
        assert any(c.isdigit() for c in hint.evidence), hint  # the evidence is the numbers, not a restatement
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


def _raises_lr(hints: dict[str, list[Hint]]) -> list[Hint]:
    return [h for found in hints.values() for h in found if "raise the learning rate" in h.action.lower()]


def test_rising_loss() -> None:
    project = Project(model=ModelSpec([LayerSpec("Linear", {"out_features": 1})]),
                      data=DataSpec("sine", {"n_samples": 200}), optimizer=Choice("sgd", {"lr": 1.2}),
                      loss=Choice("mse"), training=TrainingSpec(epochs=2, batch_size=20, stats_every=0))
    hints = _hints(project, log_every=1)
    assert "too high" in hints["loss_rising"][0].message and "loss_flat" not in hints


def test_adam_at_learning_rate_10_is_too_high_and_never_raise() -> None:
    """The issue's run: chance accuracy and dead ReLUs. The loss jumped from the untrained network's 2.3 to about
    a million in the first steps, then sat at chance level: "raise the learning rate" would be the opposite."""
    project = load_preset("digits-mlp")
    project.optimizer = Choice("adam", {"lr": 10.0})
    project.training.epochs = 5
    hints = _hints(project, log_every=10)
    rising = hints["loss_rising"][0]
    assert "too high" in rising.message and "before training" in rising.evidence and "Lower" in rising.action
    assert "dead_relu" in hints
    assert _raises_lr(hints) == [] and not {"loss_flat", "underfitting", "update_ratio"} & set(hints)


def test_flat_loss_and_tiny_updates() -> None:
    project = _digits()
    project.optimizer = Choice("sgd", {"lr": 1e-6})
    hints = _hints(project)
    assert "too low" in hints["loss_flat"][0].message and "Raise" in hints["loss_flat"][0].action
    assert all("Raise" in h.action for h in hints["update_ratio"])


def test_overfitting_marks_the_best_epoch() -> None:
    project = _digits(epochs=30, stats_every=0)
    project.data.subset_per_class = 15
    hint = _hints(project, log_every=10)["overfitting"][0]
    assert hint.best_epoch is not None and 1 <= hint.best_epoch <= hint.epoch
    assert f"epoch {hint.best_epoch}" in hint.action


def test_overfitting_when_validation_loss_rises_while_training_loss_falls() -> None:
    """A regression run has no accuracy at all: only the losses can show it (the old rule never fired here)."""
    tanh = [LayerSpec("Linear", {"out_features": 128}), LayerSpec("Tanh")]
    project = Project(model=ModelSpec([*tanh, *tanh, LayerSpec("Linear", {"out_features": 1})]),
                      data=DataSpec("sine", {"n_samples": 30, "noise": 0.5}, val_fraction=0.5),
                      optimizer=Choice("adam", {"lr": 0.003}), loss=Choice("mse"),
                      training=TrainingSpec(epochs=40, batch_size=30, stats_every=0))
    hint = _hints(project)["overfitting"][0]
    assert "validation loss" in hint.evidence and "training loss fell" in hint.evidence and hint.best_epoch


def _epochs(train: list[float], val: list[float], acc: tuple[float, float] = (0.9, 0.89)) -> Watch:
    pairs = enumerate(zip(train, val, strict=True))
    return Watch(epochs=[EpochEnd(i + 1, t, acc[0], v, acc[1], 1.0, 1e-3, 1.0) for i, (t, v) in pairs])


def test_the_overfitting_rule_reads_the_losses() -> None:
    rule = RULES.get("overfitting")
    rising = _epochs([1.0, 0.8, 0.6, 0.5, 0.4, 0.3], [1.0, 0.7, 0.9, 0.95, 1.0, 1.1])  # accuracies 1 point apart
    (hint,) = rule.check(rising)
    assert hint.best_epoch == 2 and "0.7 in epoch 2" in hint.evidence and "fell from 0.8 to 0.3" in hint.evidence
    assert rule.check(_epochs([1.0, 0.8, 0.9, 1.0, 1.1, 1.2], [1.0, 0.7, 0.9, 0.95, 1.0, 1.1])) == []  # train rises too
    assert rule.check(_epochs([1.0, 0.8, 0.6, 0.5, 0.4, 0.3], [1.0, 0.7, 0.9, 0.75, 1.0, 1.1])) == []  # not sustained
    assert rule.check(_epochs([1.0, 0.8, 0.6, 0.5, 0.4, 0.3], [1.0, 0.7, 0.72, 0.75, 0.74, 0.76])) == []  # within 20%


def test_underfitting() -> None:
    project = Project(model=ModelSpec([LayerSpec("Linear", {"out_features": 2})]),
                      data=DataSpec("xor", {"n_samples": 300}), training=TrainingSpec(epochs=5, stats_every=0))
    assert "underfitting" in _hints(project)["underfitting"][0].message


@pytest.mark.parametrize(("preset", "init", "word"), [("init-tanh-deep", "small_random", "collapses"),
                                                      ("init-relu-deep", "normal", "explodes")])
def test_activation_variance_across_depth(preset: str, init: str, word: str) -> None:
    hints = _hints(_deep(preset, init))
    hint = hints["activation_scale"][0]
    assert word in hint.message and "batch norm" in hint.action and "before training" in hint.evidence
    assert hint.epoch is None and _raises_lr(hints) == []
    if word == "explodes":  # the NaN that follows is the initialisation's fault, not the learning rate's
        assert "initialisation" in hints["non_finite"][0].action


def _stack(activation: str, width: int, depth: int, init: str) -> Project:
    project = _digits(epochs=2, stats_every=1)
    project.data.subset_per_class = 10
    hidden = [LayerSpec("Linear", {"out_features": width}), LayerSpec(activation)]
    project.model.layers = [*hidden * depth, LayerSpec("Linear", {"out_features": 10})]
    project.model.init, project.model.init_params = init, {}
    return project


def test_vanishing_gradient() -> None:
    """Six tanh layers from weights of 0.01: each layer shrinks the gradient about 12× on the way back."""
    hints = _hints(_stack("Tanh", 64, 6, "small_random"))
    hint = hints["vanishing_gradient"][0]
    assert hint.layer == 0 and "gradient norm" in hint.evidence and "Xavier" in hint.action
    assert _raises_lr(hints) == []  # the loss is flat, but a higher rate would not reach the first layers


def test_saturation() -> None:
    """N(0, 1) weights into 128 tanh units: pre-activations of about ±10, outputs at ±1."""
    hints = _hints(_stack("Tanh", 128, 3, "normal"))
    (hint,) = hints["saturation"]
    assert hint.layer == 1 and "within 1% of their bounds" in hint.evidence and "more layer" in hint.evidence
    assert _raises_lr(hints) == []


def test_dead_relus() -> None:
    project = _digits(epochs=2)
    project.optimizer = Choice("adam", {"lr": 0.05})
    project.data.subset_per_class = None
    hint = _hints(project, log_every=10)["dead_relu"][0]
    assert project.model.layers[hint.layer].type == "ReLU" and "never active" in hint.evidence


def test_a_healthy_run_raises_no_warning_and_rules_can_be_chosen() -> None:
    hints = _hints(_digits())
    assert not {"non_finite", "loss_rising", "loss_flat", "overfitting", "dead_relu", "activation_scale",
                "vanishing_gradient", "saturation"} & set(hints)
    only = Diagnostics(rules=["loss_flat"])
    assert [rule.name for rule in only.rules] == ["loss_flat"]
    assert set(RULES.names()) == {"non_finite", "loss_rising", "loss_flat", "overfitting", "underfitting",
                                  "activation_scale", "vanishing_gradient", "saturation", "dead_relu",
                                  "update_ratio"}


def test_a_finding_outranks_advice_of_the_same_moment_whatever_the_order() -> None:
    watch = Watch(("Linear",), ("1 Linear",), 3)
    watch.epochs = [EpochEnd(1, 2.3, 0.1, 2.3, 0.1, 1.0, 1e-3, 1.0), EpochEnd(2, 2.3, 0.1, 2.3, 0.1, 1.0, 1e-3, 1.0)]
    watch.start_loss = 2.3
    for names in (["loss_flat", "loss_rising"], ["loss_rising", "loss_flat"]):
        diagnostics = Diagnostics(rules=names)
        diagnostics.watch = watch
        watch.fired.clear()
        watch.losses.peak = 50.0  # the loss had blown up before it settled at chance level
        diagnostics._run("epoch")
        assert [h.rule for h in diagnostics.hints] == ["loss_rising"]


def test_update_ratio_median_skips_missing_samples() -> None:
    import numpy as np

    from studio.core.events import LayerStats

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
    """A learner's first run is healthy (97% in 20 epochs): no hint may say otherwise; trained on to 50 epochs
    (converged: training loss 1e-4), its small steps are not a learning rate too low."""
    diagnostics = Diagnostics()
    Trainer(load_preset("digits-mlp"), callbacks=[diagnostics]).fit()
    assert diagnostics.hints == []
    project = load_preset("digits-mlp")
    project.training.epochs = 50
    converged = Diagnostics()
    Trainer(project, callbacks=[converged]).fit()
    assert [h for h in converged.hints if "raise" in h.action.lower()] == []


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
