"""Closed vocabularies as string enums: each member *is* its string, so files, events and flags read as before.

A member compares equal to its value (``Task.CLASSIFICATION == "classification"``), hashes like it,
formats as it and is written by ``json`` as it, so project files, run files and the JSON event stream
are unchanged; type checkers and readers get a closed set instead of a bare ``str``. Python 3.10 has
no ``enum.StrEnum``: the shim below behaves the same for everything the studio does with one.
"""

from __future__ import annotations

import sys
from enum import Enum

__all__ = ["EndReason", "Interval", "MessageKind", "Precision", "Severity", "StrEnum", "Task", "TrainingState"]

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - exercised on Python 3.10 only

    class StrEnum(str, Enum):
        """``enum.StrEnum`` for Python 3.10: ``str(member)`` and ``format(member)`` give the value."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return format(str(self.value), spec)


class Task(StrEnum):
    """What a dataset asks of the network."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"


class EndReason(StrEnum):
    """Why a fit ended (``FitEnd.reason``)."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    TARGET_LOSS = "target_loss"
    EARLY_STOPPING = "early_stopping"
    NON_FINITE = "non_finite"


class Interval(StrEnum):
    """When a learning-rate schedule steps: after every batch or after every epoch."""

    BATCH = "batch"
    EPOCH = "epoch"


class Severity(StrEnum):
    """How much a hint or a piece of advice matters."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class MessageKind(StrEnum):
    """The kind of a message shown to the learner (its icon in the GUI)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    QUESTION = "question"


class TrainingState(StrEnum):
    """Where the Train button's run stands."""

    IDLE = "idle"
    PREPARING = "preparing"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


class Precision(StrEnum):
    """Number format of training: float32, or mixed precision with bfloat16 or float16."""

    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
