"""Commands that describe rather than run: ``presets`` and ``schema``."""

from __future__ import annotations

import argparse
import json

from studio.cli.commands import register
from studio.core.presets import load_preset, preset_names
from studio.core.schema import project_schema


def _no_arguments(_: argparse.ArgumentParser) -> None:
    """These commands take no arguments."""


def _presets(_: argparse.Namespace) -> int:
    """Print each preset's name and the first sentence of its description."""
    names = preset_names()
    width = max(map(len, names), default=0)
    for name in names:
        summary = load_preset(name).description.split(". ")[0].rstrip(".")
        print(f"{name:<{width}}  {summary}")
    return 0


def _schema(_: argparse.Namespace) -> int:
    print(json.dumps(project_schema(), indent=2))
    return 0


register("presets", "list the ready-made projects", _no_arguments, _presets)
register("schema", "print the JSON Schema of project files", _no_arguments, _schema)
