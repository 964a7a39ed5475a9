"""Number spin boxes that show values compactly (``0.5``, ``1e-03``) and a log-scale variant.

Qt's QDoubleSpinBox prints a fixed number of decimals ("0.001000") and steps by a constant;
learning rates need scientific notation and multiplicative steps instead.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox

# A 1-2-5 ladder per decade: the steps people expect for learning rates and weight decay.
_LADDER = (1.0, 2.0, 5.0)
_DECIMALS = 15
_BIG = 1e12


class FloatSpinBox(QDoubleSpinBox):
    """A float spin box that shows the shortest faithful text and accepts ``1e-3`` typed in."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setDecimals(_DECIMALS)
        self.setRange(-_BIG, _BIG)
        self.setKeyboardTracking(False)

    # Below this magnitude the text switches to scientific notation (1e-3 rather than 0.001).
    sci_below = 1e-4

    def textFromValue(self, value: float) -> str:
        return format_number(value, self.sci_below)

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            partial = all(c in "0123456789.eE+-" for c in stripped)
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class LogSpinBox(FloatSpinBox):
    """Steps move along 1, 2, 5, 10, 20, ... so one click changes the order of magnitude sensibly."""

    sci_below = 1e-2

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = log_step(value, up=steps > 0, floor=max(self.minimum(), 0.0))
        self.setValue(min(max(value, self.minimum()), self.maximum()))

    def stepEnabled(self) -> QDoubleSpinBox.StepEnabledFlag:
        flags = QDoubleSpinBox.StepEnabledFlag.StepNone
        if self.value() < self.maximum():
            flags |= QDoubleSpinBox.StepEnabledFlag.StepUpEnabled
        if self.value() > self.minimum():
            flags |= QDoubleSpinBox.StepEnabledFlag.StepDownEnabled
        return flags


def log_step(value: float, up: bool, floor: float = 0.0) -> float:
    """The next value on the 1-2-5 ladder above (or below) ``value``; zero steps up to a tiny value."""
    if value <= 0:
        return max(floor, 1e-8) if up else floor
    exponent = math.floor(math.log10(value))
    ladder = [m * 10.0**e for e in (exponent - 1, exponent, exponent + 1) for m in _LADDER]
    tol = value * 1e-9
    if up:
        return next(v for v in ladder if v > value + tol)
    below = [v for v in ladder if v < value - tol]
    return max(below[-1], floor)


def format_number(value: float, sci_below: float = 1e-4) -> str:
    """``0.5``, ``64``, ``0.05`` or ``1e-3``: short text, scientific for tiny or huge magnitudes."""
    if value == 0:
        return "0"
    text = f"{value:.6e}" if abs(value) < sci_below or abs(value) >= 1e7 else f"{value:.6f}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return text.rstrip("0").rstrip(".")
