"""Schedule registry: learning-rate trajectories, per-group rates, exact resume, errors."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler

from studio.core.errors import ConfigError
from studio.core.optim import SCHEDULES, Schedule, build_optimizer, build_schedule, current_lr, parse_milestones
from studio.core.project import Choice

NAMES = ["none", "step", "multistep", "exponential", "cosine", "one_cycle", "reduce_on_plateau", "warmup"]
TORCH_CLASSES = {
    "step": lr_scheduler.StepLR,
    "multistep": lr_scheduler.MultiStepLR,
    "cosine": lr_scheduler.CosineAnnealingLR,
    "one_cycle": lr_scheduler.OneCycleLR,
    "reduce_on_plateau": lr_scheduler.ReduceLROnPlateau,
}
# Defaults deliberately different from PyTorch's; each must explain itself in its help text.
FRIENDLY_DEFAULTS = {("one_cycle", "cycle_momentum"), ("reduce_on_plateau", "patience")}


def _optimizer(name: str = "sgd", lrs: tuple[float, ...] = (1.0,), **params: object) -> torch.optim.Optimizer:
    groups = [{"params": [nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return build_optimizer(Choice(name, {"lr": lrs[0], **params}), groups)


def _trajectory(schedule: Schedule, optimizer: torch.optim.Optimizer, steps: int,
                metrics: list[float] | None = None) -> list[list[float]]:
    """The learning rate of every group used at each of ``steps`` steps (lr first, then the schedule steps)."""
    seen = []
    for i in range(steps):
        seen.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        schedule.step(metrics[i] if metrics else None)
    return seen


def _firsts(trajectory: list[list[float]]) -> list[float]:
    return [lrs[0] for lrs in trajectory]


def test_registry_names_intervals_and_metric() -> None:
    assert SCHEDULES.names() == NAMES
    intervals = {name: SCHEDULES.get(name).interval for name in NAMES}
    assert {name for name, interval in intervals.items() if interval == "batch"} == {"cosine", "one_cycle", "warmup"}
    assert [name for name in NAMES if SCHEDULES.get(name).needs_metric] == ["reduce_on_plateau"]


@pytest.mark.parametrize("name", TORCH_CLASSES)
def test_defaults_match_torch_where_torch_has_them(name: str) -> None:
    signature = inspect.signature(TORCH_CLASSES[name]).parameters
    for param in SCHEDULES.get(name).params:
        torch_param = signature.get(param.name)
        if torch_param is None or torch_param.default is inspect.Parameter.empty:
            continue
        if (name, param.name) in FRIENDLY_DEFAULTS:
            assert param.default != torch_param.default and "PyTorch" in param.help
        else:
            assert param.default == torch_param.default, f"{name}.{param.name}"


def test_none_keeps_lr() -> None:
    optimizer = _optimizer(lrs=(0.3,))
    assert _firsts(_trajectory(build_schedule(Choice("none"), optimizer, 2, 3), optimizer, 5)) == [0.3] * 5


def test_step_halves_every_step_size_epochs() -> None:
    optimizer = _optimizer()
    schedule = build_schedule(Choice("step", {"step_size": 2, "gamma": 0.5}), optimizer, epochs=6, steps_per_epoch=9)
    assert _firsts(_trajectory(schedule, optimizer, 6)) == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])


def test_multistep_decays_at_milestones() -> None:
    optimizer = _optimizer()
    schedule = build_schedule(Choice("multistep", {"milestones": "1, 3", "gamma": 0.1}), optimizer, 5, 1)
    assert _firsts(_trajectory(schedule, optimizer, 5)) == pytest.approx([1, 0.1, 0.1, 0.01, 0.01])


def test_exponential_multiplies_each_epoch() -> None:
    optimizer = _optimizer()
    schedule = build_schedule(Choice("exponential", {"gamma": 0.9}), optimizer, 4, 1)
    assert _firsts(_trajectory(schedule, optimizer, 4)) == pytest.approx([1, 0.9, 0.81, 0.729])


def test_cosine_anneals_per_batch_to_eta_min() -> None:
    optimizer = _optimizer()
    schedule = build_schedule(Choice("cosine", {"eta_min": 0.1}), optimizer, epochs=2, steps_per_epoch=5)
    lrs = _firsts(_trajectory(schedule, optimizer, 11))
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(11)]
    assert lrs == pytest.approx(expected)


def test_one_cycle_peaks_at_optimizer_lr_per_group() -> None:
    optimizer = _optimizer(lrs=(1.0, 0.1))
    choice = Choice("one_cycle", {"pct_start": 0.25, "div_factor": 10.0})
    schedule = build_schedule(choice, optimizer, epochs=4, steps_per_epoch=5)
    trajectory = _trajectory(schedule, optimizer, 20)
    lrs = _firsts(trajectory)
    peak = lrs.index(max(lrs))
    assert lrs[0] == pytest.approx(0.1) and max(lrs) == pytest.approx(1.0)
    assert peak == 4  # 0.25 × 20 steps, counted from 0
    assert lrs[-1] < lrs[0] / 100
    assert all(b == pytest.approx(a / 10) for a, b in trajectory)
    assert optimizer.param_groups[0]["momentum"] == 0  # cycle_momentum off: plain SGD stays plain


def test_one_cycle_holds_its_last_lr_past_the_planned_end() -> None:
    optimizer = _optimizer()
    schedule = build_schedule(Choice("one_cycle"), optimizer, epochs=1, steps_per_epoch=3)
    lrs = _firsts(_trajectory(schedule, optimizer, 6))
    assert lrs[2:] == [min(lrs)] * 4


def test_one_cycle_momentum_cycles_adams_beta1_and_rejects_optimizers_without_momentum() -> None:
    optimizer = _optimizer("adam")
    schedule = build_schedule(Choice("one_cycle", {"cycle_momentum": True}), optimizer, 1, 10)
    assert optimizer.param_groups[0]["betas"][0] == pytest.approx(0.95)
    _trajectory(schedule, optimizer, 3)
    assert optimizer.param_groups[0]["betas"][0] < 0.95
    with pytest.raises(ConfigError) as err:
        build_schedule(Choice("one_cycle", {"cycle_momentum": True}), _optimizer("adagrad"), 1, 10)
    assert err.value.field == "cycle_momentum"


def test_warmup_ramps_linearly_then_stays_per_group() -> None:
    optimizer = _optimizer(lrs=(1.0, 0.5))
    schedule = build_schedule(Choice("warmup", {"warmup_steps": 4}), optimizer, epochs=3, steps_per_epoch=3)
    trajectory = _trajectory(schedule, optimizer, 7)
    assert _firsts(trajectory) == pytest.approx([0.25, 0.5, 0.75, 1, 1, 1, 1])
    assert [lrs[1] for lrs in trajectory] == pytest.approx([0.125, 0.25, 0.375, 0.5, 0.5, 0.5, 0.5])


def test_warmup_from_a_start_factor() -> None:
    optimizer = _optimizer()
    schedule = build_schedule(Choice("warmup", {"warmup_steps": 2, "start_factor": 0.5}), optimizer, 1, 5)
    assert _firsts(_trajectory(schedule, optimizer, 3)) == pytest.approx([0.75, 1, 1])


def test_reduce_on_plateau_reduces_after_patience() -> None:
    optimizer = _optimizer()
    schedule = build_schedule(Choice("reduce_on_plateau", {"patience": 2, "factor": 0.5}), optimizer, 10, 5)
    schedule.step(1.0)  # first value: an improvement
    lrs = []
    for _ in range(4):
        schedule.step(1.0)  # no improvement
        lrs.append(current_lr(optimizer))
    assert lrs == [1, 1, 0.5, 0.5]
    with pytest.raises(ValueError, match="validation loss"):
        schedule.step()


CHOICES = [
    Choice("step", {"step_size": 3, "gamma": 0.5}),
    Choice("multistep", {"milestones": "6,9"}),
    Choice("exponential"),
    Choice("cosine"),
    Choice("one_cycle", {"cycle_momentum": True}),
    Choice("reduce_on_plateau", {"patience": 1}),
    Choice("warmup", {"warmup_steps": 8}),
]


@pytest.mark.parametrize("choice", CHOICES, ids=lambda choice: choice.name)
def test_state_dict_round_trip_continues_exactly(choice: Choice) -> None:
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.98, 1.0, 1.1, 1.2, 1.0, 1.3, 1.4]
    optimizer = _optimizer("sgd", lrs=(0.8, 0.2), momentum=0.9)
    schedule = build_schedule(choice, optimizer, epochs=3, steps_per_epoch=4)
    _trajectory(schedule, optimizer, 5, metrics)
    saved_optimizer, saved_schedule = optimizer.state_dict(), schedule.state_dict()
    expected = _trajectory(schedule, optimizer, 7, metrics[5:])

    resumed_optimizer = _optimizer("sgd", lrs=(0.8, 0.2), momentum=0.9)
    resumed = build_schedule(choice, resumed_optimizer, epochs=3, steps_per_epoch=4)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_schedule)
    assert _trajectory(resumed, resumed_optimizer, 7, metrics[5:]) == expected
    assert expected[0] != expected[-1]  # the continuation actually moves


@pytest.mark.parametrize("text", ["", "a,b", "5,3", "0,2", "2,2", "1.5"])
def test_bad_milestones_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="like 10,20") as err:
        parse_milestones(text)
    assert err.value.field == "milestones"


def test_milestones_parse() -> None:
    assert parse_milestones(" 10, 20 ,30") == [10, 20, 30]


@pytest.mark.parametrize(
    ("choice", "field"),
    [
        (Choice("step", {"step_size": 0}), "step_size"),
        (Choice("multistep", {"milestones": "ten"}), "milestones"),
        (Choice("warmup", {"start_factor": 1.5}), "start_factor"),
        (Choice("one_cycle", {"base_momentum": 0.99}), "base_momentum"),
        (Choice("one_cycle", {"anneal_strategy": "sine"}), "anneal_strategy"),
        (Choice("cosine", {"T_max": 3}), "T_max"),
        (Choice("linear"), "schedule"),
    ],
)
def test_bad_settings_name_the_field(choice: Choice, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_schedule(choice, _optimizer(), 5, 5)
    assert err.value.field == field
