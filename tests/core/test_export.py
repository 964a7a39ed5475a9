"""Each export format, loaded by its real consumer, reproduces the in-app model; bad exports fail loudly."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import onnxruntime
import pytest
import torch
from safetensors.torch import load_file

from studio.core.build import build_model
from studio.core.checkpoint import CheckpointCallback, latest_checkpoint
from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.export import EXPORTERS, ExportError, ExportSource, export, open_source
from studio.core.export.formats import ExportFormat, write_verified
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec


def _project() -> Project:
    layers = [LayerSpec("Linear", {"out_features": 16}), LayerSpec("BatchNorm1d"), LayerSpec("ReLU"),
              LayerSpec("Dropout", {"p": 0.1}), LayerSpec("Linear", {"out_features": 12}), LayerSpec("Sign"),
              LayerSpec("Linear", {"out_features": 10})]
    layers[0].lr_mult = 0.5
    return Project(
        name="export test", model=ModelSpec(layers=layers), data=DataSpec(subset_per_class=12, seed=1),
        optimizer=Choice("adam", {"lr": 0.01}), schedule=Choice("step", {"step_size": 1, "gamma": 0.5}),
        training=TrainingSpec(epochs=2, batch_size=16, seed=5, device="cpu", stats_every=0),
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny trained run, its checkpoint folder and the in-app export source."""
    folder = tmp_path_factory.mktemp("ckpt")
    data = prepare_data(_project().data)
    trainer = Trainer(_project(), data, [CheckpointCallback(folder, every=0)])
    end = trainer.fit()
    return ExportSource.from_data(trainer.project, trainer.model, data, end.history), folder


@pytest.fixture(scope="module")
def inputs(trained) -> torch.Tensor:
    return trained[0].sample_inputs


