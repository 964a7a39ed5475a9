"""Precision, channels_last and compile on the CPU: bf16 trains, fp16's scaler state resumes exactly, layouts agree.

fp16 is refused on the CPU (it is for GPUs). Its gradient scaler is PyTorch's own and also runs on the
CPU, so the tests that follow its state through a checkpoint let the fp16 entry accept the CPU for
their duration: the scaler then really scales, unscales and skips steps, as it would on a GPU.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from studio.core.callbacks import EventLog
from studio.core.checkpoint import CheckpointCallback, load_checkpoint, resume_fit
from studio.core.engine import Trainer, runtime
from studio.core.engine.precision import PRECISIONS, autocast, check_precision, make_scaler
from studio.core.errors import ConfigError
from studio.core.events import FitStart, LayerStats
from studio.core.project import Choice, LayerSpec, ModelSpec, Project, TrainingSpec
from tests.core.test_engine import blobs, mlp_project


def images(n: int = 40, n_val: int = 8):
    """Tiny 1×6×6 pictures whose class is the brightest quadrant."""
    from studio.core.data import PreparedData, Preprocessing

    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (n + n_val,), generator=g)
    x = torch.randn(n + n_val, 1, 6, 6, generator=g) * 0.3
    for i, label in enumerate(y.tolist()):
        r, c = divmod(label, 2)
        x[i, 0, r * 3 : r * 3 + 3, c * 3 : c * 3 + 3] += 1.0
    return PreparedData(x[:n], y[:n], x[n:], y[n:], (1, 6, 6), "classification", 4, ("a", "b", "c", "d"), 0,
                        Preprocessing("none"))


def cnn_project(**training: object) -> Project:
    layers = [LayerSpec("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), LayerSpec("BatchNorm2d"),
              LayerSpec("ReLU"), LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 4})]
    spec = TrainingSpec(epochs=3, batch_size=8, seed=0, device="cpu", stats_every=2, **training)  # type: ignore[arg-type]
    return Project(model=ModelSpec(layers), optimizer=Choice("sgd", {"lr": 0.05, "momentum": 0.9}), training=spec)


def test_bf16_trains_on_the_cpu() -> None:
    log = EventLog()
    end = Trainer(mlp_project(epochs=6, precision="bf16"), blobs(), [log]).fit()
    assert end.reason == "completed"
    losses = [e.train_loss for e in end.history]
    assert losses[-1] < 0.5 * losses[0]
    assert log.of_type(FitStart)[0].precision == "bf16"
    assert all(torch.isfinite(torch.tensor(s.act_var)).any() for s in log.of_type(LayerStats))


def test_bf16_runs_products_in_bf16_and_keeps_weights_in_fp32() -> None:
    trainer = Trainer(mlp_project(precision="bf16"), blobs())
    with autocast(trainer.runtime.precision, trainer.device):
        assert trainer.model(trainer.data.x_train[:2]).dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert trainer.runtime.scaler is None


def test_fp16_on_the_cpu_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match="precision fp16 needs a CUDA device.*choose fp32 or bf16") as info:
        Trainer(mlp_project(precision="fp16"), blobs())
    assert info.value.field == "precision"
    with pytest.raises(ConfigError, match="unknown precision 'fp8'"):
        check_precision("fp8", torch.device("cpu"))
    assert check_precision("fp16", torch.device("cuda", 0)).scaled  # a CUDA device takes it (not run here)


@pytest.fixture
def fp16_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let fp16 (autocast float16 and PyTorch's GradScaler) run on the CPU for one test."""
    entry = PRECISIONS.get("fp16")
    monkeypatch.setitem(PRECISIONS._entries, "fp16", dataclasses.replace(entry, devices=("cpu", "cuda")))


def test_fp16_scaler_state_goes_into_checkpoints_and_resumes_exactly(fp16_on_cpu: None, tmp_path: Path) -> None:
    project, data = cnn_project(precision="fp16"), images()
    full = Trainer(project, data, [CheckpointCallback(tmp_path, every=1, keep=5)])
    assert isinstance(full.runtime.scaler, torch.amp.GradScaler) and full.runtime.scaler.is_enabled()
    full.fit()
    state = full.training_state()
    assert state["scaler"]["_growth_tracker"] > 0 and state["scaler"]["scale"] > 1  # it scaled and counted steps
    saved = load_checkpoint(tmp_path / "epoch-0002.ckpt")
    assert saved.state["scaler"]["scale"] == pytest.approx(float(saved.state["scaler"]["scale"]))
    resumed, _ = resume_fit(tmp_path / "epoch-0002.ckpt", data=data)
    assert resumed.runtime.scaler is not None
    assert resumed.runtime.scaler.state_dict() == full.runtime.scaler.state_dict()
    for name, tensor in state["model"].items():
        assert torch.equal(resumed.training_state()["model"][name], tensor), name


def test_a_checkpoint_without_scaler_state_resumes_with_a_fresh_scaler(fp16_on_cpu: None) -> None:
    trainer = Trainer(cnn_project(precision="fp16"), images())
    trainer.runtime.load_state_dict({})  # an fp32 checkpoint continued in fp16
    assert trainer.runtime.scaler.state_dict()["scale"] == make_scaler(
        PRECISIONS.get("fp16"), torch.device("cpu")).state_dict()["scale"]


def test_channels_last_trains_the_same_network() -> None:
    plain = Trainer(cnn_project(), images())
    last = Trainer(cnn_project(channels_last=True), images())
    assert last.model[0].weight.is_contiguous(memory_format=torch.channels_last)
    x, _ = next(iter(last.batches.epoch(0)))
    assert x.is_contiguous(memory_format=torch.channels_last)
    a, b = plain.fit(), last.fit()
    assert [e.train_loss for e in b.history] == pytest.approx([e.train_loss for e in a.history], abs=1e-5)
    for (name, p), q in zip(plain.model.state_dict().items(), last.model.state_dict().values(), strict=True):
        assert torch.allclose(p, q, atol=1e-5), name


def test_compile_trains_like_eager_and_still_samples_statistics(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.compile's tracing with the "eager" backend (the C++ kernels of the default one take minutes here)."""
    monkeypatch.setattr(runtime, "COMPILE_BACKEND", "eager")
    log = EventLog()
    compiled = Trainer(mlp_project(compile=True), blobs(), [log])
    end = compiled.fit()
    reference = Trainer(mlp_project(), blobs()).fit()
    assert [e.train_loss for e in end.history] == pytest.approx([e.train_loss for e in reference.history], abs=1e-6)
    assert len(log.of_type(LayerStats)) == end.steps // 3  # stats_every=3: sampled steps run eagerly


def test_a_backend_that_cannot_compile_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(gm: torch.fx.GraphModule, example_inputs: list) -> None:
        raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nlong details")

    monkeypatch.setattr(runtime, "COMPILE_BACKEND", broken)
    with pytest.raises(ConfigError, match=r"^compile failed on this machine \(.*No working C\+\+ compiler") as info:
        Trainer(mlp_project(compile=True), blobs()).fit()
    assert info.value.field == "compile" and "\n" not in str(info.value)
