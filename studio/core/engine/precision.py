"""Number formats for training: fp32, or mixed precision with bf16 or fp16 (with a gradient scaler).

Mixed precision runs the forward pass and the loss under ``torch.autocast``: matrix products and
convolutions in 16 bits, reductions and the weights in float32. bf16 has float32's range, so it
needs nothing more; fp16 does not, so its loss is multiplied by a :class:`torch.amp.GradScaler`
before ``backward`` (small gradients would otherwise round to zero), the gradients are divided
again before the step, and steps with infinite gradients are skipped while the scale adapts.
The scaler's state is part of a checkpoint, so a resumed fp16 run continues exactly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import torch

from studio.core.errors import ConfigError
from studio.core.registry import Registry
from studio.core.vocab import Precision


@dataclass(frozen=True)
class PrecisionType:
    """One number format: its autocast dtype (None: plain float32), whether it scales the loss, where it runs."""

    name: str
    label: str
    dtype: torch.dtype | None
    scaled: bool
    devices: tuple[str, ...]
    help: str


PRECISIONS: Registry[PrecisionType] = Registry("precision")
for _entry in (
    PrecisionType(Precision.FP32, "fp32", None, False, ("cpu", "cuda", "mps"),
                  "32-bit floats everywhere: the reference, on every device."),
    PrecisionType(Precision.BF16, "bf16 (mixed)", torch.bfloat16, False, ("cpu", "cuda", "mps"),
                  "Products in bfloat16, weights in float32: about twice as fast on recent GPUs, same range as fp32."),
    PrecisionType(Precision.FP16, "fp16 (mixed, scaled)", torch.float16, True, ("cuda",),
                  "Products in float16 with a gradient scaler: for GPUs without bfloat16 (before Ampere)."),
):
    PRECISIONS.register(_entry.name, _entry)

# Extra checks per device kind: a GPU may lack bfloat16 (CUDA before compute capability 8.0).
_DEVICE_CHECKS: dict[str, Callable[[PrecisionType, torch.device], str]] = {
    "cuda": lambda p, d: "" if p.dtype != torch.bfloat16 or torch.cuda.is_bf16_supported() else
    f"{torch.cuda.get_device_name(d)} has no bfloat16 support; choose fp16",
}


def check_precision(name: str, device: torch.device) -> PrecisionType:
    """The precision called ``name`` if it runs on ``device``; a :class:`ConfigError` naming the field otherwise."""
    precision = PRECISIONS.get(name)
    if device.type not in precision.devices:
        where = " or ".join(d.upper() for d in precision.devices)
        raise ConfigError(f"precision {name} needs a {where} device; this run trains on the {device.type.upper()}:"
                          f" choose {' or '.join(p for p in PRECISIONS if device.type in PRECISIONS.get(p).devices)}",
                          field="precision")
    check = _DEVICE_CHECKS.get(device.type)
    problem = check(precision, device) if check is not None else ""
    if problem:
        raise ConfigError(f"precision {name}: {problem}", field="precision")
    return precision


def autocast(precision: PrecisionType, device: torch.device) -> contextlib.AbstractContextManager[None]:
    """The context the forward pass and the loss run in (a no-op for fp32)."""
    if precision.dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=precision.dtype)


def make_scaler(precision: PrecisionType, device: torch.device) -> torch.amp.GradScaler | None:
    """The gradient scaler of a scaled precision (fp16), None otherwise."""
    return torch.amp.GradScaler(device.type) if precision.scaled else None
