"""Where a fit stands (epoch, batch, step, history, early-stopping record), and its exact-resume dict.

``training_state()`` is plain data (tensors, numbers, lists, dicts) so a checkpoint can store it
with ``torch.save`` and read it back with ``weights_only=True``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from studio.core.engine.metrics import EpochTotals
from studio.core.errors import ProjectFileError
from studio.core.events import EpochEnd
from studio.core.optim import Schedule

STATE_VERSION = 1
# What ``Trainer.training_state()`` returns and ``fit(resume=...)`` takes: tensors, numbers, lists, dicts.
FitState = dict[str, Any]


@dataclass
class FitPosition:
    """Where the fit stands (epoch, batch, step) and what it remembers on the way (history, the
    early-stopping record, the running epoch's totals): everything but the weights, optimizer and schedule.
    """

    epoch: int = 0  # epochs completed
    batch: int = 0  # batches done in the current epoch
    step: int = 0  # batches done since the fit began
    history: list[EpochEnd] = field(default_factory=list)
    best_loss: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0
    totals: EpochTotals = field(default_factory=EpochTotals)

    def record(self, monitored: float) -> None:
        """Update the early-stopping record with this epoch's monitored loss (lower is better)."""
        if math.isfinite(monitored) and (self.best_loss is None or monitored < self.best_loss):
            self.best_loss, self.best_epoch, self.bad_epochs = monitored, self.epoch, 0
        else:
            self.bad_epochs += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "batch": self.batch,
            "step": self.step,
            "history": [asdict(event) for event in self.history],
            "best": {"loss": self.best_loss, "epoch": self.best_epoch, "bad_epochs": self.bad_epochs},
            "partial": asdict(self.totals),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> FitPosition:
        best = state.get("best", {})
        return cls(
            epoch=int(state["epoch"]),
            batch=int(state.get("batch", 0)),
            step=int(state["step"]),
            history=[EpochEnd(**event) for event in state.get("history", [])],
            best_loss=best.get("loss"),
            best_epoch=best.get("epoch"),
            bad_epochs=int(best.get("bad_epochs", 0)),
            totals=EpochTotals(**state.get("partial", {})),
        )


def capture(
    model: nn.Module, optimizer: torch.optim.Optimizer, schedule: Schedule, position: FitPosition,
    device: torch.device | None = None,
) -> FitState:
    """A copy of everything a fit needs to continue exactly from here (``device``: the one training runs on)."""
    return {
        "version": STATE_VERSION,
        "model": {name: tensor.detach().clone() for name, tensor in model.state_dict().items()},
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "schedule": copy.deepcopy(schedule.state_dict()),
        "rng": rng_state(device),
        **position.to_dict(),
    }


def restore(
    state: FitState, model: nn.Module, optimizer: torch.optim.Optimizer, schedule: Schedule,
    device: torch.device | None = None,
) -> FitPosition:
    """Load ``state`` (from :func:`capture`) into the parts; a mismatch is a clear :class:`ProjectFileError`."""
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        position = FitPosition.from_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ProjectFileError(f"cannot resume: the saved training state does not fit this project ({exc})") from None
    set_rng_state(state.get("rng", {}), device)
    return position


def _generator_device(device: torch.device | None) -> torch.device | None:
    """The accelerator whose generator is saved: ``device``, or by default the current CUDA GPU, else MPS."""
    if device is not None:
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("mps") if torch.backends.mps.is_available() else None


def rng_state(device: torch.device | None = None) -> dict[str, Any]:
    """Copies of torch's global random number generators: the CPU's, and the training GPU's (or MPS's).

    Only the GPU that trains: under torchrun, asking every GPU's generator would open a CUDA context on each
    GPU in every process. ``"cuda"`` is a list of one state; older checkpoints hold one per GPU.
    """
    rng: dict[str, Any] = {"torch": torch.get_rng_state()}
    accelerator = _generator_device(device)
    if accelerator is not None and accelerator.type == "cuda":
        rng["cuda"] = [torch.cuda.get_rng_state(accelerator)]
    if accelerator is not None and accelerator.type == "mps":
        rng["mps"] = torch.mps.get_rng_state()
    return rng


@contextmanager
def preserved_rng(device: torch.device | None = None) -> Iterator[None]:
    """Run the block, then put torch's global generators back as they were."""
    saved = rng_state(device)
    try:
        yield
    finally:
        set_rng_state(saved, device)


def set_rng_state(rng: dict[str, Any], device: torch.device | None = None) -> None:
    """Put back generators saved by :func:`rng_state` (those it has, on the device that trains)."""
    if "torch" in rng:
        torch.set_rng_state(rng["torch"])
    accelerator = _generator_device(device)
    if rng.get("cuda") and accelerator is not None and accelerator.type == "cuda":
        torch.cuda.set_rng_state(rng["cuda"][0], accelerator)
    if "mps" in rng and accelerator is not None and accelerator.type == "mps":
        torch.mps.set_rng_state(rng["mps"])
