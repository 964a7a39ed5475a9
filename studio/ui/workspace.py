"""The window's main area: named pages (Train, Lab, Inspect…) that features add and show.

A feature calls :meth:`Workspace.add_page` with a name, its widget and a tab title; where the tab
goes is data (``order``), not the order in which features were attached, and other features
reach a page by its name (:meth:`show_page`, :meth:`page`), never by searching the widget tree.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QTabWidget, QWidget

from studio.ui.widgets.scroll import scrollable

# Where the pages of the built-in features go (smaller first); a new page picks a number in between.
TRAIN_ORDER, LAB_ORDER, INSPECT_ORDER = 0, 10, 20
TRAIN_PAGE = "train"  # the window's own page: editors, run history and live plots

W = TypeVar("W", bound=QWidget)


class Workspace(QTabWidget):
    """Tabs of named pages, kept sorted by each page's ``order`` (ties keep the order they were added in)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workspaceTabs")
        self.setAccessibleName("Train, experiment or inspect")
        self._pages: dict[str, QWidget] = {}  # name -> the widget given to add_page
        self._tabs: dict[str, QWidget] = {}  # name -> the tab's own widget (a scroll area around it, or itself)
        self._orders: dict[str, int] = {}

    def add_page(self, name: str, widget: QWidget, title: str, order: int = 100, scroll: bool = False) -> None:
        """Add ``widget`` as the page ``name`` under the tab ``title``; ``scroll`` wraps it in a scroll area."""
        if name in self._pages:
            raise ValueError(f"the workspace already has a page {name!r}")
        tab = scrollable(widget) if scroll else widget
        index = sum(1 for other in self._orders.values() if other <= order)
        self._pages[name], self._tabs[name], self._orders[name] = widget, tab, order
        self.insertTab(index, tab, title)

    def names(self) -> list[str]:
        """The page names in tab order."""
        order = {tab: index for index, tab in enumerate(self.widget(i) for i in range(self.count()))}
        return sorted(self._tabs, key=lambda name: order[self._tabs[name]])

    def page(self, name: str, kind: type[W]) -> W:
        """The widget added as ``name``, which must be a ``kind`` (KeyError when no feature added it)."""
        widget = self._pages[name]
        if not isinstance(widget, kind):
            raise TypeError(f"the workspace page {name!r} is a {type(widget).__name__}, not a {kind.__name__}")
        return widget

    def show_page(self, name: str) -> None:
        """Bring the page ``name`` to the front."""
        self.setCurrentWidget(self._tabs[name])

    def current_name(self) -> str:
        """The name of the page in front."""
        return self.names()[self.currentIndex()]
