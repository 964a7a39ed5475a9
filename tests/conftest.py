"""Test-wide settings: Qt runs offscreen, and torch uses one thread.

The tests train tiny models, for which one thread is faster than two on the 2-core CI machine
(and far faster while other processes compete for the cores); speed itself is measured by the
scripts in ``benchmarks/``, not by tests. Both are set before anything imports Qt or torch.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
