"""Optimizers, losses and learning-rate schedules as registries (``OPTIMIZERS``, ``LOSSES``, ``SCHEDULES``).

The registry name is the project file's value and the command line's value; every setting is a
:class:`~studio.core.params.Param`, so GUI forms and validation come from the same description.
"""

from studio.core.optim.losses import (
    LOSSES,
    LossFn,
    LossType,
    build_loss,
    perceptron_loss,
    predict_classes,
)
from studio.core.optim.optimizers import (
    OPTIMIZERS,
    OptimizerType,
    build_model_optimizer,
    build_optimizer,
    current_lr,
    optimizer_lr,
    param_groups,
)
from studio.core.optim.schedules import (
    SCHEDULES,
    Schedule,
    ScheduleType,
    build_schedule,
    parse_milestones,
)

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "LossFn",
    "LossType",
    "OptimizerType",
    "Schedule",
    "ScheduleType",
    "build_loss",
    "build_model_optimizer",
    "build_optimizer",
    "build_schedule",
    "current_lr",
    "optimizer_lr",
    "param_groups",
    "parse_milestones",
    "perceptron_loss",
    "predict_classes",
]
