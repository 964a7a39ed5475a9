"""Start Training Studio: the window with no arguments, the headless command line otherwise."""

import sys


def main() -> int:
    if len(sys.argv) > 1:
        from studio.cli import main as cli_main

        return cli_main(sys.argv[1:])
    from studio.app import main as gui_main

    return gui_main()


if __name__ == "__main__":
    sys.exit(main())
