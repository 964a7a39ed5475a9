"""A one-line label that shortens its text with "…" to the width it gets, and shows it whole as a tooltip.

A plain QLabel asks for the width of its whole text: a long status message or property name then
either pushes its neighbours off the window or is cut mid-letter. This one asks for a few
characters, so layouts can shrink it, and never hides what it cut off (the tooltip has it all).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 6  # wide enough to show that something is there ("Epoc…")


class ElidedLabel(QLabel):
    """One line of plain text, elided on the right when it does not fit; the tooltip is the full text when cut."""

    def __init__(self, text: str = "", parent: QWidget | None = None, tip: str = "") -> None:
        super().__init__(parent)
        self._tip = tip  # shown under the full text when cut, alone when not
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._sync_tooltip()

    def set_tip(self, tip: str) -> None:
        """The label's own explanation (the full text is added above it whenever the text is cut)."""
        self._tip = tip
        self._sync_tooltip()

    def is_elided(self) -> bool:
        """True when the text is shown shortened (the tooltip then holds all of it)."""
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def shown_text(self) -> str:
        """The text as painted now."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def minimumSizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance("x" * MIN_CHARS), metrics.height())

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance(self.text()) + 4, metrics.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._sync_tooltip()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())

    def _sync_tooltip(self) -> None:
        full = self.text() if self.is_elided() else ""
        self.setToolTip("\n".join(part for part in (full, self._tip) if part))
