"""The one entry point: ``studio``, ``python -m studio`` and ``python main.py`` all call :func:`main`.

No arguments open the window on the default project; a single ``.json`` path opens it on that
project; anything else is the command line (``studio train ...``, ``studio --help``,
``studio --version``), which never starts Qt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window or run a command; return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (len(args) == 1 and args[0].lower().endswith(".json")):
        from studio.app import main as open_window

        return open_window(args[0] if args else None)
    from studio.cli import main as run_command

    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
