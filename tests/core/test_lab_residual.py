"""The residual lesson on a small, fast configuration: same depth and steps, the residual net learns, the plain
one stalls with vanishing gradients in its first layers; the shortcuts variation wraps and unwraps."""

from __future__ import annotations

from collections import defaultdict

import pytest

from studio.core.data import prepare_data
from studio.core.events import LayerStats
from studio.core.lab.compare import compare
from studio.core.lab.depth import depth_profile
from studio.core.lab.lessons import LESSONS
from studio.core.lab.variations import vary
from studio.core.presets import load_preset
from studio.core.shapes import check_model


def test_shortcuts_wrap_each_hidden_layer_resnet_style_and_unwrap_again() -> None:
    plain = load_preset("residual-depth")
    on = vary(plain, "shortcuts").project
    repeat = on.model.layers[2]
    assert [row.type for row in on.model.layers] == ["Residual", "ReLU", "Repeat", "Linear"]
    assert [row.type for row in repeat.layers] == ["Residual", "ReLU"] and repeat.layers[0].layers[0].type == "Linear"
    assert check_model(on.model, (64,), 10).total_params == check_model(plain.model, (64,), 10).total_params
    assert vary(on, "shortcuts").project.model == plain.model
    resnet = load_preset("resnet20-cifar10")
    unwrapped = vary(resnet, "shortcuts").project  # ResNet-20 without shortcuts: the plain-20 of He et al.
    assert check_model(unwrapped.model, (3, 32, 32), 10).ok
    assert not any(row.type == "Residual" for row in unwrapped.model.layers)


@pytest.mark.parametrize("name", ["residual-depth", "resnet20-cifar10"])
def test_the_lessons_compare_with_and_without_shortcuts(name: str) -> None:
    assert LESSONS.get(name).experiment == "compare" and LESSONS.get(name).options == {"setting": "shortcuts"}


def test_same_depth_and_steps_the_residual_net_learns_and_the_plain_one_stalls() -> None:
    project = load_preset("residual-depth")
    project.model.layers[2].params["times"] = 12  # 14 weight layers instead of 22: faster, the same story
    project.training.epochs, project.training.stats_every = 2, 5
    stats: dict[str, list[LayerStats]] = defaultdict(list)

    def keep(tag: str, event: object) -> None:
        if isinstance(event, LayerStats):
            stats[tag].append(event)

    result = compare(project, "shortcuts", data=prepare_data(project.data), on_event=keep)
    plain, residual = result.a.final, result.b.final
    assert plain.train_loss > 2.2  # chance is ln 10 = 2.30: the plain net has not left it
    assert residual.train_loss < plain.train_loss - 1.0
    assert depth_profile(stats["A"]).vanishing > 1e3  # the first layer gets almost nothing (3e4 here)
    assert depth_profile(stats["B"]).vanishing < 1e2  # the shortcuts keep it alive
