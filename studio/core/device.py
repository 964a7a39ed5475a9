"""Which device trains: ``auto`` prefers CUDA, then Apple's MPS, then the CPU.

Asking for a device that this machine lacks is a user error with a clear message, never a
silent fallback to the CPU (a learner would otherwise wonder why training is slow).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from studio.core.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


# Probes in order of preference for "auto"; the CPU is always there.
_PROBES: dict[str, Callable[[], bool]] = {
    "cuda": torch.cuda.is_available,
    "mps": _mps_available,
    "cpu": lambda: True,
}


def available_devices() -> list[str]:
    """The devices this machine can train on, best first (``cpu`` is always last)."""
    return [name for name, probe in _PROBES.items() if probe()]


def pick_device(pref: str = "auto") -> torch.device:
    """The ``torch.device`` for a project's ``training.device`` setting."""
    if pref not in DEVICE_CHOICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)}; got {pref!r}", field="device")
    available = available_devices()
    if pref == "auto":
        return torch.device(available[0])
    if pref not in available:
        raise ConfigError(
            f"this computer has no {pref.upper()} device (available: {', '.join(available)}); "
            "choose 'auto' or one of those",
            field="device",
        )
    return torch.device(pref)
