"""Stable names for controls: the objectName automation finds and the name a screen reader says."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QWidget

W = TypeVar("W", bound=QWidget)


def named(widget: W, object_name: str, accessible: str = "", tip: str = "") -> W:
    """Give ``widget`` its stable objectName and (optional) accessible name and tooltip; returns it."""
    widget.setObjectName(object_name)
    if accessible:
        widget.setAccessibleName(accessible)
    if tip:
        widget.setToolTip(tip)
        widget.setAccessibleDescription(tip)
    return widget
