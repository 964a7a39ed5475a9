"""Without the ``onnx`` extra, the ONNX format says how to install it (writing nothing) and the bundle
leaves its ONNX part out; every other format works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.export import ExportError, ExportSource, export
from studio.core.export.onnx import NEEDS, onnx_installed
from studio.core.project import DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec

ROOT = Path(__file__).resolve().parents[2]


def _source() -> ExportSource:
    project = Project(
        name="onnx extra", model=ModelSpec(layers=[LayerSpec("Linear", {"out_features": 10})]),
        data=DataSpec(subset_per_class=5, seed=1), training=TrainingSpec(epochs=1, batch_size=16, device="cpu"),
    )
    data = prepare_data(project.data)
    trainer = Trainer(project, data)
    return ExportSource.from_data(trainer.project, trainer.model, data, trainer.fit().history)


def test_the_onnx_format_without_the_extra_names_the_install_command(monkeypatch, tmp_path: Path) -> None:
    source = _source()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    assert not onnx_installed()
    with pytest.raises(ExportError, match=r"pip install 'training-studio\[onnx\]'"):
        export(source, "onnx", tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []
    assert export(source, "safetensors", tmp_path / "model.safetensors").path.is_file()


def test_the_bundle_leaves_onnx_out_without_the_extra() -> None:
    hide = "; ".join(f"sys.modules[{name!r}] = None" for name in NEEDS)
    code = f"import sys; {hide}; from studio.core.export.bundle import PARTS; print(','.join(PARTS))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["state_dict,safetensors,pt2,torchscript,python"]
