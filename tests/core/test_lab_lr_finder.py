"""Learning-rate finder: the sweep, the suggestion rule, divergence, apply."""

from __future__ import annotations

import numpy as np
import pytest

from studio.core.errors import ConfigError
from studio.core.lab.lr_finder import apply_lr, find_lr, lr_schedule, suggest
from studio.core.presets import load_preset


def test_schedule_grows_by_a_constant_factor() -> None:
    lrs = lr_schedule(1e-5, 1.0, 6)
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], 10.0)
    assert lrs[0] == pytest.approx(1e-5) and lrs[-1] == pytest.approx(1.0)


def test_suggestion_is_the_steepest_descent_of_the_smoothed_loss() -> None:
    lrs = lr_schedule(1e-6, 1.0, 61)
    smoothed = 2.0 - np.tanh(2 * (np.log10(lrs) + 3))  # falls fastest at 1e-3
    result = suggest(lrs, smoothed, smoothed, diverged=False)
    assert result.steepest_lr == pytest.approx(1e-3, rel=0.3)
    assert result.suggested_lr == result.steepest_lr
    assert result.min_over_10 == pytest.approx(result.min_loss_lr / 10)
    flat = suggest(lrs, np.ones(61), np.ones(61), diverged=False)
    assert flat.suggested_lr is None and "never fell" in flat.message


def test_sweep_on_digits_suggests_a_sensible_rate_and_stops_when_diverging() -> None:
    project = load_preset("digits-mlp")
    project.optimizer.name, project.optimizer.params = "sgd", {"lr": 0.01}
    result = find_lr(project, start=1e-4, end=10.0, steps=80)
    assert result.diverged and len(result.losses) < 80  # the loss blew up before the end
    assert 1e-3 <= result.suggested_lr <= 3.0
    assert len(result.lrs) == len(result.losses) == len(result.smoothed)
    assert project.optimizer.params == {"lr": 0.01}  # the project is untouched


def test_apply_returns_a_copy_with_the_rate_and_rejects_nonsense() -> None:
    project = load_preset("digits-mlp")
    applied = apply_lr(project, 0.02)
    assert applied.optimizer.params["lr"] == 0.02 and project.optimizer.params["lr"] == 0.001
    with pytest.raises(ConfigError):
        apply_lr(project, -1.0)
    with pytest.raises(ConfigError, match="start < end"):
        find_lr(project, start=1.0, end=0.1)
