"""The registry of command-line commands."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from studio.core.registry import Registry


@dataclass(frozen=True)
class Command:
    """A sub-command: ``configure`` adds its arguments, ``run`` executes it and returns the exit status."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: Registry[Command] = Registry("command")



def load_commands() -> None:
    """Import every module of ``studio.cli``: each registers its commands once, at import.

    Discovery keeps this file out of every feature's diff: a new command is a new module.
    """
    import studio.cli

    for info in pkgutil.iter_modules(studio.cli.__path__):
        importlib.import_module(f"studio.cli.{info.name}")


def register(
    name: str,
    help: str,
    configure: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
) -> Command:
    """Register command ``name``."""
    return COMMANDS.register(name, Command(help, configure, run))
