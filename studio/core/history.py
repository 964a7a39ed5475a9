"""The session's run history: one plain record per training run, built from the engine's events.

Qt-free so that the command line and tests can keep and compare runs too; the GUI's run list
and the plots' overlays read these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart
from studio.core.project import Project

FAILED = "failed"  # stop reason of a run that raised instead of ending with a FitEnd


def epoch_position(epoch: int, batch: int, steps_per_epoch: int) -> float:
    """Where a batch lies on an epoch axis: batch 32 of 64 in epoch 3 is 2.5.

    Curves are drawn against epochs, not steps, so runs with different batch sizes line up.
    """
    return epoch - 1 + batch / max(steps_per_epoch, 1)


@dataclass
class RunRecord:
    """One training run: its settings, its curves and how it ended."""

    id: int
    name: str
    project: Project
    batch_epochs: list[float] = field(default_factory=list)  # x of each per-batch loss, in epochs
    batch_losses: list[float] = field(default_factory=list)
    epochs: list[EpochEnd] = field(default_factory=list)
    reason: str = ""
    message: str = ""
    folder: Path | None = None  # the run folder it was saved in (None: not saved, or not yet)
    param_count: int | None = None

    @property
    def final(self) -> EpochEnd | None:
        """Metrics of the last finished epoch (None when the run ended before one)."""
        return self.epochs[-1] if self.epochs else None


class RunRecorder:
    """Fills a :class:`RunRecord` from events; :meth:`finish` or :meth:`fail` hands it over."""

    def __init__(self, run_id: int, project: Project, name: str | None = None) -> None:
        self.record = RunRecord(run_id, name or f"Run {run_id}", project.copy())
        self._steps_per_epoch = 1

    def fit_start(self, event: FitStart) -> None:
        self._steps_per_epoch = event.steps_per_epoch
        self.record.param_count = event.param_count

    def batches(self, events: list[BatchEnd]) -> None:
        for event in events:
            self.record.batch_epochs.append(epoch_position(event.epoch, event.batch, self._steps_per_epoch))
            self.record.batch_losses.append(event.loss)

    def epoch_ends(self, events: list[EpochEnd]) -> None:
        self.record.epochs.extend(events)

    def finish(self, event: FitEnd) -> RunRecord:
        """The finished record; the engine's own epoch history is authoritative for the epochs."""
        self.record.epochs = list(event.history)
        self.record.reason, self.record.message = event.reason, event.message
        return self.record

    def fail(self, message: str) -> RunRecord:
        self.record.reason, self.record.message = FAILED, message
        return self.record
