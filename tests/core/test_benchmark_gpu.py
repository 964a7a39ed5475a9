"""benchmarks/gpu.py runs: its CPU dry run's paths at toy sizes (no GPU here; the figures mean nothing)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("gpu_benchmark", ROOT / "benchmarks" / "gpu.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_gpu_benchmark_runs_every_setting_and_a_scaling_worker(tmp_path: Path) -> None:
    gpu = load_benchmark()
    size = gpu.Size(widths=(2, 4), image=8, samples=32, batch=8, epochs=1, repeats=1)
    layers = gpu.resnet18_sized((64, 128, 256, 512))
    assert sum(layer.type == "Conv2d" for layer in layers) == 17  # ResNet-18's convolutions, without shortcuts
    rows = gpu.single_device(size, torch.device("cpu"))
    assert [row[0] for row in rows] == ["fp32", "bf16", "bf16 + channels_last"]
    assert all(engine > 0 and hand > 0 for _, engine, hand, _ in rows)
    gpu.worker(tmp_path / "result.json", "cpu", size)  # one process: what torchrun starts N of
    assert json.loads((tmp_path / "result.json").read_text())["samples_per_s"] > 0
