"""The lab: classic deep-learning lessons as experiments a learner can run and see.

Each experiment is a Qt-free function taking a :class:`~studio.core.project.Project` and returning plain
results (dataclasses of floats and numpy arrays), with optional ``progress``, ``stop`` and ``on_event``
hooks (see :mod:`studio.core.lab.common`). The GUI runs them in its worker thread; the command line
runs them directly (``python main.py probe|race|compare|sanity|lr-find``).
"""

