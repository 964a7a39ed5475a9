"""A pickle payload for the untrusted-file tests: unpickling it runs code, which leaves a marker file."""

from __future__ import annotations

from pathlib import Path


class Payload:
    """Unpickling this calls ``Path.touch(marker)``: visible proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))
