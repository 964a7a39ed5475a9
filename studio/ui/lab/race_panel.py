"""Optimizer race: an editable line-up of optimizer settings trains the same network from the same weights
on the same batches; their loss and accuracy curves are overlaid live.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import ConfigError, StudioError
from studio.core.lab.common import format_choice
from studio.core.lab.race import DEFAULT_LINEUP, Contestant, RaceResult, parse_contestant, race
from studio.ui.lab.controls import RunBar, named, wrapping_label
from studio.ui.lab.curves import TaggedCurves, accuracy_plot, loss_plot
from studio.ui.lab.runner import ExperimentRunner
from studio.ui.lab.source import LabSource
from studio.ui.workers import Worker

INTRO = ("Each optimizer trains its own copy of your network from the very same starting weights on the very "
         "same batches, so the only difference between the curves is the optimizer. Edit the line-up: one "
         "optimizer per row, written as name:setting=value,… (for example adam:lr=0.01,beta2=0.99).")
DEFAULT_EPOCHS = 5
RESULT_COLUMNS = ("Optimizer", "Train loss", "Val loss", "Val acc", "Outcome")  # final values


def _item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _number(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.4g}"


class LineupTable(QTableWidget):
    """The contestants as editable rows: a label for the legend and the optimizer written as text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        named(self, "raceLineup", "Optimizers in the race", "One row per contestant: a label and the optimizer "
              "with its settings, e.g. sgd:lr=0.05,momentum=0.9. Double-click to edit.")
        self.setHorizontalHeaderLabels(["Label", "Optimizer and settings"])
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.set_lineup(DEFAULT_LINEUP)

    def set_lineup(self, contestants: tuple[Contestant, ...] | list[Contestant]) -> None:
        self.setRowCount(0)
        for contestant in contestants:
            self.add(contestant)

    def add(self, contestant: Contestant) -> None:
        row = self.rowCount()
        self.insertRow(row)
        self.setItem(row, 0, _item(contestant.label))
        self.setItem(row, 1, _item(format_choice(contestant.optimizer)))

    def remove_selected(self) -> None:
        for row in sorted({index.row() for index in self.selectedIndexes()}, reverse=True):
            self.removeRow(row)

    def contestants(self) -> list[Contestant]:
        """The rows as validated contestants; a bad row raises a StudioError that names it."""
        result = []
        for row in range(self.rowCount()):
            label, spec = (_text(self.item(row, column)) for column in (0, 1))
            try:
                parsed = parse_contestant(spec)
            except StudioError as exc:
                raise ConfigError(f"Row {row + 1} of the line-up: {exc}", field="contestants") from exc
            result.append(Contestant(label or parsed.label, parsed.optimizer))
        return result


