"""The Inspect views of a run that trains in another process, from the weights it saves.

A run started as another process (torchrun, a command) cannot hand its network to the window's
:class:`~studio.core.inspect.live.InspectCallback`, but it writes checkpoints and, at its end, a
run folder. :class:`SavedRun` is what that callback reads of a trainer (the project, the data,
the network, the fit's position), rebuilt in the window from those files, so the same callback computes
the same views: the evaluation and boundary after the epochs whose weights are saved, and
everything with the final weights at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from studio.core.build import build_model
from studio.core.checkpoint import latest_checkpoint, load_checkpoint
from studio.core.data import PreparedData
from studio.core.engine.state import FitPosition
from studio.core.project import Project
from studio.core.runs import is_run_folder, load_run


@dataclass
class SavedRun:
    """A trainer as an inspect callback sees it, with the weights of a run saved by another process."""

    project: Project
    data: PreparedData
    model: nn.Module
    position: FitPosition = field(default_factory=FitPosition)
    loaded: Path | None = None  # the file whose weights the model holds

    @classmethod
    def start(cls, project: Project, data: PreparedData) -> SavedRun:
        """The network before training: built from the project's seed, as the other process built it."""
        return cls(project.copy(), data, build_model(project.model, data.input_shape, project.training.seed).eval())

    def load_latest(self, folder: Path) -> bool:
        """Take the newest checkpoint's weights from ``folder``'s ``checkpoints``; False when none is newer."""
        found = latest_checkpoint(folder)
        if found is None or found == self.loaded:
            return False
        checkpoint = load_checkpoint(found)
        self._load(checkpoint.model_state(), found, checkpoint.epoch, checkpoint.step)
        return True

    def load_final(self, folder: Path, epochs: int, steps: int) -> bool:
        """Take the run folder's final weights (or the newest checkpoint when the run wrote no folder)."""
        if not is_run_folder(folder):
            return self.load_latest(folder)
        self._load(load_run(folder).state_dict, folder, epochs, steps)
        return True

    def _load(self, state: dict[str, torch.Tensor], source: Path, epoch: int, step: int) -> None:
        self.model.load_state_dict(state)
        self.loaded = source
        self.position.epoch, self.position.step = epoch, step
