"""Errors a user can cause, kept apart from programming errors.

Everything derived from :class:`StudioError` carries a message written for a learner; the
GUI shows it next to the offending field and the command line prints it on one line and
exits with status 2. Any other exception is a bug and is allowed to show a traceback.
"""

from __future__ import annotations


class StudioError(Exception):
    """A problem the user can fix (bad input, missing file, impossible network)."""


class ConfigError(StudioError):
    """A setting has a bad value; ``field`` names it (e.g. ``"lr"`` or ``"layers[2].kernel_size"``)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ShapeError(StudioError):
    """A layer cannot accept what the previous layer produces; ``index`` is its top-level row in the stack.

    ``path`` addresses the row inside blocks (``(3, 1)``: row 2 of block 4; see ``studio.core.tree``);
    it is ``(index,)`` for a top-level row and ``()`` for a problem of the whole network (``index`` -1).
    """

    def __init__(self, message: str, index: int, layer_type: str, path: tuple[int, ...] | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.layer_type = layer_type
        self.path = tuple(path) if path is not None else ((index,) if index >= 0 else ())


class DatasetError(StudioError):
    """A dataset cannot be loaded (missing files, unreadable CSV, empty folder)."""


class ProjectFileError(StudioError):
    """A project, checkpoint or weights file is corrupt, truncated, unknown or unsafe."""


class InvalidProjectError(ProjectFileError, ConfigError):
    """A project breaks its schema: one line per problem; ``field`` names the first (``"training.epochs"``)."""

    def __init__(self, problems: list[str], field: str | None) -> None:
        super().__init__("\n".join(problems), field)
        self.problems = problems
