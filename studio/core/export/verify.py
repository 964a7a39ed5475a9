"""Export-time verification: the exported file, run by its real consumer, must reproduce the in-app model."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from studio.core.errors import StudioError

TOLERANCE = 1e-4
Runner = Callable[[torch.Tensor], torch.Tensor]


class ExportError(StudioError):
    """An export could not be written, or its outputs differ from the in-app model."""


def reference_outputs(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """The in-app model's outputs (eval mode, no gradients) on ``inputs``."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs: torch.Tensor = model(inputs).detach().cpu()
            return outputs
    finally:
        model.train(was_training)


def max_abs_diff(expected: torch.Tensor, got: torch.Tensor) -> float:
    """Largest absolute difference; a shape mismatch is an export failure, not a number."""
    got = torch.as_tensor(got).detach().cpu().to(expected.dtype)
    if got.shape != expected.shape:
        raise ExportError(
            f"the exported model returns shape {tuple(got.shape)}, the in-app model {tuple(expected.shape)}"
        )
    if got.numel() == 0:
        return 0.0
    return float((expected - got).abs().max())


def check(
    fmt: str, runner: Runner, expected: torch.Tensor, inputs: torch.Tensor, tolerance: float = TOLERANCE
) -> float:
    """Run ``runner`` on ``inputs`` and compare with ``expected``; raise :class:`ExportError` above ``tolerance``."""
    with torch.no_grad():
        diff = max_abs_diff(expected, runner(inputs))
    if not diff <= tolerance:  # also catches NaN
        raise ExportError(
            f"the {fmt} export does not reproduce the model: outputs differ by up to {diff:.3g} on {len(inputs)}"
            f" real inputs (allowed: {tolerance:g}); the file was not saved"
        )
    return diff