class RacePanel(QWidget):
    """Edit the line-up, race it on the current project, watch the curves, read who won."""

    def __init__(self, worker: Worker, source: LabSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "racePanel", "Optimizer race")
        self.source = source
        self.result: RaceResult | None = None
        self.runner = ExperimentRunner(worker, "Optimizer race", self)
        self.run_bar = RunBar(self.runner, "Race", "raceRunButton", "Train every optimizer of the line-up side by "
                              "side on the current network and data.", "raceStopButton")
        self.lineup = LineupTable()
        self.epochs = named(QSpinBox(), "raceEpochsSpin", "Epochs of the race", "How many passes over the "
                            "training data each optimizer gets.")
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(DEFAULT_EPOCHS)
        self.curves = TaggedCurves(loss_plot("raceLossPlot", "Training loss (smoothed, solid) and validation loss "
                                             "(dashed) of every optimizer."),
                                   accuracy_plot("raceAccuracyPlot", "Validation accuracy of every optimizer."), self)
        self.results = named(QTableWidget(0, len(RESULT_COLUMNS)), "raceResults", "Race results")
        self.results.setHorizontalHeaderLabels(RESULT_COLUMNS)
        self.results.verticalHeader().setVisible(False)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.results.horizontalHeader().setStretchLastSection(True)
        self._lay_out()
        self.run_bar.run_button.clicked.connect(self.start)
        self.runner.liveEvent.connect(self.curves.on_event)
        self.runner.finished.connect(self.show_result)

    def _lay_out(self) -> None:
        add = named(QPushButton("Add current"), "raceAddButton", "Add the project's optimizer",
                    "Add the optimizer and settings of the current project as a new row.")
        remove = named(QPushButton("Remove"), "raceRemoveButton", "Remove the selected rows")
        reset = named(QPushButton("Default line-up"), "raceResetButton", "Restore the default line-up",
                      "SGD, Momentum 0.8, RMSprop α=0.9 and Adam β=(0.9, 0.99).")
        add.clicked.connect(self.add_current)
        remove.clicked.connect(self.lineup.remove_selected)
        reset.clicked.connect(lambda: self.lineup.set_lineup(DEFAULT_LINEUP))
        buttons = QHBoxLayout()
        for button in (add, remove, reset):
            buttons.addWidget(button)
        buttons.addStretch(1)
        label = QLabel("Epochs")
        label.setBuddy(self.epochs)
        buttons.addWidget(label)
        buttons.addWidget(self.epochs)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.lineup, 1)
        column.addLayout(buttons)
        column.addWidget(self.run_bar)
        column.addWidget(self.results, 1)
        self.results.setToolTip("Final metrics of each optimizer; the best (lowest final loss) is in bold.")
        plots = QWidget()
        plot_column = QVBoxLayout(plots)
        plot_column.setContentsMargins(0, 0, 0, 0)
        plot_column.addWidget(self.curves.loss)
        plot_column.addWidget(self.curves.accuracy)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(plots)
        split.setStretchFactor(1, 1)
        split.setSizes([470, 630])
        layout = QVBoxLayout(self)
        layout.addWidget(wrapping_label(INTRO))
        layout.addWidget(split, 1)

    def set_locked(self, locked: bool, reason: str = "") -> None:
        self.run_bar.set_locked(locked, reason)

    @Slot()
    def add_current(self) -> None:
        optimizer = self.source.project().optimizer
        self.lineup.add(Contestant(f"{optimizer.name} (project)", optimizer))

    @Slot()
    def start(self) -> None:
        """Validate the line-up and race it on a copy of the current project, in the worker thread."""
        try:
            contestants = self.lineup.contestants()
        except StudioError as exc:
            self.run_bar.show_error(str(exc))
            return
        if not contestants:
            self.run_bar.show_error("Add at least one optimizer to the line-up.")
            return
        project, data = self.source.for_worker()
        project.training.epochs = self.epochs.value()
        self.result = None
        self.curves.clear()
        for contestant in contestants:
            self.curves.set_label(contestant.label, contestant.label)
        self.results.setRowCount(0)
        self.runner.run(race, project, contestants, data, live=True)

    @Slot(object)
    def show_result(self, result: RaceResult) -> None:
        self.result = result
        self.curves.show_runs([c.run for c in result.contestants])
        winner = result.winner
        self.results.setRowCount(0)
        for contestant in result.contestants:
            row = self.results.rowCount()
            self.results.insertRow(row)
            outcome = "diverged" if contestant.diverged else ("best" if contestant is winner else contestant.run.reason)
            cells = (contestant.label, _number(contestant.final_train_loss), _number(contestant.final_val_loss),
                     "–" if contestant.final_val_acc is None else f"{contestant.final_val_acc:.1%}", outcome)
            for column, text in enumerate(cells):
                item = _item(text, align_right=0 < column < 4)
                if contestant is winner:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.results.setItem(row, column, item)
        self.run_bar.show_message(f"Lowest final loss: {winner.label}." if winner else "Every optimizer diverged.")


def _text(item: QTableWidgetItem | None) -> str:
    """A cell's text without surrounding spaces ("" for a cell never filled in)."""
    return item.text().strip() if item is not None else ""
