"""Curves of past runs drawn behind the live ones, so that runs can be compared by eye."""

from __future__ import annotations

import numpy as np

from studio.core.history import RunRecord
from studio.ui.plots.buffers import ema
from studio.ui.plots.live_plot import LivePlot
from studio.ui.plots.style import OVERLAY_ALPHA, PALETTE, pen

# The live run is blue (train) and red (validation); past runs take the other palette colours.
RUN_COLOURS = tuple(value for index, value in enumerate(PALETTE) if index not in (0, 3))


def _accuracy(record: RunRecord) -> tuple[str, list[float]] | None:
    """Validation accuracy per epoch, else training accuracy, else None (regression)."""
    for label, field in (("val acc", "val_acc"), ("train acc", "train_acc")):
        values = [getattr(epoch, field) for epoch in record.epochs]
        if values and all(value is not None for value in values):
            return label, values
    return None


class RunOverlays:
    """Dashed copies of selected runs' loss and accuracy curves in the loss and accuracy plots."""

    def __init__(self, loss_plot: LivePlot, accuracy_plot: LivePlot) -> None:
        self._loss = loss_plot
        self._accuracy = accuracy_plot
        self._records: list[RunRecord] = []

    def records(self) -> list[RunRecord]:
        return list(self._records)

    def show(self, records: list[RunRecord], smoothing: float) -> None:
        """Replace the overlays with ``records`` (an empty list removes them)."""
        self._remove()
        self._records = list(records)
        for index, record in enumerate(self._records):
            style = pen(RUN_COLOURS[index % len(RUN_COLOURS)], width=1.6, alpha=OVERLAY_ALPHA, dashed=True)
            key = f"run:{record.id}"
            if record.batch_losses:
                smoothed, _, _ = ema(np.asarray(record.batch_losses), smoothing)
                self._loss.add_curve(key, name=f"{record.name}: train loss", pen=style)
                self._loss.set_data(key, np.asarray(record.batch_epochs), smoothed)
            accuracy = _accuracy(record)
            if accuracy is not None:
                label, values = accuracy
                xs = np.asarray([epoch.epoch for epoch in record.epochs], dtype=np.float64)
                self._accuracy.add_curve(key, name=f"{record.name}: {label}", pen=style)
                self._accuracy.set_data(key, xs, np.asarray(values, dtype=np.float64))

    def _remove(self) -> None:
        for record in self._records:
            self._loss.remove_curve(f"run:{record.id}")
            self._accuracy.remove_curve(f"run:{record.id}")
