"""One editor per parameter kind, chosen from a registry (no if/elif over kinds).

An editor wraps the Qt widget that edits one :class:`~studio.core.params.Param` and gives the
form a uniform ``get``/``set``/``on_change`` interface.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from studio.core.params import Param
from studio.ui.widgets.spin_boxes import FloatSpinBox, LogSpinBox

_INT_LIMIT = 2**31 - 1
_FLOAT_LIMIT = 1e12


class Editor:
    """Base: ``widget`` goes into the form; ``field`` is the widget that carries the objectName."""

    def __init__(self, param: Param, widget: QWidget, field: QWidget | None = None) -> None:
        self.param = param
        self.widget = widget
        self.field = field or widget

    def get(self) -> Any:
        raise NotImplementedError

    def set(self, value: Any) -> None:
        raise NotImplementedError

    def on_change(self, slot: Callable[[], None]) -> None:
        raise NotImplementedError

    def fallback(self) -> Any:
        """A valid value to show when the parameter's default is None (an optional that is off)."""
        return self.get()


class NumberEditor(Editor):
    """A spin box. A value outside the parameter's range (a hand-edited project) is shown as it is, so the
    form's error mark points at the real value instead of a silently clamped one; the range tightens again
    as soon as an edit brings the value back inside."""

    # A QSpinBox takes ints and a FloatSpinBox floats; ``convert`` makes every number the box's kind.
    widget: Any

    def __init__(self, param: Param, box: QSpinBox | FloatSpinBox, low: float, high: float, convert: type) -> None:
        self.low, self.high, self.convert = convert(low), convert(high), convert
        box.setRange(self.low, self.high)
        box.setKeyboardTracking(False)  # one change per committed edit, not per keystroke
        super().__init__(param, box)

    def get(self) -> int | float:
        return self.widget.value()

    def set(self, value: Any) -> None:
        try:
            number = self.convert(value)
        except (TypeError, ValueError):
            return  # not a number at all: validation reports it; keep showing the last good value
        self.widget.setRange(min(self.low, number), max(self.high, number))
        self.widget.setValue(number)

    def on_change(self, slot: Callable[[], None]) -> None:
        def changed(_value: float) -> None:
            self._tighten()
            slot()

        self.widget.valueChanged.connect(changed)

    def _tighten(self) -> None:
        if self.low <= self.widget.value() <= self.high:
            self.widget.setRange(self.low, self.high)


class IntEditor(NumberEditor):
    def __init__(self, param: Param) -> None:
        low, high = _bound(param.min, -_INT_LIMIT), _bound(param.max, _INT_LIMIT)
        super().__init__(param, QSpinBox(), low, high, int)


class FloatEditor(NumberEditor):
    def __init__(self, param: Param) -> None:
        box = LogSpinBox() if param.log else FloatSpinBox()
        box.setSingleStep(_linear_step(param))
        low = param.min if param.min is not None else -_FLOAT_LIMIT
        high = param.max if param.max is not None else _FLOAT_LIMIT
        super().__init__(param, box, low, high, float)


class BoolEditor(Editor):
    widget: QCheckBox

    def __init__(self, param: Param) -> None:
        super().__init__(param, QCheckBox())

    def get(self) -> bool:
        return self.widget.isChecked()

    def set(self, value: Any) -> None:
        self.widget.setChecked(bool(value))

    def on_change(self, slot: Callable[[], None]) -> None:
        self.widget.toggled.connect(lambda _v: slot())


class ChoiceEditor(Editor):
    widget: QComboBox

    def __init__(self, param: Param) -> None:
        combo = QComboBox()
        for choice in param.choices:
            combo.addItem(choice.replace("_", " "), choice)
        super().__init__(param, combo)

    def get(self) -> str:
        return self.widget.currentData()

    def set(self, value: Any) -> None:
        index = self.widget.findData(value)
        if index >= 0:
            self.widget.setCurrentIndex(index)

    def on_change(self, slot: Callable[[], None]) -> None:
        self.widget.currentIndexChanged.connect(lambda _i: slot())


class TextEditor(Editor):
    def __init__(self, param: Param, widget: QWidget | None = None, line: QLineEdit | None = None) -> None:
        self.line = line or QLineEdit()
        super().__init__(param, widget or self.line, self.line)

    def get(self) -> str:
        return self.line.text()

    def set(self, value: Any) -> None:
        self.line.setText(str(value))

    def on_change(self, slot: Callable[[], None]) -> None:
        self.line.editingFinished.connect(lambda: slot() if self.line.isModified() else None)
        self.line.editingFinished.connect(lambda: self.line.setModified(False))


class PathEditor(TextEditor):
    """A line edit plus "Browse…"; folders or files depending on what the parameter asks for."""

    def __init__(self, param: Param) -> None:
        container = QWidget()
        layout = QHBoxLayout(container)
        layout.setContentsMargins(0, 0, 0, 0)
        line = QLineEdit()
        self.browse = QPushButton("Browse…")
        self.browse.setObjectName(f"param_{param.name}_browse")
        self.browse.setAccessibleName(f"Browse for {param.title}")
        layout.addWidget(line, 1)
        layout.addWidget(self.browse)
        super().__init__(param, container, line)
        self.browse.clicked.connect(self._browse)
        self._slot: Callable[[], None] | None = None

    def on_change(self, slot: Callable[[], None]) -> None:
        super().on_change(slot)
        self._slot = slot

    def _browse(self) -> None:
        if wants_folder(self.param):
            chosen = QFileDialog.getExistingDirectory(self.widget, self.param.title, self.line.text())
        else:
            chosen, _ = QFileDialog.getOpenFileName(self.widget, self.param.title, self.line.text())
        if chosen and chosen != self.line.text():
            self.line.setText(chosen)
            if self._slot is not None:
                self._slot()


class ArrayEditor(TextEditor):
    """A list of numbers as JSON text (``[[1, 0.5], [0, -1]]``); text that is not JSON is passed on as it is,
    so the core's validation names the problem. Typed weights have their own grid (``WeightGrid``)."""

    def get(self) -> Any:
        try:
            return json.loads(self.line.text())
        except json.JSONDecodeError:
            return self.line.text()

    def set(self, value: Any) -> None:
        self.line.setText(json.dumps(value))


def wants_folder(param: Param) -> bool:
    """The hint for the file dialog: a parameter about a folder/directory/root picks a folder."""
    words = f"{param.name} {param.help}".lower()
    return any(word in words for word in ("folder", "directory", "_dir", "root"))


EDITORS: dict[str, Callable[[Param], Editor]] = {
    "int": IntEditor,
    "float": FloatEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "str": TextEditor,
    "path": PathEditor,
    "array": ArrayEditor,
}


def _bound(value: float | None, fallback: int) -> int:
    return int(value) if value is not None else fallback


def _linear_step(param: Param) -> float:
    """A click-sized step: 0.05 for probabilities, 0.1 up to 10, 1 beyond."""
    if param.min is None or param.max is None:
        return 0.1
    span = param.max - param.min
    return 0.05 if span <= 1 else 0.1 if span <= 10 else 1.0
