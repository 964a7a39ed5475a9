"""Test-wide settings: Qt runs offscreen, torch uses one thread, and runs stay out of the user's folders.

The tests train tiny models, for which one thread is faster than two on the 2-core CI machine
(and far faster while other processes compete for the cores); speed itself is measured by the
scripts in ``benchmarks/``, not by tests. Both are set before anything imports Qt or torch.
``XDG_DATA_HOME`` points the default runs folder (``train`` without ``--out``, for the test process
and every command-line subprocess it starts) into a temporary folder.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="studio-test-data-")
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], ignore_errors=True)
