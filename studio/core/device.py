"""Which device trains: ``auto`` prefers CUDA, then Apple's MPS, then the CPU.

Asking for a device that this machine lacks is a user error with a clear message, never a
silent fallback to the CPU (a learner would otherwise wonder why training is slow).
:func:`list_devices` describes everything this machine has (each CUDA GPU by name and memory)
and says why a kind of device is absent, for the GUI's device list and ``python main.py info``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import torch

from studio.core.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
# A setting names a kind ("cuda": the first GPU, or each process's own under torchrun) or one GPU ("cuda:1").
_INDEXED = re.compile(r"^cuda:(\d+)$")
# Every value ``training.device`` may hold, for the project file's schema.
DEVICE_PATTERN = "^(auto|cpu|cuda|mps|cuda:[0-9]+)$"


@dataclass(frozen=True)
class DeviceInfo:
    """One device of this machine, or one kind of device it lacks (``available`` False, with ``reason``)."""

    name: str  # the value for ``training.device``: "cpu", "cuda:0", "mps"; the kind when absent
    label: str  # for people: "NVIDIA H200 · 139.8 GB"
    available: bool = True
    memory: int | None = None  # bytes (the machine's RAM for the CPU)
    reason: str = ""  # why it is absent

    @property
    def kind(self) -> str:
        return self.name.split(":")[0]


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GB"


def _ram() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not on Windows
        return None


def _cpu() -> list[DeviceInfo]:
    ram = _ram()
    cores = os.cpu_count() or 1
    label = f"CPU · {cores} cores" + (f" · {_gib(ram)}" if ram else "")
    return [DeviceInfo("cpu", label, memory=ram)]


def _cuda_gpus() -> list[tuple[str, int]]:
    """(name, total memory in bytes) of each CUDA GPU PyTorch can use."""
    if not torch.cuda.is_available():
        return []
    found = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        found.append((props.name, int(props.total_memory)))
    return found


def _cuda() -> list[DeviceInfo]:
    gpus = _cuda_gpus()
    if gpus:
        return [DeviceInfo(f"cuda:{i}", f"{name} · {_gib(memory)}", memory=memory) for i, (name, memory) in
                enumerate(gpus)]
    if torch.version.cuda is None:
        reason = "this PyTorch was installed without CUDA (a CPU-only build)"
    else:
        reason = f"PyTorch has CUDA {torch.version.cuda}, but finds no NVIDIA GPU or driver"
    return [DeviceInfo("cuda", "CUDA GPU", available=False, reason=reason)]


def _mps() -> list[DeviceInfo]:
    backend = getattr(torch.backends, "mps", None)
    if backend is not None and backend.is_available():
        return [DeviceInfo("mps", "Apple GPU (MPS)")]
    if sys.platform != "darwin":
        reason = "MPS exists only on Macs with Apple silicon"
    elif backend is None or not backend.is_built():
        reason = "this PyTorch was built without MPS"
    else:
        reason = "this Mac has no MPS-capable GPU, or macOS is older than 12.3"
    return [DeviceInfo("mps", "Apple GPU (MPS)", available=False, reason=reason)]


# Probes in order of preference for "auto"; the CPU is always there.
_PROBES: dict[str, Callable[[], list[DeviceInfo]]] = {"cuda": _cuda, "mps": _mps, "cpu": _cpu}


def list_devices() -> list[DeviceInfo]:
    """Every device of this machine, best first, and an entry with a reason for each kind it lacks."""
    return [info for probe in _PROBES.values() for info in probe()]


def available_devices() -> list[str]:
    """The kinds of device this machine can train on, best first (``cpu`` is always last)."""
    return [kind for kind, probe in _PROBES.items() if any(info.available for info in probe())]


def device_choices(devices: list[DeviceInfo] | None = None) -> tuple[str, ...]:
    """The values ``training.device`` may take: ``auto``, each present kind, each GPU if several.

    ``devices`` defaults to this machine's (:func:`list_devices`).
    """
    present = [info for info in (list_devices() if devices is None else devices) if info.available]
    gpus = [info.name for info in present if info.kind == "cuda"]
    return ("auto", *dict.fromkeys(info.kind for info in present), *(gpus if len(gpus) > 1 else ()))


def cuda_count() -> int:
    """How many CUDA GPUs PyTorch can use here."""
    return sum(1 for info in _PROBES["cuda"]() if info.available)


def absent_reason(kind: str) -> str:
    """Why ``kind`` is missing on this machine ("" when it is there)."""
    infos = [info for info in list_devices() if info.kind == kind]
    return "" if any(info.available for info in infos) else next((info.reason for info in infos), "")


def pick_device(pref: str = "auto") -> torch.device:
    """The ``torch.device`` for a project's ``training.device`` setting."""
    indexed = _INDEXED.match(pref)
    if pref not in DEVICE_CHOICES and not indexed:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)} or cuda:N; got {pref!r}",
                          field="device")
    available = available_devices()
    if pref == "auto":
        return torch.device(available[0])
    kind = "cuda" if indexed else pref
    if kind not in available:
        raise ConfigError(
            f"this computer has no {kind.upper()} device ({absent_reason(kind)}; available: {', '.join(available)});"
            " choose 'auto' or one of those",
            field="device",
        )
    if indexed and int(indexed.group(1)) >= cuda_count():
        raise ConfigError(f"this computer has {cuda_count()} CUDA GPU(s); there is no {pref}", field="device")
    return torch.device(pref)
