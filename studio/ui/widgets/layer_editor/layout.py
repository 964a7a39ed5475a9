"""How the editor's parts sit: palette | stack with its buttons and verdict | properties and network init."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSplitter, QToolButton, QVBoxLayout, QWidget

PALETTE_MIN_WIDTH = 140  # layer names and the start of their descriptions stay readable
SETTINGS_MIN_WIDTH = 250  # the properties form: label, field and the network's initialisation
LOCK_NOTE = "Training is running: the network is read-only until training stops."
PALETTE_HINT = "Double-click a layer type or drag it onto the stack."
# The buttons under the stack, left to right (objectNames; EditorActions makes them).
STACK_BUTTONS = ("moveUpButton", "moveDownButton", "duplicateButton", "deleteButton", "wrapButton", "unwrapButton")


def lay_out(editor: QWidget, palette: QWidget, stack: QWidget, properties: QWidget, network: QWidget,
            status: QWidget, buttons: Mapping[str, QToolButton]) -> tuple[QLabel, QLabel]:
    """Place the editor's parts in ``editor``; returns the lock note (hidden) and the input line."""
    lock_note = QLabel(LOCK_NOTE)
    lock_note.setObjectName("lockNote")
    lock_note.setStyleSheet("background: #fff4ce; color: #5c4400; padding: 6px; border-radius: 4px;")
    lock_note.hide()
    left = _column((_hint(PALETTE_HINT), 0), (palette, 1), (buttons["addLayerButton"], 0))
    input_label = _hint("")
    input_label.setObjectName("inputLabel")
    row = QHBoxLayout()
    for name in ("moveUpButton", "moveDownButton"):
        # Arrows alone (names in tooltips and for screen readers): the stack keeps its width at 1024×700.
        buttons[name].setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    for name in STACK_BUTTONS:
        row.addWidget(buttons[name])
    row.addStretch(1)
    middle = _column((input_label, 0), (stack, 1), (row, 0), (status, 0))
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    settings = _column((properties, 1), (network, 0))
    scroll.setWidget(settings)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    # The settings scroll down, never sideways: the pane is never narrower than its fields and labels
    # (a splitter would squeeze it to a sliver and cut them).
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    bar = scroll.verticalScrollBar().sizeHint().width()
    scroll.setMinimumWidth(max(SETTINGS_MIN_WIDTH, settings.minimumSizeHint().width()) + bar)
    left.setMinimumWidth(PALETTE_MIN_WIDTH)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    for widget in (left, middle, scroll):
        splitter.addWidget(widget)
    splitter.setStretchFactor(1, 1)
    splitter.setChildrenCollapsible(False)
    splitter.setSizes([200, 400, 300])
    layout = QVBoxLayout(editor)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(lock_note)
    layout.addWidget(splitter, 1)
    return lock_note, input_label


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setProperty("role", "hint")
    return label


def _column(*items: tuple[QWidget | QHBoxLayout, int]) -> QWidget:
    """A column of widgets and rows; each with its stretch factor."""
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(2, 0, 2, 0)
    for item, stretch in items:
        if isinstance(item, QWidget):
            layout.addWidget(item, stretch)
        else:
            layout.addLayout(item, stretch)
    return widget
