"""Initialisation probe: the classic numbers (collapse, saturation, Xavier halving, He steady), symmetry, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import studio.core.lab  # noqa: F401  (registers the lab's dataset)
from studio.core.data import prepare_data
from studio.core.errors import ConfigError
from studio.core.lab.probe import probe_init, ratios, resolve_scheme
from studio.core.presets import load_preset


@pytest.fixture(scope="module")
def tanh_probe():
    project = load_preset("init-tanh-deep")
    return probe_init(project, data=prepare_data(project.data))


@pytest.fixture(scope="module")
def relu_probe():
    project = load_preset("init-relu-deep")
    return probe_init(project, data=prepare_data(project.data))


def _rows(result, kind: str) -> list[int]:
    return [i for i, t in enumerate(result.layer_types) if t == kind]


def test_small_random_collapses_and_normal_saturates_tanh(tanh_probe) -> None:
    tanh = _rows(tanh_probe, "Tanh")
    assert len(tanh) == 10
    small = tanh_probe.get("small_random")
    assert np.all(ratios(small.act_std[tanh]) < 0.5)  # shrinks layer by layer
    assert small.act_std[tanh[-1]] < 1e-6
    normal = tanh_probe.get("normal")
    assert np.all(normal.frac_saturated[tanh[1:]] > 0.8)  # stuck at ±1
    xavier = tanh_probe.get("xavier")
    assert np.all(xavier.act_std[tanh] > 0.1) and np.all(xavier.frac_saturated[tanh] < 0.05)


def test_xavier_halves_relu_mean_square_per_layer_and_he_keeps_it(relu_probe) -> None:
    relu = _rows(relu_probe, "ReLU")
    he = relu_probe.get("he").act_mean_square[relu]
    assert he.max() / he.min() < 3.0  # within a small factor across all 10 layers
    xavier = ratios(relu_probe.get("xavier").act_mean_square[relu])
    assert np.all((xavier > 0.35) & (xavier < 0.7))
    assert np.exp(np.log(xavier).mean()) == pytest.approx(0.5, abs=0.08)


def test_zero_init_is_a_symmetry_failure(relu_probe) -> None:
    zeros = relu_probe.get("zeros")
    assert zeros.symmetry_failure and 0 in zeros.symmetric_rows
    assert "Symmetry failure" in zeros.warnings[0]
    assert not relu_probe.get("he").symmetry_failure
    assert zeros.hist_counts.shape == (len(relu_probe.layer_names), 30)
    assert zeros.hist_edges.shape == (len(relu_probe.layer_names), 31)


def test_deep_linear_outputs_and_gradients_grow_by_the_weight_per_layer() -> None:
    project = load_preset("deep-linear-exploding")
    project.training.batch_size = 16
    before = torch.get_rng_state()
    result = probe_init(project, ["constant:value=2", "constant:value=0.5"])
    assert torch.equal(before, torch.get_rng_state())  # global random state untouched
    grow, shrink = result.get("constant:value=2"), result.get("constant:value=0.5")
    np.testing.assert_allclose(ratios(grow.act_mean_square), 4.0, rtol=1e-3)
    np.testing.assert_allclose(ratios(shrink.act_mean_square), 0.25, rtol=1e-3)
    # the gradient reaching a layer's output doubles (halves) at every layer on the way back
    np.testing.assert_allclose(ratios(grow.act_grad_norm), 0.5, rtol=1e-3)
    np.testing.assert_allclose(ratios(shrink.act_grad_norm), 2.0, rtol=1e-3)


def test_scheme_errors_are_config_errors() -> None:
    assert resolve_scheme("he").init == "kaiming_normal"
    assert resolve_scheme("orthogonal:gain=2").params == {"gain": 2}
    with pytest.raises(ConfigError, match="unknown initialisation"):
        resolve_scheme("bogus")
    with pytest.raises(ConfigError, match="value"):
        resolve_scheme("constant:value=99")
    with pytest.raises(ConfigError, match="at least one"):
        probe_init(load_preset("perceptron"), [])


def test_stop_returns_the_schemes_done_so_far() -> None:
    calls = iter([False, True])
    result = probe_init(load_preset("perceptron"), ["zeros", "he"], batch_size=4, stop=lambda: next(calls))
    assert [p.scheme.label for p in result.schemes] == ["zeros"]
