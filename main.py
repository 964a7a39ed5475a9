"""Start Training Studio from a checkout: the same entry point as ``studio`` and ``python -m studio``."""

import sys

from studio.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
