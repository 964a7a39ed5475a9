"""The python export of a lesson: typed starting weights and the sign convention survive into model.py and
train.py, which retrain the perceptron to the studio's (and the textbook's) weights without Training Studio."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.export import ExportSource, export
from studio.core.export.codegen import outputs_text
from studio.core.inspect import class_probabilities
from studio.core.presets import load_preset
from studio.core.project import Choice, LayerSpec, ModelSpec


def _run_plain_python(code: str, cwd: Path) -> str:
    """Run ``code`` in a fresh interpreter that cannot import studio; its stdout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    check = "\nimport sys\nassert not any(m.startswith('studio') for m in sys.modules), 'studio was imported'\n"
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + check], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_python_export_starts_from_the_typed_weights_and_retrains_the_perceptron(tmp_path: Path) -> None:
    project = load_preset("perceptron")
    project.model.layers[0].init_params = {"weight": [[0.5, -2.0]], "bias": [0.25]}
    data = prepare_data(project.data)
    trainer = Trainer(project, data)
    end = trainer.fit()
    export(ExportSource.from_data(trainer.project, trainer.model, data, end.history), "python", tmp_path)
    text = (tmp_path / "model.py").read_text()
    assert 'TYPED_VALUES = {"0": {"weight": [[0.5, -2.0]], "bias": [0.25]}}' in text
    assert "Sign(zero=1)" in text
    assert "Output: one value per sample, +1 or -1 (a perceptron's sign): +1 means class '1', -1 class '-1'." in text
    _run_plain_python("""
        import torch
        from model import build_model
        model = build_model()
        assert model[0].weight.tolist() == [[0.5, -2.0]] and model[0].bias.tolist() == [0.25]
        assert model(torch.tensor([[0.5, 0.25]])).tolist() == [[1.0]]  # w·x + b = 0 exactly: sgn(0) = +1
        import train
        train.main()
    """, tmp_path)
    retrained = torch.load(tmp_path / "retrained-weights.pt")
    assert torch.equal(retrained["0.weight"], trainer.model[0].weight.detach())
    assert torch.equal(retrained["0.bias"], trainer.model[0].bias.detach())


def test_model_without_typed_rows_keeps_the_plain_builder(tmp_path: Path) -> None:
    project = load_preset("perceptron")
    project.model.layers[0].init = None
    project.model.layers[0].init_params = {}
    project.training.epochs = 1
    data = prepare_data(project.data)
    trainer = Trainer(project, data)
    export(ExportSource.from_data(trainer.project, trainer.model, data, trainer.fit().history), "python", tmp_path)
    assert "TYPED_VALUES" not in (tmp_path / "model.py").read_text()


@pytest.mark.parametrize(("loss", "layers", "words"), [
    ("perceptron", [LayerSpec("Linear", {"out_features": 1})], "one value per sample, +1 or -1"),
    ("bce_with_logits", [LayerSpec("Linear", {"out_features": 1})],
     "one score per sample: positive means class '1' (probability sigmoid(score)), otherwise class '-1'"),
    ("cross_entropy", [LayerSpec("Linear", {"out_features": 2})], "one score per class (-1, 1); the largest wins"),
])
def test_model_py_says_what_the_outputs_mean(loss: str, layers: list[LayerSpec], words: str) -> None:
    project = load_preset("perceptron")
    project.model = ModelSpec(layers)
    project.loss = Choice(loss)
    data = prepare_data(project.data)
    source = ExportSource.from_data(project, Trainer(project, data).model, data)
    assert words in outputs_text(source)


def test_a_single_output_perceptron_reads_as_a_hard_sign_not_a_constant_sigmoid() -> None:
    probabilities = class_probabilities(torch.tensor([[1.0], [-1.0], [0.0]]), "perceptron")
    assert probabilities.tolist() == [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]
