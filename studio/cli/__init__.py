"""The command line: ``studio COMMAND ...`` (also ``python -m studio`` and ``python main.py``).

Each sub-command is an entry of the :data:`~studio.cli.commands.COMMANDS` catalogue (train,
presets, schema, export, and the lab's experiments); only the chosen command's module is
imported, so ``--help``, ``presets`` and ``schema`` never wait for torch. A
:class:`~studio.core.errors.StudioError` (a user error) becomes one line on stderr and exit
status 2, and so does a failure the core's advice explains (out of memory, say), with what to try;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from studio import __version__
from studio.cli.commands import COMMANDS, handler
from studio.core.errors import StudioError

USER_ERROR = 2
DESCRIPTION = """Training Studio: build, train and understand neural networks.

  studio                     open the window on the default project
  studio PROJECT.json        open the window on a project file
  studio COMMAND [ARGS...]   run a command headless (studio COMMAND --help says more)

`python -m studio` and `python main.py` are the same program."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command's name and help line; only ``command`` gets its own arguments."""
    parser = argparse.ArgumentParser(
        prog="studio",
        usage="%(prog)s [PROJECT.json | COMMAND [ARGS...]]",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"Training Studio {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    for name, entry in COMMANDS.items():
        command_parser = sub.add_parser(name, prog=f"studio {name}", help=entry.help, description=entry.help)
        if name == command:
            handler(name).configure(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # The only options before the command (--help, --version) take no value, so the first other
    # word is the command: the one whose module is imported and whose arguments are parsed.
    chosen = next((word for word in argv if not word.startswith("-")), None)
    args = build_parser(chosen if chosen in COMMANDS else None).parse_args(argv)
    args.argv = argv[argv.index(args.command) + 1 :]  # the command's own arguments (``train`` passes them on)
    try:
        return handler(args.command).run(args)
    except StudioError as exc:
        status = getattr(exc, "exit_code", USER_ERROR)
        # Under torchrun every process meets the same user error: rank 0 alone says it.
        if status != USER_ERROR or _speaks():
            print(f"error: {exc}", file=sys.stderr)
        return status
    except KeyboardInterrupt as exc:  # Ctrl+C, or interrupt.Interrupted (which names its signal)
        if _speaks():
            print(str(exc) or "interrupted by Ctrl+C", file=sys.stderr)
        return 128 + int(getattr(exc, "signum", signal.SIGINT))  # the shell's convention: 130, 143
    except Exception as exc:
        from studio.core.advice import explain, is_bug  # only when something went wrong: --help stays fast

        if is_bug(exc):
            raise
        message, hint = explain(exc)
        print(f"error: {message}\n{hint}", file=sys.stderr)
        return USER_ERROR


def _speaks() -> bool:
    """Rank 0 of a torchrun job, or a plain process (the other ranks stay silent about what all meet)."""
    return os.environ.get("RANK", "0") == "0"
