"""Where the lab finds the project to experiment on and, when it matches, data already prepared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from studio.core.data import PreparedData
from studio.core.project import Project


def no_data() -> PreparedData | None:
    """The default data source: none prepared, so the experiment prepares its own in the worker."""
    return None


@dataclass
class LabSource:
    """``project()`` gives the project as the window shows it; ``data()`` its prepared data or None.

    ``data()`` must return data prepared from ``project().data`` (the main window's dataset panel does),
    so an experiment does not load the same dataset twice.
    """

    project: Callable[[], Project]
    data: Callable[[], PreparedData | None] = no_data

    def for_worker(self) -> tuple[Project, PreparedData | None]:
        """A copy of the project (the worker must not see later edits) and its data."""
        return self.project().copy(), self.data()
