"""Layer statistics: the numbers match direct computation, hooks exist only while sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from studio.core.callbacks import EventLog
from studio.core.engine import Trainer
from studio.core.events import LayerStats
from studio.core.stats import LayerStatsCollector, output_bounds
from tests.core.test_engine import blobs, mlp_project

NAMES = ("lin", "relu", "lin2", "tanh", "frozen", "sigmoid")


def network() -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 3), nn.Sigmoid())
    model[4].requires_grad_(False)
    with torch.no_grad():
        model[2].weight.mul_(20)  # drive tanh into saturation
    return model


def sampled_step(model: nn.Sequential, collector: LayerStatsCollector) -> tuple[LayerStats, list, dict, dict]:
    """One training step with statistics; also returns what is needed to check them by hand."""
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x = torch.randn(32, 4, generator=torch.Generator().manual_seed(1))
    outputs: list[torch.Tensor] = []
    for layer in model:
        x = layer(x)
        outputs.append(x.detach().clone())
    collector.begin()
    out = model(torch.randn(32, 4, generator=torch.Generator().manual_seed(1)))
    out.sum().backward()
    collector.after_backward()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    optimizer.step()
    return collector.finish(step=7, epoch=2), outputs, before, grads


def test_statistics_match_direct_computation() -> None:
    model = network()
    collector = LayerStatsCollector(model, NAMES)
    event, outputs, before, grads = sampled_step(model, collector)
    assert (event.step, event.epoch, event.names) == (7, 2, NAMES)
    means = [a.mean().item() for a in outputs]
    variances = [a.var(unbiased=False).item() for a in outputs]
    np.testing.assert_allclose(event.act_mean, means, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(event.act_var, variances, rtol=1e-3, atol=1e-6)
    assert event.frac_zero[1] == pytest.approx((outputs[1] == 0).float().mean().item())
    assert 0 < event.frac_zero[1] < 1 and event.frac_zero[0] == 0
    # Saturation only for squashing activations: tanh (|a| > 0.99) and sigmoid (within 1% of 0 or 1).
    assert event.frac_saturated[3] == pytest.approx((outputs[3].abs() > 0.99).float().mean().item())
    assert event.frac_saturated[3] > 0.3
    assert event.frac_saturated[5] == pytest.approx(((outputs[5] - 0.5).abs() > 0.495).float().mean().item())
    assert np.isnan(event.frac_saturated[[0, 1, 2, 4]]).all()
    # Gradient norm and update ratio per layer with trainable weights; NaN elsewhere (and for the frozen layer).
    for index, prefix in ((0, "0."), (2, "2.")):
        grad = torch.cat([g.flatten() for n, g in grads.items() if n.startswith(prefix)])
        old = torch.cat([w.flatten() for n, w in before.items() if n.startswith(prefix)])
        new = torch.cat([p.detach().flatten() for n, p in model.named_parameters() if n.startswith(prefix)])
        assert event.grad_norm[index] == pytest.approx(grad.norm().item(), rel=1e-5)
        assert event.update_ratio[index] == pytest.approx(((new - old).norm() / old.norm()).item(), rel=1e-4)
    assert np.isnan(event.grad_norm[[1, 3, 4, 5]]).all() and np.isnan(event.update_ratio[[1, 3, 4, 5]]).all()
    for array in (event.act_mean, event.grad_norm, event.update_ratio):
        assert isinstance(array, np.ndarray) and array.dtype == np.float64 and array.shape == (6,)


def test_hooks_record_only_sampled_steps_and_are_removed() -> None:
    model = network()
    collector = LayerStatsCollector(model, NAMES)
    collector.begin()
    assert all(len(layer._forward_hooks) == 1 for layer in model)
    model(torch.randn(2, 4)).sum().backward()
    collector.after_backward()
    assert len(collector._sums) == len(NAMES)
    model(torch.randn(2, 4))  # not sampled: the hooks return at once
    assert len(collector._sums) == len(NAMES)
    collector.begin()  # hooks are registered once
    assert all(len(layer._forward_hooks) == 1 for layer in model)
    collector.remove()
    collector.remove()  # idempotent
    assert all(not layer._forward_hooks for layer in model)


def test_output_bounds_follow_the_class_hierarchy() -> None:
    assert output_bounds(nn.Tanh()) == (-1.0, 1.0)
    assert output_bounds(nn.ReLU6()) == (0.0, 6.0)  # a Hardtanh
    assert output_bounds(nn.ReLU()) is None


def test_trainer_samples_every_n_steps_and_removes_hooks() -> None:
    log = EventLog()
    trainer = Trainer(mlp_project(epochs=2, stats_every=4), data=blobs(), callbacks=[log])
    trainer.fit()
    events = log.of_type(LayerStats)
    assert [e.step for e in events] == [4, 8, 12]
    assert [e.epoch for e in events] == [1, 2, 2]
    assert events[0].names == ("1 Linear 16", "2 ReLU", "3 Linear 3")
    assert np.isfinite(events[-1].grad_norm[[0, 2]]).all() and np.isnan(events[-1].grad_norm[1])
    assert all(not layer._forward_hooks for layer in trainer.model)


def test_an_output_overwritten_in_place_is_measured_before_the_overwrite() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True))
    collector = LayerStatsCollector(model, ("lin", "relu"))
    x = torch.randn(16, 4)
    with torch.no_grad():
        expected = model[0](x)
    collector.begin()
    model(x).sum().backward()
    collector.after_backward()
    event = collector.finish(1, 1)
    assert event.act_mean[0] == pytest.approx(expected.mean().item(), abs=1e-6)
    assert event.frac_zero[0] == 0 and event.frac_zero[1] > 0


def test_a_diverged_step_gives_nan_not_an_error() -> None:
    model = network()
    collector = LayerStatsCollector(model, NAMES)
    collector.begin()
    model(torch.full((4, 4), float("nan"))).sum().backward()
    collector.after_backward()
    event = collector.finish(1, 1)
    for values in (event.act_mean, event.act_var, event.frac_zero, event.grad_norm[[0, 2]]):
        assert np.isnan(values).all()
    assert np.isnan(event.frac_saturated).all()


def test_bf16_outputs_are_summed_in_float32() -> None:
    """Under bf16 autocast the statistics describe the bf16 outputs as exactly as float32 sums can."""
    model = nn.Sequential(nn.Linear(64, 512), nn.ReLU())
    collector = LayerStatsCollector(model, ("lin", "relu"))
    x = torch.randn(256, 64, generator=torch.Generator().manual_seed(0)) + 3.0
    collector.begin()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
    assert out.dtype == torch.bfloat16
    out.float().sum().backward()
    collector.after_backward()
    event = collector.finish(step=1, epoch=1)
    exact = out.detach().double()
    assert event.act_mean[1] == pytest.approx(exact.mean().item(), rel=1e-5)
    assert event.act_var[1] == pytest.approx(exact.var(unbiased=False).item(), rel=1e-4)
