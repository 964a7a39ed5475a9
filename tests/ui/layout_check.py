"""Find widgets a layout squeezed below their minimum size hint (text cut, fields unusable).

Used by the screenshot tests at 1280×800 and 1024×700 (issue 15, point 6). A widget counts as
clipped when it is visible on screen and narrower or lower than its own ``minimumSizeHint()``;
widgets inside a scroll area are measured in the area's content, which scrolls instead of
squeezing them. Widgets with an explicit minimum size are held to that; an explicit maximum (a
deliberately thin progress bar) caps what is asked; the line edit inside a spin box is the spin
box's own business.
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QSizePolicy, QWidget

TOLERANCE = 1  # pixels of rounding


def clipped(root: QWidget) -> list[str]:
    """A line for each visible widget under ``root`` smaller than its minimum size (hint)."""
    found: list[str] = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or widget.isWindow() or _internal(widget):
            continue
        need = widget.minimumSize().expandedTo(widget.minimumSizeHint()).boundedTo(widget.maximumSize())
        policy = widget.sizePolicy()
        ignored = QSizePolicy.Policy.Ignored
        width_short = need.width() - widget.width() > TOLERANCE and policy.horizontalPolicy() != ignored
        height_short = need.height() - widget.height() > TOLERANCE and policy.verticalPolicy() != ignored
        if width_short or height_short:
            found.append(f"{_name(widget)}: {widget.width()}×{widget.height()} < {need.width()}×{need.height()}")
    return found


def _internal(widget: QWidget) -> bool:
    """Scroll bars and corners of scroll areas, and a spin box's line edit: their owner sizes them."""
    parent = widget.parentWidget()
    if isinstance(parent, QAbstractSpinBox):
        return True
    return isinstance(parent, QAbstractScrollArea) and widget is not parent.viewport()


def _name(widget: QWidget) -> str:
    chain = []
    current: QWidget | None = widget
    while current is not None and len(chain) < 4:
        chain.append(current.objectName() or type(current).__name__)
        current = current.parentWidget()
    return " < ".join(chain)
