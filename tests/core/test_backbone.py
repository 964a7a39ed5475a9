"""The Backbone layer type: torchvision's registry, weights through the safe loader only, freezing, per-stage
learning rates, and every export format. Randomly initialised resnet18 and mobilenet_v3_small saved to local
files stand in for pretrained weights (no network here)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

from studio.core import backbone
from studio.core.backbone import WeightsError, download, hub_file
from studio.core.build import build_model
from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.errors import ConfigError, ProjectFileError
from studio.core.export import ExportSource, export
from studio.core.layers import LAYERS
from studio.core.optim.optimizers import param_groups
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec
from studio.core.shapes import infer_shapes

FEATURES = {"resnet18": 512, "resnet34": 512, "resnet50": 2048, "mobilenet_v3_small": 1024,
            "mobilenet_v3_large": 1280, "efficientnet_b0": 1280, "convnext_tiny": 768}


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory) -> dict[str, Path]:
    """resnet18 and mobilenet_v3_small with random weights, saved as torchvision state_dicts."""
    folder = tmp_path_factory.mktemp("weights")
    files = {}
    for name in ("resnet18", "mobilenet_v3_small"):
        torch.manual_seed(7)
        files[name] = folder / f"{name}.pth"
        torch.save(torchvision.models.get_model(name, weights=None).state_dict(), files[name])
    return files


def _layers(model: str = "resnet18", weights: str = "none", **extra: object) -> list[LayerSpec]:
    return [LayerSpec("Backbone", {"model": model, "weights": weights, **extra}),
            LayerSpec("Linear", {"out_features": 3})]


def test_models_come_from_torchvisions_registry_and_shapes_are_inferred_on_meta() -> None:
    choices = next(p for p in LAYERS.get("Backbone").params if p.name == "model").choices
    assert list(choices) == torchvision.models.list_models(module=torchvision.models)
    assert not any(name.startswith(("fasterrcnn", "deeplab", "r3d", "raft")) for name in choices)
    for model, features in FEATURES.items():
        rows = infer_shapes(_layers(model), (3, 32, 32))
        assert rows[0].out_shape == (features,), model


def test_file_weights_load_into_the_network_and_are_not_drawn_again(weight_files) -> None:
    model = build_model(ModelSpec(_layers("resnet18", str(weight_files["resnet18"]))), (3, 32, 32), seed=3)
    saved = torch.load(weight_files["resnet18"], weights_only=True)
    for name, tensor in model[0].net.state_dict().items():
        assert torch.equal(tensor, saved[name]), name
    assert "fc.weight" not in model[0].net.state_dict()  # the classifier is gone
    other_seed = build_model(ModelSpec(_layers("resnet18", str(weight_files["resnet18"]))), (3, 32, 32), seed=4)
    assert torch.equal(other_seed[0].net.conv1.weight, model[0].net.conv1.weight)


def test_no_weights_start_from_the_seed() -> None:
    a, b, c = (build_model(ModelSpec(_layers("mobilenet_v3_small")), (3, 32, 32), seed=s)[0] for s in (1, 1, 2))
    first = a.net.features[0][0].weight
    assert torch.equal(first, b.net.features[0][0].weight) and not torch.equal(first, c.net.features[0][0].weight)


def test_a_file_of_another_model_says_which_names_and_shapes_do_not_fit(weight_files, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"does not fit resnet18: missing conv1\.weight.*unknown features"):
        build_model(ModelSpec(_layers("resnet18", str(weight_files["mobilenet_v3_small"]))), (3, 32, 32), 0)
    state = torch.load(weight_files["resnet18"], weights_only=True)
    state["layer4.1.conv2.weight"] = torch.zeros(512, 512, 1, 1)
    torch.save(state, tmp_path / "bent.pt")
    with pytest.raises(WeightsError, match=r"layer4\.1\.conv2\.weight is \(512, 512, 1, 1\) in the file but "
                                           r"\(512, 512, 3, 3\) in resnet18"):
        build_model(ModelSpec(_layers("resnet18", str(tmp_path / "bent.pt"))), (3, 32, 32), 0)


class _Payload:
    def __reduce__(self) -> tuple:
        return (os.system, ("echo hacked",))


def test_only_the_safe_loader_reads_weights(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"conv1.weight": _Payload()}))
    with pytest.raises(ProjectFileError, match="refused to load"):
        build_model(ModelSpec(_layers("resnet18", str(path))), (3, 32, 32), 0)
    with pytest.raises(WeightsError, match="does not exist"):
        build_model(ModelSpec(_layers("resnet18", str(tmp_path / "absent.pth"))), (3, 32, 32), 0)


def test_named_weights_come_from_the_local_hub_cache_only(weight_files, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(WeightsError, match=r"not in the local torchvision cache .*download-weights resnet18"):
        build_model(ModelSpec(_layers("resnet18", "IMAGENET1K_V1")), (3, 32, 32), 0)
    with pytest.raises(ConfigError, match="has no weights called 'IMAGENET9'; choose one of none, DEFAULT"):
        infer_shapes(_layers("resnet18", "IMAGENET9"), (3, 32, 32))
    cached = hub_file("resnet18", "DEFAULT")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(weight_files["resnet18"].read_bytes())
    model = build_model(ModelSpec(_layers("resnet18", "ResNet18_Weights.IMAGENET1K_V1")), (3, 32, 32), 0)
    assert model[0].pretrained and download("resnet18", "IMAGENET1K_V1") == cached


def test_download_without_a_network_is_refused_in_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    try:
        path = download("mobilenet_v3_small", "DEFAULT")
    except WeightsError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith("cannot download mobilenet_v3_small DEFAULT: no connection")
        assert str(hub_file("mobilenet_v3_small", "DEFAULT")) in message
        assert not list((tmp_path / "torch").rglob("*.pth"))
    else:  # a machine with a network fetched the real file
        assert path.is_file()


def test_normalisation_and_size_come_from_the_weights() -> None:
    need = backbone.expectation("efficientnet_b3", "DEFAULT")
    assert need.size == 300 and need.mean == pytest.approx(backbone.IMAGENET_MEAN)
    assert "224×224 RGB" in backbone.expectation("resnet18", "none").text()
    module = build_model(ModelSpec(_layers("resnet18")), (1, 20, 20), 0)[0].eval()
    seen = []
    module.net.conv1.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    grey = torch.rand(2, 1, 20, 20)
    module(grey)
    expected = nn.functional.interpolate(grey.expand(-1, 3, -1, -1), size=(224, 224), mode="bilinear")
    expected = (expected - torch.tensor(backbone.IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        backbone.IMAGENET_STD).view(1, 3, 1, 1)
    assert torch.allclose(seen[0], expected, atol=1e-5)


def test_trainable_last_stages_freeze_the_rest_and_keep_their_statistics() -> None:
    spec = ModelSpec(_layers("resnet18", trainable="last 2", early_lr=0.01))
    model = build_model(spec, (3, 32, 32), 0)
    net = model[0].net
    assert not any(p.requires_grad for m in (net.conv1, net.bn1, net.layer1, net.layer2) for p in m.parameters())
    assert all(p.requires_grad for m in (net.layer3, net.layer4) for p in m.parameters())
    report = infer_shapes(spec.layers, (3, 32, 32))[0]
    assert report.trainable == sum(p.numel() for p in net.parameters() if p.requires_grad) < report.params
    model.train()
    assert not net.layer2.training and net.layer4.training and not net.bn1.training
    groups = param_groups(model, spec.layers, 1.0)
    rates = [g["lr"] for g in groups if g["layer"] == 0]
    assert rates == sorted(rates) and rates[-1] == pytest.approx(1.0) and rates[0] == pytest.approx(0.01 ** 0.2)
    with pytest.raises(ConfigError, match="nothing to train"):
        alone = _layers(trainable="none")[:1]
        param_groups(build_model(ModelSpec(alone), (3, 32, 32), 0), alone, 1)


def test_a_backbone_needs_unscaled_pictures() -> None:
    project = Project(model=ModelSpec(_layers()), data=DataSpec(preprocessing="standardize"))
    with pytest.raises(ConfigError, match="normalises its pictures itself.*set the data's preprocessing to none"):
        Trainer(project)


def _folder(root: Path) -> Path:
    """Three classes of four small random RGB pictures."""
    rng = np.random.default_rng(0)
    for name in ("cat", "cow", "dog"):
        (root / name).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


def _project(weights: str, folder: Path) -> Project:
    layers = [LayerSpec("Backbone", {"model": "mobilenet_v3_small", "weights": weights, "trainable": "last 2"}),
              LayerSpec("Dropout", {"p": 0.2}), LayerSpec("Linear", {"out_features": 3})]
    return Project(name="backbone export", model=ModelSpec(layers),
                   data=DataSpec("image_folder", {"root": str(folder), "image_size": 20}, preprocessing="none",
                                 val_fraction=0.25, seed=1),
                   optimizer=Choice("adam", {"lr": 0.001}),
                   training=TrainingSpec(epochs=1, batch_size=4, seed=5, device="cpu", stats_every=1))


@pytest.fixture(scope="module")
def trained(weight_files, tmp_path_factory) -> ExportSource:
    project = _project(str(weight_files["mobilenet_v3_small"]), _folder(tmp_path_factory.mktemp("pictures")))
    data = prepare_data(project.data)
    trainer = Trainer(project, data)
    end = trainer.fit()
    return ExportSource.from_data(trainer.project, trainer.model, data, end.history)


def _run_plain_python(code: str, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TORCH_HOME"] = str(cwd / "no-cache")  # no torchvision weights cache: the bundle must carry them
    check = "\nimport sys\nassert not any(m.startswith('studio') for m in sys.modules), 'studio was imported'\n"
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + check], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_export_format_embeds_the_backbone(trained: ExportSource, tmp_path: Path) -> None:
    x = trained.sample_inputs[:3]
    with torch.no_grad():
        expected = trained.model.eval()(x)
    report = export(trained, "bundle", tmp_path / "bundle")
    assert report.max_abs_diff <= 1e-4
    names = {p.name for p in report.path.rglob("*")}
    assert {"model.onnx", "model.pt2", "model.py", "model.safetensors"} <= names
    onnx_file = next(report.path.rglob("model.onnx"))
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x.numpy()})
    assert torch.allclose(torch.from_numpy(got), expected, atol=1e-4)
    python = next(report.path.rglob("model.py")).parent
    assert "class Backbone(nn.Module):" in (python / "model.py").read_text()
    torch.save(x, python / "x.pt")
    rates = sorted(g["lr"] for g in param_groups(trained.model, trained.project.model.layers, 0.001))
    _run_plain_python("""
        import torch
        from model import build_model, load_model
        torch.save(load_model()(torch.load("x.pt", weights_only=True)), "out.pt")
        from train import make_optimizer
        rates = sorted(group["lr"] for group in make_optimizer(build_model()).param_groups)
        torch.save(torch.tensor(rates, dtype=torch.float64), "rates.pt")
    """, python)
    assert torch.allclose(torch.load(python / "out.pt", weights_only=True), expected, atol=1e-4)
    assert torch.load(python / "rates.pt", weights_only=True).tolist() == pytest.approx(rates)


def test_download_weights_command_is_one_line_without_a_network(tmp_path: Path) -> None:
    env = {**os.environ, "TORCH_HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "main.py", "download-weights", "nosuch"], capture_output=True,
                            text=True, timeout=300, env=env, cwd=env["PYTHONPATH"])
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "'nosuch' is not a torchvision classification model" in result.stderr


def test_inspect_views_handle_a_backbone(trained: ExportSource, tmp_path: Path) -> None:
    from studio.core.inspect.activations import first_layer_weights, layer_activations
    from studio.core.inspect.inputs import predict_files
    from studio.core.inspect.weights import layer_weights

    names = tuple(trained.layer_labels())
    x = trained.sample_inputs[:2]
    activations = layer_activations(trained.model, x[0], names)
    assert [a.name for a in activations] == list(names) and activations[0].values.size == 1024
    filters = first_layer_weights(trained.model, names, (20, 20, 3))
    assert filters is not None and filters.layer == names[0] and filters.images.shape[-1] == 3  # RGB kernels
    rows = layer_weights(trained.model, names)
    assert rows[0].label == names[0] and "net.features.0.0.weight" in rows[0].text()
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / "try.png")
    ((_, readout),) = predict_files(trained, tmp_path / "try.png")
    assert readout.label in ("cat", "cow", "dog")


def test_per_layer_statistics_cover_the_backbone_row() -> None:
    from studio.core.stats import LayerStatsCollector

    layers = _layers("resnet18", trainable="last 1")
    model = build_model(ModelSpec(layers), (3, 32, 32), 0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    collector = LayerStatsCollector(model, ("1 Backbone", "2 Linear"))
    collector.begin()
    nn.functional.cross_entropy(model(torch.rand(4, 3, 32, 32)), torch.tensor([0, 1, 2, 0])).backward()
    collector.after_backward()
    optimizer.step()
    stats = collector.finish(1, 0)
    collector.remove()
    assert np.isfinite(stats.act_mean).all() and np.isfinite(stats.grad_norm).all()
    assert stats.update_ratio[0] > 0  # the trainable last stage moved
