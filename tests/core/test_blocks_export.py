"""A nested network (Residual, Repeat, Parallel) through every export format, each checked by its consumer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from studio.core.checkpoint import CheckpointCallback, latest_checkpoint
from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.export import EXPORTERS, ExportSource, export
from studio.core.export.verify import TOLERANCE
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec
from tests.core.test_export import _run_plain_python


def L(type_: str, *rows: LayerSpec, **params: object) -> LayerSpec:
    return LayerSpec(type_, dict(params), layers=list(rows))


def nested_project() -> Project:
    """On digits (64 features): a projected Residual, a Repeat of Residuals, a Parallel, per-row settings inside."""
    block = L("Residual", L("Linear", out_features=24), L("BatchNorm1d"), L("ReLU"), L("Linear", out_features=24))
    block.layers[0].lr_mult = 0.5
    frozen = L("Linear", out_features=6)
    frozen.frozen = True
    layers = [L("Residual", L("Linear", out_features=24), L("ReLU")), L("Repeat", block, times=2), L("ReLU"),
              L("Parallel", L("Linear", out_features=8), frozen, L("Repeat", L("Linear", out_features=4), L("Tanh"),
                                                                   times=1)),
              L("Sign"), L("Linear", out_features=10)]
    layers[1].lr_mult = 0.5
    return Project(
        name="nested export", model=ModelSpec(layers=layers), data=DataSpec(subset_per_class=12, seed=1),
        optimizer=Choice("adam", {"lr": 0.01}), schedule=Choice("step", {"step_size": 1, "gamma": 0.5}),
        training=TrainingSpec(epochs=2, batch_size=16, seed=5, device="cpu", stats_every=0),
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    data = prepare_data(nested_project().data)
    trainer = Trainer(nested_project(), data, [CheckpointCallback(folder, every=0)])
    end = trainer.fit()
    return ExportSource.from_data(trainer.project, trainer.model, data, end.history), folder


@pytest.mark.parametrize("fmt", [name for name in EXPORTERS.names() if name != "python"])
def test_every_format_reproduces_the_nested_network(trained, tmp_path: Path, fmt: str) -> None:
    source, _ = trained
    report = export(source, fmt, tmp_path / fmt)
    assert report.max_abs_diff < TOLERANCE and report.n_inputs == len(source.sample_inputs)
    if fmt == "bundle":
        card = json.loads((report.path / "model-card.json").read_text())
        repeat = card["architecture"][1]
        assert repeat["type"] == "Repeat" and repeat["rows"][0]["rows"][3]["path"] == [1, 0, 3]


def test_model_py_writes_blocks_as_classes_and_retrains_exactly(trained, tmp_path: Path) -> None:
    source, folder = trained
    out = tmp_path / "python"
    report = export(latest_checkpoint(folder), "python", out)
    assert report.max_abs_diff < TOLERANCE
    text = (out / "model.py").read_text()
    for piece in ("class Residual(nn.Module):", "class Parallel(nn.Module):", "class Repeat(nn.Module):",
                  "        Residual(  # 1 Residual\n", "shortcut=nn.Linear(in_features=64, out_features=24, bias=True)",
                  "            nn.Sequential(  # copy 2\n", "                Residual(  # 2[2].1 Residual\n",
                  "nn.Linear(in_features=24, out_features=24, bias=True),  # 2[2].1.4 Linear 24",
                  "join='concat',",
                  "        out: torch.Tensor = self.body(x) + self.shortcut(x)\n"):
        assert piece in text, piece
    assert "studio" not in text.replace("Training Studio", "")
    train = (out / "train.py").read_text()
    assert "model.get_submodule('1.copies.0.0.body.0').parameters(), 'lr': 0.0025" in train  # 0.01 × 0.5 × 0.5
    assert "FROZEN_LAYERS = ['3.branches.1']" in train
    inputs = source.sample_inputs[:4]
    raw = inputs * torch.as_tensor(source.data.preprocessing.std) + torch.as_tensor(source.data.preprocessing.mean)
    torch.save(raw, out / "raw.pt")
    _run_plain_python("""
        import torch
        from model import load_model, preprocess
        torch.save(load_model()(preprocess(torch.load("raw.pt"))), "out.pt")
        import train
        train.main()
    """, out)
    with torch.no_grad():
        expected = source.model.eval()(inputs)
    assert torch.allclose(torch.load(out / "out.pt"), expected, atol=1e-4)
    retrained = torch.load(out / "retrained-weights.pt")
    for name, tensor in source.model.state_dict().items():  # same start, order, groups, frozen rows: same weights
        assert torch.allclose(retrained[name].float(), tensor.float(), atol=1e-6), name
