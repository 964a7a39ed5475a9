"""The lab: classic deep-learning lessons as experiments a learner can run and see.

Each experiment is a Qt-free function taking a :class:`~studio.core.project.Project` and returning plain
results (dataclasses of floats and numpy arrays), with optional ``progress``, ``stop`` and ``on_event``
hooks (see :mod:`studio.core.lab.common`). The GUI runs them in its worker thread; the command line
runs them directly (``python main.py probe|race|compare|sanity|lr-find``).
"""


from studio.core.data import DATASETS, table

# The perceptron preset's typed-in table. studio.core.data registers its modules' DATASET_TYPES; until it
# lists ``table`` among them, the lab registers it (the check keeps this a no-op once it does).
for _dataset in table.DATASET_TYPES:
    if _dataset.name not in DATASETS:
        DATASETS.register(_dataset.name, _dataset)
