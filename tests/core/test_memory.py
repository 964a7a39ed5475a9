"""The memory guard (issue 16, point 4): a network that cannot fit is refused before anything is built,
naming the row that needs the most; one that fits trains as before."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
import torch

from studio.cli import main as cli_main
from studio.core.engine import Trainer
from studio.core.memory import (
    MemoryEstimate,
    MemoryGuardError,
    RowMemory,
    check_memory,
    estimate,
    format_bytes,
    state_per_weight,
)
from studio.core.project import Choice, LayerSpec, ModelSpec
from studio.core.shapes import infer_shapes

PRESETS = files("studio") / "resources" / "presets"
CPU = torch.device("cpu")
GB = 10**9


def huge_stack(width: int = 65536, copies: int = 8) -> list[dict]:
    """Eight Linear layers of 65,536: 17 GB of weights each, far beyond any desktop's memory."""
    return [{"type": "Linear", "params": {"out_features": width}}] * copies + [
        {"type": "Linear", "params": {"out_features": 10}}]


@pytest.mark.parametrize(("name", "params", "ratio"), [
    ("adam", {}, 2.0), ("adamw", {}, 2.0), ("sgd", {}, 0.0), ("sgd", {"momentum": 0.9}, 1.0), ("rmsprop", {}, 1.0),
    ("rmsprop", {"momentum": 0.9, "centered": True}, 3.0), ("adagrad", {}, 1.0),
])
def test_optimizer_state_is_measured_per_optimizer(name, params, ratio):
    assert state_per_weight(Choice(name, params)) == ratio
    assert state_per_weight(None) == 0.0


def test_the_estimate_adds_weights_gradients_state_and_activations():
    rows = infer_shapes([LayerSpec("Linear", {"out_features": 10}), LayerSpec("ReLU")], (64,))
    result = estimate(rows, 8, Choice("adam"), CPU)
    first, relu = result.rows
    assert (first.weights, first.gradients, first.optimizer) == (650 * 4, 650 * 4, 2 * 650 * 4)
    assert first.activations == 8 * 4 * (2 * 10 + 64)  # output and its gradient, plus the input batch
    assert (relu.weights, relu.activations) == (0, 8 * 4 * 2 * 10)
    assert result.need == sum(r.total for r in result.rows) and result.fits and result.total >= result.free > 0


def test_frozen_rows_need_no_gradients_or_state():
    rows = infer_shapes([LayerSpec("Linear", {"out_features": 10}, frozen=True)], (64,))
    (row,) = estimate(rows, 1, Choice("adam"), CPU).rows
    assert row.weights == 2600 and row.gradients == row.optimizer == 0


def test_a_network_far_too_large_is_refused_naming_its_row():
    model = ModelSpec([LayerSpec(**layer) for layer in huge_stack()])
    with pytest.raises(MemoryGuardError) as caught:
        check_memory(model, (64,), 64, Choice("adam"), CPU)
    message = str(caught.value)
    assert caught.value.index >= 1 and message.startswith(f"layer {caught.value.index + 1} (Linear 65536) needs")
    assert "this computer has" in message and "in all" in message


def blame(rows: list[RowMemory], free: int, total: int = 32 * GB, copies: int = 1) -> str:
    from studio.core.memory import _problem

    problem = _problem(MemoryEstimate(rows, 64, "cpu", free, total), copies)
    assert problem is not None
    return problem[0]


def test_the_message_names_the_part_that_does_not_fit():
    weights = RowMemory(2, "Linear 65536", 17 * GB, 17 * GB, 34 * GB, 0)
    assert blame([weights], 23 * GB, 23 * GB) == (
        "layer 3 (Linear 65536) needs 17 GB of weights (68 GB to train); this computer has 23 GB in all")
    activations = RowMemory(0, "Conv2d 512@3×3", 10**6, 10**6, 0, 53 * GB)
    assert blame([activations], 10 * GB) == (
        "layer 1 (Conv2d 512@3×3) needs 53 GB of activations for a batch of 64; this computer has 32 GB in all,"
        " 10 GB of it free: lower the batch size")
    spread = [RowMemory(i, "Linear 4096", 2 * GB, 2 * GB, 4 * GB, 0) for i in range(3)]
    assert blame(spread, 20 * GB, 20 * GB) == (
        "training needs about 24 GB (weights, gradients, optimizer state and a batch of 64), 8 GB of it for layer 1"
        " (Linear 4096); this computer has 20 GB in all: make layer 1 (Linear 4096) smaller")
    small = [RowMemory(0, "Linear 1024", GB, GB, 2 * GB, 0)]
    assert blame(small, 10 * GB, 10 * GB, copies=4) == (
        "layer 1 (Linear 1024) needs 1 GB of weights (4 GB to train); this computer has 10 GB in all, shared by 4"
        " networks side by side")


def test_bytes_read_as_people_write_them():
    assert [format_bytes(n) for n in (17.18e9, 2.5e9, 350e6, 1e9, 12e3, 7)] == [
        "17 GB", "2.5 GB", "350 MB", "1 GB", "12 kB", "7 bytes"]


def test_the_trainer_refuses_before_building(tmp_path):
    from studio.core.presets import load_preset

    project = load_preset("digits-mlp")
    project.model.layers = [LayerSpec(**layer) for layer in huge_stack()]
    with pytest.raises(MemoryGuardError, match="Linear 65536"):
        Trainer(project)


def test_the_cli_exits_2_with_the_line(tmp_path, capsys):
    data = json.loads((PRESETS / "digits-mlp.json").read_text(encoding="utf-8"))
    data["model"]["layers"] = huge_stack()
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert cli_main(["train", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "(Linear 65536) needs" in err and "in all" in err
    assert cli_main(["lr-find", str(path), "--json"]) == 2
    assert cli_main(["probe", str(path), "--json"]) == 2
    assert cli_main(["race", str(path), "--json"]) == 2
