"""Sweeps over any project key: every cell a real run, seeds repeated, mean ± spread; bad keys fail first."""

from __future__ import annotations

import json
import math
import statistics

import pytest

from studio.cli import main
from studio.core.engine import Trainer
from studio.core.errors import ConfigError
from studio.core.lab.grid import Axis, grid_sweep, parse_axis, plan
from studio.core.lab.lessons import LESSONS
from studio.core.presets import load_preset
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec


def _deep(times: int = 2) -> Project:
    block = LayerSpec("Repeat", {"times": times}, layers=[LayerSpec("Linear", {"out_features": 8}), LayerSpec("Tanh")])
    return Project(model=ModelSpec([block, LayerSpec("Linear", {"out_features": 3})]),
                   data=DataSpec("blobs", {"n_samples": 150}, val_fraction=0.2),
                   optimizer=Choice("sgd", {"lr": 0.1}),
                   training=TrainingSpec(epochs=2, batch_size=16, stats_every=0, seed=5))


def test_axes_parse_values_as_json_or_text() -> None:
    assert parse_axis("optimizer.params.lr=0.001,0.1,1") == Axis("optimizer.params.lr", (0.001, 0.1, 1))
    assert parse_axis("model.init=zeros,kaiming_normal").values == ("zeros", "kaiming_normal")
    assert parse_axis("model.layers[0].init_params.weight=[[0, 1]],[[1, 0]]").values == ([[0, 1]], [[1, 0]])
    for bad, words in (("optimizer.params.lr", "KEY=V1,V2"), ("x=1,1", "listed twice"), ("a..b=1", "path")):
        with pytest.raises(ConfigError, match=words):
            parse_axis(bad)


@pytest.mark.parametrize(("axes", "words"), [
    (["optimizer.params.lrr=0.1,1"], "unknown setting 'optimizer.params.lrr'"),
    (["model.layers[0].params.times=2,0"], "times must be at least 1"),
    (["optimizer.params.lr=0.1,1", "optimizer.params.lr=0.2,2"], "the same key is given twice"),
    (["optimizer.params.lr=0.1", "training.batch_size=8", "model.init=zeros"], "one or two settings, not 3"),
])
def test_every_cell_is_checked_before_anything_trains(axes: list[str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        plan(_deep(), [parse_axis(a) for a in axes])


def test_each_cell_is_a_real_run_repeated_with_seeds() -> None:
    axes = [parse_axis("model.layers[0].params.times=1,3"), parse_axis("optimizer.params.lr=0.05,0.5")]
    result = grid_sweep(_deep(), axes, repeats=2)
    assert result.shape == (2, 2) and result.seeds == (5, 6) and len(result.cells) == 4
    cell = result.cell(1, 0)
    assert cell.values == (3, 0.05)
    assert [run.project.training.seed for run in cell.runs] == [5, 6]
    assert {(r.project.model.layers[0].params["times"], r.project.optimizer.params["lr"]) for r in cell.runs} == {
        (3, 0.05)}
    alone = Trainer(cell.runs[1].project).fit()  # the cell's run is exactly an ordinary fit of its project
    assert alone.history[-1].val_loss == cell.runs[1].final.val_loss
    finals = [run.final.val_acc for run in cell.runs]
    stat = cell.stat("val_acc")
    assert stat.mean == pytest.approx(statistics.fmean(finals)) and stat.spread == pytest.approx(
        statistics.stdev(finals)) and (stat.counted, stat.runs, stat.diverged) == (2, 2, 0)
    assert [len(row) for row in result.table("val_loss")] == [2, 2]
    best = result.best("val_loss")
    assert best is not None and best.stat("val_loss").mean == min(c.stat("val_loss").mean for c in result.cells)


def test_diverged_runs_are_left_out_of_the_mean() -> None:
    linear = _deep()
    linear.model.layers[0].layers[1].type = "Identity"  # a deep linear map: lr 10 blows it up
    result = grid_sweep(linear, [parse_axis("optimizer.params.lr=0.1,10")])
    wild = result.cell(1).stat("train_loss")
    assert wild.diverged == 1 and wild.counted == 0 and math.isnan(wild.mean) and wild.text() == "diverged"
    assert result.best("train_loss") is result.cell(0)


def test_the_depth_lessons_are_grids_over_depth_and_four_decades_of_learning_rate() -> None:
    for name in ("depth-vs-lr", "depth-vs-lr-relu"):
        lesson = LESSONS.get(name)
        axes = [parse_axis(a) for a in lesson.options["axes"]]
        assert axes[0].values == (2, 4, 8, 16)
        lrs = axes[1].values
        assert axes[1].key == "optimizer.params.lr" and math.log10(max(lrs) / min(lrs)) >= 4
        cells = plan(load_preset(name), axes)
        assert len(cells) == 20 and cells[-1][2].model.layers[0].params["times"] == 16


def test_the_command_prints_the_grid_and_refuses_unknown_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "--preset", "perceptron", "--vary", "optimizer.params.lr=0.5,1", "--vary",
                 "model.layers[1].params.zero=1,0", "--metric", "train_acc", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["run"] * 4 + ["result"]
    cells = lines[-1]["cells"]
    assert [c["labels"] for c in cells] == [["0.5", "1"], ["0.5", "0"], ["1", "1"], ["1", "0"]]
    assert [c["train_acc"]["mean"] for c in cells] == [1.0, 0.75, 1.0, 0.75]  # sgn(0) = 0 misreads the boundary
    assert main(["sweep", "--preset", "perceptron", "--vary", "optimizer.params.lr=0.5,1", "--metric",
                 "train_acc"]) == 0
    out = capsys.readouterr().out
    assert "final train_acc, mean ± spread over 1 seed(s) [0]" in out and "best: lr=0.5 (1)" in out
    assert main(["sweep", "--preset", "perceptron", "--vary", "optimizer.params.lr=1", "--seeds", "3,4",
                 "--epochs", "2", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["epochs"] for line in lines[:-1]] == [2, 2] and lines[-1]["seeds"] == [3, 4]
    assert lines[-1]["cells"][0]["train_acc"]["runs"] == 2
    for bad, words in ((["--vary", "optimizer.params.lrr=1,2"], "unknown setting 'optimizer.params.lrr'"),
                       (["--vary", "optimizer.params.lr=1", "--seeds", "1,x"], "--seeds needs whole numbers"),
                       (["--vary", "optimizer.params.lr=1", "--seeds", "1,1"], "seeds must be different")):
        assert main(["sweep", "--preset", "perceptron", *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {words}") or words in err.splitlines()[0]
        assert len(err.strip().splitlines()) == 1
