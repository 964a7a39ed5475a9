"""The optimizer panel: optimizer, loss, schedule and the training settings of the project.

Every form is generated from the registries' :class:`Param`s (the learning rate is a log-scale
spin box because its Param says ``log=True``). The panel reads from and writes to a
:class:`Project`; it never keeps a second copy of the settings.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from studio.core.optim import LOSSES, OPTIMIZERS, SCHEDULES
from studio.core.project import Choice, Project
from studio.core.settings import training_params
from studio.ui.widgets.choice_section import ChoiceSection
from studio.ui.widgets.param_form import ParamForm

TRAINING_FIELDS = {
    "epochs": "epochsSpin",
    "target_loss": "targetLossSpin",
    "target_check": "targetCheckCombo",
    "early_stopping_patience": "earlyStoppingSpin",
    "seed": "seedSpin",
    "shuffle": "shuffleCheck",
    "report_penalty": "reportPenaltyCheck",
    "device": "deviceCombo",
}


def _devices() -> list[str]:
    from studio.core.device import available_devices  # probes CUDA/MPS once, no tensor work

    return available_devices()


class OptimizerPanel(QScrollArea):
    """Edits ``project.optimizer``, ``.loss``, ``.schedule`` and the training settings."""

    edited = Signal()
    lossChanged = Signal(str)

    def __init__(self, devices: Sequence[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("optimizerPanel")
        self.setWidgetResizable(True)
        body = QWidget()
        layout = QHBoxLayout(body)
        self.optimizer = ChoiceSection(
            OPTIMIZERS, "optimizerCombo", "Optimizer", {"lr": "learningRateSpin", "weight_decay": "weightDecaySpin"}
        )
        self.loss = ChoiceSection(LOSSES, "lossCombo", "Loss function")
        self.schedule = ChoiceSection(SCHEDULES, "scheduleCombo", "Learning-rate schedule")
        self.training = ParamForm(training_params(devices if devices is not None else _devices()), owner="training")
        for param, object_name in TRAINING_FIELDS.items():
            field = self.training.field(param)
            field.setObjectName(object_name)
        # Two columns: the update rule (optimizer, its schedule), and what is minimised for how long.
        for column in ((("Optimizer", self.optimizer), ("Learning-rate schedule", self.schedule)),
                       (("Loss", self.loss), ("Training", self.training))):
            stack = QVBoxLayout()
            for title, widget in column:
                stack.addWidget(_group(title, widget))
            stack.addStretch(1)
            layout.addLayout(stack, 1)
        self.setWidget(body)
        for section in (self.optimizer, self.schedule):
            section.edited.connect(self.edited)
        self.loss.edited.connect(self._loss_edited)
        self.training.changed.connect(lambda *_: self.edited.emit())

    def load(self, project: Project) -> None:
        """Show the project's settings (no ``edited`` signal)."""
        self.optimizer.set_choice(project.optimizer.name, project.optimizer.params)
        self.loss.set_choice(project.loss.name, project.loss.params)
        self.schedule.set_choice(project.schedule.name, project.schedule.params)
        spec = project.training
        self.training.set_values({name: getattr(spec, name) for name in TRAINING_FIELDS})

    def store(self, project: Project) -> None:
        """Write the panel's settings into ``project``."""
        project.optimizer = Choice(self.optimizer.name(), self.optimizer.values())
        project.loss = Choice(self.loss.name(), self.loss.values())
        project.schedule = Choice(self.schedule.name(), self.schedule.values())
        for name, value in self.training.values().items():
            setattr(project.training, name, value)

    def set_task(self, task: str) -> None:
        """List only the losses that fit the dataset's task; an unfitting loss is replaced by the first that fits."""
        fits = [name for name, entry in LOSSES.items() if task in entry.tasks]
        if self.loss.name() not in fits:
            self.loss.set_choice(fits[0], {})
            self.loss.set_filter(lambda entry: task in entry.tasks)
            self._loss_edited()
        else:
            self.loss.set_filter(lambda entry: task in entry.tasks)

    def set_locked(self, locked: bool) -> None:
        for section in (self.optimizer, self.loss, self.schedule, self.training):
            section.set_locked(locked)

    def show_error(self, field: str | None, message: str) -> None:
        """Show a validation error next to the optimizer field it names (or under the form)."""
        self.optimizer.form.set_error(field, message)

    def _loss_edited(self) -> None:
        self.lossChanged.emit(self.loss.name())
        self.edited.emit()


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.addWidget(widget)
    return box