def _expected(source: ExportSource, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return source.model.eval()(x)


def _run_plain_python(code: str, cwd: Path) -> None:
    """Run ``code`` in a fresh interpreter that cannot import studio (and asserts it never did)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    check = "\nimport sys\nassert not any(m.startswith('studio') for m in sys.modules), 'studio was imported'\n"
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + check], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_registry_lists_every_format() -> None:
    assert EXPORTERS.names() == ["state_dict", "safetensors", "pt2", "torchscript", "onnx", "python", "bundle"]
    assert [name for name, fmt in EXPORTERS.items() if fmt.folder] == ["python", "bundle"]


def test_graph_formats_run_in_plain_torch_without_studio(trained, inputs, tmp_path: Path, caplog) -> None:
    source, _ = trained
    with caplog.at_level(logging.INFO, logger="studio.core.export.formats"):
        reports = [export(source, fmt, tmp_path / name) for fmt, name in
                   (("pt2", "model.pt2"), ("torchscript", "model.torchscript.pt"))]
    assert all(r.max_abs_diff <= 1e-4 and r.n_inputs == len(inputs) for r in reports)
    # torch's deprecation notice is no news for a learner: logged and kept aside, not in the summary
    script = reports[1]
    assert any("deprecated" in note for note in script.library_warnings) and script.warnings == []
    assert "deprecated" not in script.summary() and "Warning" not in script.summary()
    assert any("torchscript" in r.getMessage() and "deprecated" in r.getMessage() for r in caplog.records)
    torch.save(inputs[:5], tmp_path / "x.pt")
    _run_plain_python("""
        import torch
        x = torch.load("x.pt", weights_only=True)
        with open("model.pt2", "rb") as f:
            program = torch.export.load(f).module()
        torch.save(program(x), "pt2_out.pt")
        torch.save(torch.jit.load("model.torchscript.pt")(x), "ts_out.pt")
    """, tmp_path)
    expected = _expected(source, inputs[:5])
    for name in ("pt2_out.pt", "ts_out.pt"):
        assert torch.allclose(torch.load(tmp_path / name, weights_only=True), expected, atol=1e-5), name


def test_onnx_runs_in_onnxruntime(trained, inputs, tmp_path: Path) -> None:
    source, _ = trained
    report = export(source, "onnx", tmp_path / "model.onnx")
    assert "Warning" not in report.summary()  # the legacy exporter's deprecation notices are logged instead
    session = onnxruntime.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": inputs[:3].numpy()})  # a different batch size than at export
    assert torch.allclose(torch.from_numpy(got), _expected(source, inputs[:3]), atol=1e-5)


@pytest.mark.parametrize("dynamo", [False, True], ids=["legacy", "torch.export"])
def test_onnx_by_either_exporter(trained, inputs, tmp_path: Path, dynamo: bool) -> None:
    """The current exporter (built on torch.export) when onnxscript is installed, else the one needing only onnx;
    both give one self-contained file with a dynamic batch size."""
    from studio.core.export.onnx import dynamo_available, write_onnx

    if dynamo and not dynamo_available():
        pytest.skip("the torch.export-based ONNX exporter needs onnxscript")
    source, _ = trained
    assert write_onnx(source, tmp_path / "model.onnx", dynamo) == [tmp_path / "model.onnx"]
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(["output"], {"input": inputs[:5].numpy()})
    assert torch.allclose(torch.from_numpy(got), _expected(source, inputs[:5]), atol=1e-5)


def test_weights_formats_load_into_the_same_network(trained, inputs, tmp_path: Path) -> None:
    source, _ = trained
    export(source, "state_dict", tmp_path / "weights.pt")
    export(source, "safetensors", tmp_path / "model.safetensors")
    for weights in (torch.load(tmp_path / "weights.pt", weights_only=True), load_file(tmp_path / "model.safetensors")):
        model = build_model(source.project.model, source.info.input_shape, seed=99)
        model.load_state_dict(weights)
        assert torch.equal(model.eval()(inputs), _expected(source, inputs))


def test_python_export_is_readable_standalone_and_retrains_exactly(trained, inputs, tmp_path: Path) -> None:
    source, _ = trained
    folder = tmp_path / "python"
    export(source, "python", folder)
    text = (folder / "model.py").read_text()
    assert "nn.Linear(in_features=64, out_features=16, bias=True),  # 1 Linear 16" in text
    assert "class Sign(nn.Module):" in text and "studio" not in text.replace("Training Studio", "")
    raw = inputs[:4] * torch.as_tensor(source.data.preprocessing.std) + torch.as_tensor(source.data.preprocessing.mean)
    torch.save(raw, folder / "raw.pt")
    _run_plain_python("""
        import torch
        from model import load_model, preprocess
        torch.save(load_model()(preprocess(torch.load("raw.pt", weights_only=True))), "out.pt")
        import train
        train.main()
    """, folder)
    assert torch.allclose(torch.load(folder / "out.pt", weights_only=True), _expected(source, inputs[:4]), atol=1e-4)
    retrained = torch.load(folder / "retrained-weights.pt", weights_only=True)
    for name, tensor in source.model.state_dict().items():  # same start, data order, optimizer: same weights
        assert torch.allclose(retrained[name].float(), tensor.float(), atol=1e-6), name


def test_bundle_from_a_checkpoint_has_everything(trained, tmp_path: Path) -> None:
    source, folder = trained
    report = export(latest_checkpoint(folder), "bundle", tmp_path / "bundle")
    names = {p.relative_to(report.path).as_posix() for p in report.files}
    assert {"weights.pt", "model.safetensors", "model.pt2", "model.torchscript.pt", "model.onnx", "python/model.py",
            "python/train.py", "model-card.json", "preprocessing.json"} <= names
    assert [p.format for p in report.parts] == ["state_dict", "safetensors", "pt2", "torchscript", "onnx", "python"]
    card = json.loads((report.path / "model-card.json").read_text())
    assert card["architecture"][0]["pytorch"] == "nn.Linear(in_features=64, out_features=16, bias=True)"
    assert card["dataset"]["dataset"] == "digits" and card["hyperparameters"]["optimizer"]["name"] == "adam"
    assert card["final_metrics"]["epoch"] == 2 and len(card["preprocessing"]["mean"]) == 64
    assert json.loads((report.path / "preprocessing.json").read_text()) == source.info.preprocessing
    assert "max abs difference" in report.summary()


def test_export_fails_loudly_and_leaves_nothing(trained, tmp_path: Path) -> None:
    source, _ = trained
    wrong = ExportFormat("wrong", "Wrong", "", "x.pt", EXPORTERS.get("state_dict").write,
                         lambda src, path: lambda x: src.model(x) + 1e-3)
    with pytest.raises(ExportError, match="differ by up to 0.001"):
        write_verified(wrong, source, tmp_path / "x.pt", source.sample_inputs, 1e-4)
    with pytest.raises(ExportError, match="does not reproduce"):
        export(source, "onnx", tmp_path / "strict.onnx", tolerance=-1.0)
    assert not any(tmp_path.glob("*strict*"))  # neither the file nor its staging folder


def test_wrong_inputs_and_sources_are_clear_errors(trained, tmp_path: Path) -> None:
    source, _ = trained
    with pytest.raises(ExportError, match="expects"):
        export(source, "onnx", tmp_path / "m.onnx", inputs=torch.zeros(2, 3))
    with pytest.raises(Exception, match="nothing to export"):
        open_source(tmp_path / "missing")
