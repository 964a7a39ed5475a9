"""The optimizer panel: optimizer, loss, schedule and the training settings of the project.

Every form is generated from the registries' :class:`Param`s (the learning rate is a log-scale
spin box because its Param says ``log=True``). The panel reads from and writes to a
:class:`Project`; it never keeps a second copy of the settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from studio.core.optim import LOSSES, OPTIMIZERS, SCHEDULES
from studio.core.project import Choice, Project
from studio.core.settings import training_params
from studio.ui.widgets.choice_section import ChoiceSection
from studio.ui.widgets.param_form import ParamForm

if TYPE_CHECKING:
    from studio.core.device import DeviceInfo

TRAINING_FIELDS = {
    "epochs": "epochsSpin",
    "target_loss": "targetLossSpin",
    "target_check": "targetCheckCombo",
    "early_stopping_patience": "earlyStoppingSpin",
    "seed": "seedSpin",
    "shuffle": "shuffleCheck",
    "report_penalty": "reportPenaltyCheck",
    "device": "deviceCombo",
    "precision": "precisionCombo",
    "channels_last": "channelsLastCheck",
    "compile": "compileCheck",
    "sync_batchnorm": "syncBatchNormCheck",
}


def _devices() -> list[DeviceInfo]:
    from studio.core.device import list_devices  # probes CUDA/MPS once, no tensor work

    return list_devices()


def _choices(devices: list[DeviceInfo]) -> tuple[str, ...]:
    from studio.core.device import device_choices

    return device_choices(devices)


def device_summary(devices: Sequence[DeviceInfo]) -> str:
    """The device list under the training form: this computer's devices by name and memory, then each absent
    kind and why (``python main.py devices`` prints the same)."""
    present = [f"• {info.label}" for info in devices if info.available]
    absent = [f"• {info.label}: absent ({info.reason})" for info in devices if not info.available]
    return "\n".join(["This computer has:", *present, *absent])


class OptimizerPanel(QScrollArea):
    """Edits ``project.optimizer``, ``.loss``, ``.schedule`` and the training settings."""

    edited = Signal()
    lossChanged = Signal(str)

    def __init__(self, devices: Sequence[DeviceInfo] | None = None, parent: QWidget | None = None) -> None:
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
        self.devices = list(devices) if devices is not None else _devices()
        self.training = ParamForm(training_params(_choices(self.devices)), owner="training")
        for param, object_name in TRAINING_FIELDS.items():
            field = self.training.field(param)
            field.setObjectName(object_name)
        self.device_list = QLabel(device_summary(self.devices))
        self.device_list.setObjectName("deviceList")
        self.device_list.setWordWrap(True)
        self.device_list.setAccessibleName("The devices of this computer")
        training_box = QWidget()
        box_layout = QVBoxLayout(training_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addWidget(self.training)
        box_layout.addWidget(self.device_list)
        # Two columns: the update rule (optimizer, its schedule), and what is minimised for how long.
        for column in ((("Optimizer", self.optimizer), ("Learning-rate schedule", self.schedule)),
                       (("Loss", self.loss), ("Training", training_box))):
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


