"""The headless command line: ``python main.py <command> ...``.

Each sub-command is an entry of the :data:`COMMANDS` registry (train, presets, schema, export,
and the lab's experiments), so adding one means registering it, not editing a dispatcher.
A :class:`~studio.core.errors.StudioError` (a user error) becomes one line on stderr and exit
status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from studio.cli.commands import COMMANDS, load_commands
from studio.core.errors import StudioError

USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per registered command."""
    load_commands()
    parser = argparse.ArgumentParser(prog="python main.py", description="Training Studio on the command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.configure(sub.add_parser(name, help=command.help, description=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS.get(args.command).run(args)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
