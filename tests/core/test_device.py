"""Device choice: auto prefers accelerators, a missing device is a clear ConfigError, the list explains absences."""

from __future__ import annotations

import pytest
import torch

from studio.core import device
from studio.core.errors import ConfigError

GPUS = [("NVIDIA H200", 150 * 2**30), ("NVIDIA A100-SXM4-40GB", 40 * 2**30)]


def fake_machine(monkeypatch: pytest.MonkeyPatch, gpus: list[tuple[str, int]], mps: bool) -> None:
    """A machine with ``gpus`` (name, bytes) and, if ``mps``, an Apple GPU; the real probes describe them."""
    monkeypatch.setattr(device, "_cuda_gpus", lambda: list(gpus))
    absent = device.DeviceInfo("mps", "Apple GPU (MPS)", available=False, reason="MPS exists only on Macs")
    present = device.DeviceInfo("mps", "Apple GPU (MPS)")
    monkeypatch.setitem(device._PROBES, "mps", lambda: [present] if mps else [absent])


def test_cpu_is_always_available_and_last() -> None:
    names = device.available_devices()
    assert names[-1] == "cpu"
    assert device.pick_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize(("gpus", "mps", "expected"), [(GPUS, True, "cuda"), ([], True, "mps"), ([], False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch, gpus: list, mps: bool,
                                             expected: str) -> None:
    fake_machine(monkeypatch, gpus, mps)
    assert device.pick_device("auto").type == expected


def test_a_missing_device_is_a_config_error_that_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_machine(monkeypatch, [], mps=False)
    with pytest.raises(ConfigError, match="no CUDA device") as info:
        device.pick_device("cuda")
    assert info.value.field == "device"
    assert "available: cpu" in str(info.value)
    assert "CUDA" in str(info.value).split("(")[1]  # the reason: CPU-only build, or no GPU/driver


def test_an_unknown_device_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="must be one of auto, cpu, cuda, mps"):
        device.pick_device("tpu")


def test_each_gpu_is_listed_by_name_and_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_machine(monkeypatch, GPUS, mps=False)
    listed = device.list_devices()
    assert [d.name for d in listed] == ["cuda:0", "cuda:1", "mps", "cpu"]
    assert listed[0].label == "NVIDIA H200 · 150.0 GB" and listed[0].memory == 150 * 2**30
    assert listed[1].label.startswith("NVIDIA A100")
    assert not listed[2].available and listed[2].reason
    assert listed[3].label.startswith("CPU · ")
    assert device.device_choices() == ("auto", "cuda", "cpu", "cuda:0", "cuda:1")
    assert device.pick_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(ConfigError, match="there is no cuda:2"):
        device.pick_device("cuda:2")


def test_an_absent_gpu_is_listed_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_machine(monkeypatch, [], mps=False)
    cuda = next(d for d in device.list_devices() if d.kind == "cuda")
    assert not cuda.available
    expected = "without CUDA" if torch.version.cuda is None else "no NVIDIA GPU"
    assert expected in cuda.reason == device.absent_reason("cuda")
    assert device.absent_reason("cpu") == ""
    assert device.device_choices() == ("auto", "cpu")


def test_one_gpu_is_not_listed_twice_among_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_machine(monkeypatch, GPUS[:1], mps=True)
    assert device.device_choices() == ("auto", "cuda", "mps", "cpu")
    assert device.cuda_count() == 1
