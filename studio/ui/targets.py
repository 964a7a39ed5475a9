"""Where Train trains, a feature: a picker beside the Train button (this window, N local processes, a command).

*This window* is the worker thread (the default). *Local processes* starts ``studio train PROJECT
--nproc-per-node N`` (torchrun, one process per GPU or N CPU processes); *a command* runs the
line the learner writes, with ``{project}`` and ``{run}`` for the project file and the run folder
(e.g. ``ssh gpu-box torchrun --nproc-per-node 8 -m studio train {project} --out {run} --json
--control-stdin``). Both are watched through their JSON events (:mod:`studio.ui.process_run`).
The choice is remembered between launches.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget

from studio.core.targets import DEFAULT_COMMAND, RunTarget, TargetKind
from studio.core.vocab import TrainingState
from studio.ui.shell import Shell

# The picker's entries: the kind and its label.
KINDS = ((TargetKind.HERE, "this window"), (TargetKind.LOCAL, "local processes"), (TargetKind.COMMAND, "a command"))
SETTINGS_KEY = "train/target"
MAX_PROCESSES = 64


class TargetPicker(QWidget):
    """Edits a :class:`RunTarget`; ``changed(target)`` on every edit."""

    changed = Signal(object)

    def __init__(self, target: RunTarget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("targetPicker")
        self.setAccessibleName("Train on: where the Train button trains")
        self.kind = QComboBox()
        self.kind.setObjectName("targetCombo")
        self.kind.setAccessibleName("Where Train trains")
        self.kind.setToolTip("Train in this window, on several processes of this computer (torchrun), or with a "
                             "command you write (ssh, srun...)")
        for kind, label in KINDS:
            self.kind.addItem(label, kind.value)
        self.processes = QSpinBox()
        self.processes.setObjectName("processesSpin")
        self.processes.setAccessibleName("How many local processes")
        self.processes.setRange(1, MAX_PROCESSES)
        self.processes.setSuffix(" processes")
        self.processes.setToolTip("One process per GPU, or CPU processes sharing the cores (torchrun)")
        self.command = QLineEdit()
        self.command.setObjectName("commandEdit")
        self.command.setAccessibleName("The command that trains")
        self.command.setToolTip("{project}: the project file the window writes; {run}: the run folder. The command "
                                "must run train with --json --control-stdin")
        self.command.setMinimumWidth(360)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(QLabel("Train on"))
        for widget in (self.kind, self.processes, self.command):
            layout.addWidget(widget)
        self.set_target(target or RunTarget())
        self.kind.currentIndexChanged.connect(self._edited)
        self.processes.valueChanged.connect(self._edited)
        self.command.editingFinished.connect(self._edited)

    def target(self) -> RunTarget:
        return RunTarget(TargetKind(self.kind.currentData()), self.processes.value(),
                         self.command.text().strip() or DEFAULT_COMMAND)

    def set_target(self, target: RunTarget) -> None:
        """Show ``target`` (no ``changed`` signal)."""
        for widget in (self.kind, self.processes, self.command):
            widget.blockSignals(True)
        self.kind.setCurrentIndex(self.kind.findData(target.kind.value))
        self.processes.setValue(target.processes)
        self.command.setText(target.command)
        for widget in (self.kind, self.processes, self.command):
            widget.blockSignals(False)
        self._show_fields()

    def _edited(self) -> None:
        self._show_fields()
        self.changed.emit(self.target())

    def _show_fields(self) -> None:
        kind = TargetKind(self.kind.currentData())
        self.processes.setVisible(kind == TargetKind.LOCAL)
        self.command.setVisible(kind == TargetKind.COMMAND)


def saved_target() -> RunTarget:
    """The target chosen last time (this window when none was)."""
    settings = QSettings()
    try:
        return RunTarget(TargetKind(str(settings.value(f"{SETTINGS_KEY}/kind", TargetKind.HERE.value))),
                         int(str(settings.value(f"{SETTINGS_KEY}/processes", 2))),
                         str(settings.value(f"{SETTINGS_KEY}/command", DEFAULT_COMMAND)))
    except ValueError:  # a settings file from elsewhere
        return RunTarget()


def save_target(target: RunTarget) -> None:
    settings = QSettings()
    settings.setValue(f"{SETTINGS_KEY}/kind", target.kind.value)
    settings.setValue(f"{SETTINGS_KEY}/processes", target.processes)
    settings.setValue(f"{SETTINGS_KEY}/command", target.command)


def attach_targets(w: Shell) -> TargetPicker:
    """Put the picker in the toolbar after Train/Pause/Stop; the controller trains where it says."""
    picker = TargetPicker(saved_target(), w.dialog_parent())
    toolbar = w.commands.toolbar
    if toolbar is not None:
        toolbar.addWidget(picker)
    picker.changed.connect(w.training.set_target)
    picker.changed.connect(save_target)
    w.training.stateChanged.connect(lambda state: picker.setEnabled(state == TrainingState.IDLE))
    w.training.set_target(picker.target())
    return picker
