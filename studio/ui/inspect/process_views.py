"""The Inspect tab for runs in another process: its views computed from the weights the run saves.

A run in this window feeds the Inspect tab through an engine callback; a run started as another
process (:mod:`studio.ui.process_run`) has no callback here, but it saves checkpoints into its run
folder. After each epoch whose checkpoint is new, and at the end with the final weights, this
loads them in the worker thread into a :class:`~studio.core.inspect.replay.SavedRun` and lets the
same :class:`~studio.core.inspect.InspectCallback` compute the same views. It needs the data
loaded in this window (the Data tab); without it the tab says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from PySide6.QtCore import QObject

from studio.core.callbacks import FitContext
from studio.core.events import EpochEnd, FitEnd, FitStart
from studio.core.inspect import InspectCallback
from studio.core.inspect.replay import SavedRun
from studio.core.vocab import TrainingState
from studio.ui.inspect.panel import InspectPanel
from studio.ui.shell import Shell


class ProcessRunViews(QObject):
    """Follows the runs the window starts as other processes and fills ``panel`` from their saved weights."""

    def __init__(self, shell: Shell, panel: InspectPanel) -> None:
        super().__init__(panel)
        self.w = shell
        self.panel = panel
        self.folder: Path | None = None
        self._callback: InspectCallback | None = None
        self._run: SavedRun | None = None
        self._end: FitEnd | None = None
        shell.training.processRunStarted.connect(self._started)
        shell.training.stateChanged.connect(self._state_changed)
        shell.worker.fitStarted.connect(self._fit_started)
        shell.worker.epochsEnded.connect(self._epochs)
        shell.worker.fitEnded.connect(self._fit_ended)

    def _started(self, folder: str) -> None:
        self.folder = Path(folder)
        self._callback, self._run, self._end = None, None, None

    def _fit_started(self, event: FitStart) -> None:
        if self.folder is None:
            return  # a run in this window: its own callback feeds the tab
        data = self.w.data_panel.prepared()
        if data is None:
            self.panel.status.setText("Load the data in the Data tab to see this run's evaluation here.")
            return
        project = self.w.current_project()
        self._callback = callback = InspectCallback(self.panel.resultReady.emit)

        def start() -> None:
            self._run = SavedRun.start(project, data)
            callback.on_fit_start(_as_fit(self._run), event)

        self.w.worker.submit("Inspect views", start)

    def _epochs(self, events: list[EpochEnd]) -> None:
        callback, folder = self._callback, self.folder
        if callback is None or folder is None or not events:
            return
        last = events[-1]

        def update() -> None:
            if self._run is not None and self._run.load_latest(folder):
                callback.on_epoch_end(_as_fit(self._run), last)

        self.w.worker.submit("Inspect views", update)

    def _fit_ended(self, event: FitEnd) -> None:
        if self._callback is not None:
            self._end = event  # the run folder is complete only once the process has exited

    def _state_changed(self, state: str) -> None:
        callback, folder, end = self._callback, self.folder, self._end
        if state != TrainingState.IDLE or folder is None:
            return
        self.folder, self._callback, self._end = None, None, None
        if callback is None or end is None:
            return

        def finish() -> None:
            if self._run is not None and self._run.load_final(folder, end.epochs_completed, end.steps):
                callback.on_fit_end(_as_fit(self._run), end)

        self.w.worker.submit("Inspect views", finish)


def _as_fit(run: SavedRun) -> FitContext:
    """The saved run as the inspect callback's trainer (it reads only the project, data, model and progress)."""
    return cast(FitContext, run)
