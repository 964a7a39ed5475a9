"""Device choice: auto prefers accelerators, a missing device is a clear ConfigError."""

from __future__ import annotations

import pytest
import torch

from studio.core import device
from studio.core.errors import ConfigError


def fake_machine(monkeypatch: pytest.MonkeyPatch, cuda: bool, mps: bool) -> None:
    monkeypatch.setitem(device._PROBES, "cuda", lambda: cuda)
    monkeypatch.setitem(device._PROBES, "mps", lambda: mps)


def test_cpu_is_always_available_and_last() -> None:
    names = device.available_devices()
    assert names[-1] == "cpu"
    assert device.pick_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"), [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")]
)
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch, cuda: bool, mps: bool,
                                             expected: str) -> None:
    fake_machine(monkeypatch, cuda, mps)
    assert device.pick_device("auto").type == expected


def test_a_missing_device_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_machine(monkeypatch, cuda=False, mps=False)
    with pytest.raises(ConfigError, match="no CUDA device") as info:
        device.pick_device("cuda")
    assert info.value.field == "device"
    assert "available: cpu" in str(info.value)


def test_an_unknown_device_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="must be one of auto, cpu, cuda, mps"):
        device.pick_device("tpu")
