"""The command catalogue and the commands' modules agree: every listed command is implemented by
the module the catalogue names, and no module implements a command the catalogue lacks."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import studio.cli
from studio.cli.commands import COMMANDS, handler, implement


def test_every_catalogued_command_has_its_code_in_the_named_module() -> None:
    for name in COMMANDS:
        code = handler(name)
        assert code.configure.__module__ == code.run.__module__ == COMMANDS.get(name).module


def test_no_module_implements_an_uncatalogued_command() -> None:
    for info in pkgutil.iter_modules(studio.cli.__path__):
        importlib.import_module(f"studio.cli.{info.name}")  # would raise on an uncatalogued name
    with pytest.raises(ValueError, match="not in the catalogue"):
        implement("no-such-command", lambda parser: None, lambda args: 0)
