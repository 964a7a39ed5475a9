"""Diagnostics hints: what the core's :class:`~studio.core.lab.diagnostics.Diagnostics` callback finds while a
network trains (rule, evidence, suggested action, best epoch when overfitting), shown as they arrive.

The callback runs in the worker thread inside the fit (its dead-unit rule runs the model there); it hands
each hint to ``hintArrived``, a signal of this GUI-thread panel, so the card is added in the GUI thread.
Whoever starts a training run adds :meth:`HintsPanel.callback` to the run's callbacks.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QScrollArea, QVBoxLayout, QWidget

from studio.core.events import FitEnd
from studio.core.lab.diagnostics import RULES, Diagnostics, Hint
from studio.core.project import Project
from studio.ui.lab.controls import named, wrapping_label
from studio.ui.workers import Worker

INTRO = ("While a network trains, a set of rules watches the loss, the accuracies and the layer statistics. When "
         "one finds a known problem (a learning rate too high or too low, overfitting, dead units, exploding "
         "activations…) a hint appears here with the evidence and what to try.")
WAITING = "No hints yet. Start training: hints appear here as soon as a rule finds something."
HEALTHY = "Training finished and no rule found a problem."
SEVERITY_COLOURS = {"info": "#1f77b4", "warning": "#e67e00", "error": "#c62828"}
SEVERITY_TEXT = {"info": "Note", "warning": "Warning", "error": "Problem"}


def hint_html(hint: Hint) -> str:
    """The card's text: what was found, the evidence, what to try, and the epoch to go back to."""
    rule = RULES.get(hint.rule).title if hint.rule in RULES else hint.rule
    when = f"epoch {hint.epoch}" if hint.epoch is not None else "first epoch"
    colour = SEVERITY_COLOURS.get(hint.severity, "#333333")
    parts = [f"<span style='color:{colour}'><b>{SEVERITY_TEXT.get(hint.severity, hint.severity)}: {rule}</b></span>"
             f" ({when})",
             f"{hint.message}",
             f"<b>Evidence:</b> {hint.evidence}",
             f"<b>Try:</b> {hint.action}"]
    if hint.best_epoch is not None:
        parts.append(f"<b>Best epoch:</b> {hint.best_epoch} (lowest validation loss)")
    return "<br>".join(parts)


class HintCard(QFrame):
    """One hint, with a coloured bar on the left by severity."""

    def __init__(self, hint: Hint, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = hint
        self.setObjectName("hintCard")
        self.setAccessibleName(f"Hint: {hint.message}")
        colour = SEVERITY_COLOURS.get(hint.severity, "#333333")
        self.setStyleSheet(f"#hintCard {{ background: palette(base); border: 1px solid palette(mid); "
                           f"border-left: 5px solid {colour}; border-radius: 3px; }}")
        self.text = wrapping_label(hint_html(hint))
        self.text.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 8, 6)
        layout.addWidget(self.text)


class HintsPanel(QWidget):
    """The hints of the current (or last) training run, newest at the bottom."""

    hintArrived = Signal(object)  # emitted in the worker thread by the Diagnostics callback
    hintsChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "hintsPanel", "Diagnostics hints")
        self._hints: list[Hint] = []
        self.status = named(wrapping_label(WAITING), "hintsStatus", "Diagnostics status")
        self.clear_button = named(QPushButton("Clear"), "hintsClearButton", "Clear the hints")
        self.clear_button.clicked.connect(self.clear)
        self.cards = QVBoxLayout()
        self.cards.setContentsMargins(0, 0, 0, 0)
        self.cards.addStretch(1)
        body = QWidget()
        body.setLayout(self.cards)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(wrapping_label(INTRO))
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        self.hintArrived.connect(self.add_hint)

    def callback(self, rules: Sequence[str] | None = None) -> Diagnostics:
        """A fresh Diagnostics callback for one run (all rules, or the named ``rules``); hints arrive here."""
        return Diagnostics(rules, on_hint=self.hintArrived.emit)

    def connect_worker(self, worker: Worker) -> None:
        """Clear at each new run and report a healthy finish (the worker's training signals)."""
        worker.trainingStarted.connect(self.on_training_started)
        worker.fitEnded.connect(self.on_fit_end)

    def hints(self) -> list[Hint]:
        return list(self._hints)

    @Slot(object)
    def on_training_started(self, _project: Project | None = None) -> None:
        self.clear()
        self.status.setText("Watching the run…")

    @Slot(object)
    def on_fit_end(self, _event: FitEnd) -> None:
        if not self._hints:
            self.status.setText(HEALTHY)

    @Slot(object)
    def add_hint(self, hint: Hint) -> None:
        self._hints.append(hint)
        self.cards.insertWidget(self.cards.count() - 1, HintCard(hint))
        self.status.setText(f"{len(self._hints)} hint(s) for this run.")
        self.hintsChanged.emit(len(self._hints))

    @Slot()
    def clear(self) -> None:
        self._hints.clear()
        while self.cards.count() > 1:
            item = self.cards.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.status.setText(WAITING)
        self.hintsChanged.emit(0)


