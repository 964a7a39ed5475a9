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
    """A layer cannot accept what the previous layer produces; ``index`` is its row in the stack."""

    def __init__(self, message: str, index: int, layer_type: str) -> None:
        super().__init__(message)
        self.index = index
        self.layer_type = layer_type


class DatasetError(StudioError):
    """A dataset cannot be loaded (missing files, unreadable CSV, empty folder)."""


class ProjectFileError(StudioError):
    """A project, checkpoint or weights file is corrupt, truncated, unknown or unsafe."""
