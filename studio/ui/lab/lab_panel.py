"""The lab: every experiment panel in one tab container, fed by one project source and one worker.

The container forwards what the main window needs: ``applyLearningRate(float)`` from the learning-rate
finder, ``pairFinished(PairResult)`` from comparisons, :meth:`compare_with` for "Compare with…" on a past run,
the hints panel's training callback and :meth:`set_locked` while the window trains.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QPushButton, QTabWidget, QVBoxLayout, QWidget

from studio.core.data import PreparedData
from studio.core.lab.variations import VARIATIONS
from studio.core.project import Project
from studio.ui.lab.compare_dialog import CompareDialog, open_compare
from studio.ui.lab.controls import named, wrapping_label
from studio.ui.lab.hints_panel import HintsPanel
from studio.ui.lab.lr_finder_panel import LrFinderPanel
from studio.ui.lab.modes_view import ModesView
from studio.ui.lab.probe_panel import ProbePanel
from studio.ui.lab.race_panel import RacePanel
from studio.ui.lab.sanity_panel import SanityPanel
from studio.ui.lab.source import LabSource
from studio.ui.lab.sweep_panel import SweepPanel
from studio.ui.workers import Worker

COMPARE_TEXT = ("Train your project twice with exactly one setting changed and the same seed, and see what that "
                "one setting does. The settings you can change: {settings}. You can also right-click a run in the "
                "run history and choose “Compare with…”.")
HINTS_TITLE = "Diagnostics"


class ComparePage(QWidget):
    """The lab's Compare tab: what a paired comparison is, and the button that opens one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        settings = ", ".join(variation.label.lower() for _, variation in VARIATIONS.items())
        self.button = named(QPushButton("Compare with…"), "compareButton", "Compare with one setting changed",
                            "Train the current project against a copy with one setting changed.")
        layout = QVBoxLayout(self)
        layout.addWidget(wrapping_label(COMPARE_TEXT.format(settings=settings)))
        layout.addWidget(self.button)
        layout.addStretch(1)


class LabPanel(QTabWidget):
    """Tabs: initialisation probe, optimizer race, compare, sweep, sanity check, learning rate, diagnostics, modes."""

    applyLearningRate = Signal(float)
    pairFinished = Signal(object)

    def __init__(self, worker: Worker, source: LabSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "labPanel", "The lab")
        self.worker = worker
        self.source = source
        self.probe = ProbePanel(worker, source)
        self.race = RacePanel(worker, source)
        self.compare_page = ComparePage()
        self.sweep = SweepPanel(worker, source)
        self.sanity = SanityPanel(worker, source)
        self.lr_finder = LrFinderPanel(worker, source)
        self.hints = HintsPanel()
        self.modes = ModesView(worker, source)
        self.dialogs: list[CompareDialog] = []
        for widget, title in ((self.probe, "Initialisation"), (self.race, "Optimizer race"),
                              (self.compare_page, "Compare"), (self.sweep, "Sweep"), (self.sanity, "Sanity check"),
                              (self.lr_finder, "Learning rate"), (self.hints, HINTS_TITLE),
                              (self.modes, "Train vs eval")):
            self.addTab(widget, title)
        self.lr_finder.applyLearningRate.connect(self.applyLearningRate)
        self.compare_page.button.clicked.connect(self.compare_current)
        self.hints.hintsChanged.connect(self._hints_changed)
        self.currentChanged.connect(lambda _index: self.modes.update_note())

    def panels(self) -> list[ProbePanel | RacePanel | SweepPanel | SanityPanel | LrFinderPanel | ModesView]:
        """The panels that run experiments (each has ``set_locked``)."""
        return [self.probe, self.race, self.sweep, self.sanity, self.lr_finder, self.modes]

    def set_locked(self, locked: bool, reason: str = "Wait until training has finished.") -> None:
        """No new experiments while the window trains: they would queue behind the run in the one worker."""
        for panel in self.panels():
            panel.set_locked(locked, reason if locked else "")
        self.compare_page.button.setEnabled(not locked)

    def show_panel(self, widget: QWidget) -> None:
        self.setCurrentWidget(widget)

    def prepare_sweep(self, axes: list[str], repeats: int = 1, epochs: int | None = None) -> None:
        """A lesson's grid, ready to run in the Sweep page."""
        self.sweep.set_options(axes, repeats, epochs)
        self.show_panel(self.sweep)

    # --- comparisons --------------------------------------------------------------------------------

    @Slot()
    def compare_current(self) -> CompareDialog:
        """"Compare with…" on the project as the window shows it."""
        project, data = self.source.for_worker()
        return self.compare_with(project, "the current project", data)

    def compare_with(self, project: Project, label: str, data: PreparedData | None = None) -> CompareDialog:
        """Open a comparison of ``project`` (e.g. a past run's settings) against one changed setting."""
        dialog = open_compare(self.worker, project, label, data, self.window())
        dialog.pairFinished.connect(self.pairFinished)
        dialog.destroyed.connect(lambda *_args, d=dialog: self.dialogs.remove(d) if d in self.dialogs else None)
        self.dialogs.append(dialog)
        return dialog

    @Slot(int)
    def _hints_changed(self, count: int) -> None:
        self.setTabText(self.indexOf(self.hints), f"{HINTS_TITLE} ({count})" if count else HINTS_TITLE)
