"""Commands that describe rather than run: ``presets`` and ``schema``. Neither imports torch."""

from __future__ import annotations

import argparse

from studio.cli.commands import implement
from studio.core.presets import preset_description, preset_names
from studio.core.schema_file import schema_text, shipped_schema


def _no_arguments(_: argparse.ArgumentParser) -> None:
    """These commands take no arguments."""


def _presets(_: argparse.Namespace) -> int:
    """Print each preset's name and the first sentence of its description."""
    names = preset_names()
    width = max(map(len, names), default=0)
    for name in names:
        summary = preset_description(name).split(". ")[0].rstrip(".")
        print(f"{name:<{width}}  {summary}")
    return 0


def _schema(_: argparse.Namespace) -> int:
    print(schema_text(shipped_schema()), end="")
    return 0


implement("presets", _no_arguments, _presets)
implement("schema", _no_arguments, _schema)
