"""File > Resume Run…, Fine-tune From… and Export…: what the window does with saved runs (and, through
:class:`~studio.ui.run_library.RunLibrary`, the past runs in the history).

Every run trained in the window writes its checkpoints into its own folder (:mod:`studio.ui.runs`). Resume reads
a checkpoint on the worker thread, makes its project the window's project and continues the fit
exactly (the plots continue from the checkpoint's epoch). Fine-tune edits the network through the
layer editor's undo stack and makes the next run start from the chosen weights, loaded in the
worker, with a message saying what was loaded and what was not. Export opens the export dialog on
the latest run's checkpoint.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.core.checkpoint import Checkpoint, load_checkpoint
from studio.core.engine import Trainer
from studio.core.events import EpochEnd
from studio.core.finetune import LoadReport, load_pretrained
from studio.core.history import RunRecord
from studio.core.optim import LOSSES
from studio.core.units import module_labels
from studio.core.vocab import MessageKind, TrainingState
from studio.ui.dialogs import Message
from studio.ui.run_library import RunLibrary
from studio.ui.runs import RunTracker
from studio.ui.shell import Shell
from studio.ui.widgets.export_dialog import ExportDialog
from studio.ui.widgets.finetune_dialog import FineTuneDialog, FineTunePlan
from studio.ui.widgets.layer_editor.commands import EditCommand
from studio.ui.workers import Job

CHECKPOINT_FILTER = "Checkpoints (*.ckpt);;All files (*)"
EXPORT_WIDTH = 720
# Stable automation names of the menu commands (QAction objectName).
ACTION_NAMES = {"resume_run": "resumeRunAction", "fine_tune": "fineTuneAction", "export": "exportAction"}


class RunCommands(QObject):
    """Resume, fine-tune and export for one window (a feature: it only uses the :class:`Shell`)."""

    _weightsLoaded = Signal(object)  # a LoadReport, emitted in the worker thread

    def __init__(self, shell: Shell) -> None:
        super().__init__(shell.dialog_parent())
        self.w = shell
        self.tracker = RunTracker(parent=self)
        self.library = RunLibrary(shell, self.tracker, self)  # past runs in the history: open, rename, delete
        self.export_dialog: ExportDialog | None = None
        self.fine_tune_dialog: FineTuneDialog | None = None
        self.fine_tune_plan: FineTunePlan | None = None  # what the next run starts from, until it starts
        self._load_job: Job | None = None
        self._pending: Checkpoint | None = None  # a checkpoint waiting for its data before it resumes
        self._connect()

    def _connect(self) -> None:
        w = self.w
        for key, name in ACTION_NAMES.items():
            w.commands[key].setObjectName(name)
        w.commands.connect({"resume_run": self.resume_run, "fine_tune": self.fine_tune, "export": self.export})
        w.training.add_run_callbacks(self.tracker.callbacks)
        w.training.processRunStarted.connect(self.tracker.adopt)
        w.worker.fitEnded.connect(self.tracker.fit_ended)
        w.status.add_end_note(self.tracker.end_note)
        w.history.runAdded.connect(self._run_added)
        w.data_panel.dataReady.connect(self._data_ready)
        w.data_panel.loadFailed.connect(self._data_failed)
        w.document.replaced.connect(self._project_replaced)
        w.training.stateChanged.connect(self._state_changed)
        self._weightsLoaded.connect(self._weights_loaded)
        self._state_changed(w.training.state)

    # --- resume ----------------------------------------------------------------------------------
    def resume_run(self, path: str | None = None) -> Job | None:
        """Read a checkpoint (file, or a run/checkpoint folder) on the worker; it resumes when read."""
        if self.w.training.busy() or self._load_job is not None:
            return None
        if path is None:
            latest = self.tracker.latest_checkpoint()
            path = self.w.dialogs.open_file("Resume run", CHECKPOINT_FILTER, str(latest or self.tracker.root()))
            if path is None:
                return None
        self.w.status.show_message(f"Reading the checkpoint {path}…")
        job = self.w.worker.submit("Reading the checkpoint", load_checkpoint, path)
        job.finished.connect(self._checkpoint_loaded)
        job.failed.connect(self._checkpoint_failed)
        self._load_job = job
        return job

    def _checkpoint_read(self, checkpoint: Checkpoint) -> None:
        """Make the checkpoint's project the window's and continue its fit once the data is ready."""
        project = checkpoint.project.copy()
        planned = project.training.epochs
        if checkpoint.epoch >= planned:
            more = Message(
                MessageKind.QUESTION, "Train longer?",
                f"This run already finished its {planned} epochs. Continue for {planned} more (to epoch "
                f"{checkpoint.epoch + planned})?", ("yes", "no"), "yes",
            )
            if self.w.dialogs.message(more) != "yes":
                self.w.status.show_message("Resume cancelled.")
                return
            project.training.epochs = checkpoint.epoch + planned
        if not self.w.document.maybe_save():
            self.w.status.show_message("Resume cancelled.")
            return
        self.w.document.adopt(project)
        self._pending = checkpoint
        self._resume_if_ready()

    def _resume_if_ready(self) -> None:
        checkpoint = self._pending
        if checkpoint is None or self.w.data_panel.prepared() is None:
            return  # the data of the checkpoint's project is still loading: dataReady comes back here
        self._pending = None
        if self.w.training.train(resume=checkpoint.state):
            self.w.plots.continue_from([EpochEnd(**e) if isinstance(e, dict) else e for e in checkpoint.history])
            self.w.status.show_message(f"Resuming after epoch {checkpoint.epoch} from {checkpoint.path}")

    def _data_ready(self, _data: Any) -> None:
        self._resume_if_ready()

    def _data_failed(self, message: str) -> None:
        if self._pending is not None:
            self._pending = None
            text = f"Its data could not be loaded: {message}"
            self.w.dialogs.message(Message(MessageKind.ERROR, "Cannot resume the run", text))

    # --- fine-tuning -----------------------------------------------------------------------------
    def fine_tune(self, source: str | None = None) -> FineTuneDialog | None:
        """Open the fine-tuning dialog (on ``source``, or the latest run's checkpoint)."""
        w = self.w
        data = w.data_panel.prepared()
        if w.training.busy():
            return None
        if data is None:
            w.dialogs.message(Message(MessageKind.INFO, "Load the data first", "Fine-tuning needs the data loaded "
                                      "(Data tab) to know the network's input and output sizes."))
            return None
        loss = LOSSES.get(w.document.project.loss.name)
        n_outputs = loss.outputs(data.task, data.num_classes or None, data.target_dim or None)
        target = f"{w.document.project.data.dataset} has {data.num_classes} classes" if data.num_classes else ""
        if source is None:
            source = str(self.tracker.latest_checkpoint() or "")
        dialog = FineTuneDialog(
            w.worker, w.dialogs, w.editor.model(), tuple(data.input_shape), n_outputs, target,
            w.document.project.training.seed, source, parent=w.dialog_parent(),
        )
        dialog.accepted.connect(lambda: self.apply_plan(dialog.plan()))
        self._replace_dialog("fine_tune_dialog", dialog)
        dialog.open()
        return dialog

    def apply_plan(self, plan: FineTunePlan) -> None:
        """Edit the network as planned (one undo step) and start the next run from ``plan.source``."""
        w = self.w
        before = w.editor.model()
        after = plan.apply(before)
        if after != before:
            selection = w.editor.selection()
            w.undo_stack.push(EditCommand(w.editor.document, after, "Fine-tuning settings", selection, selection))
        source, exclude = plan.source, plan.exclude(after)

        def load(trainer: Trainer) -> None:  # runs in the worker thread, on the freshly built network
            names = module_labels(trainer.model, trainer.units)
            self._weightsLoaded.emit(load_pretrained(trainer.model, source, names, exclude))

        self.fine_tune_plan = plan
        w.training.prepare_next = load
        w.status.show_message(f"The next run starts from the weights in {source}.")

    @Slot(object)
    def _weights_loaded(self, report: LoadReport) -> None:
        self.fine_tune_plan = None
        first, _, rest = report.summary().partition("\n")
        self.w.dialogs.message(Message(MessageKind.INFO, "Started from trained weights", first, details=rest))

    def _project_replaced(self) -> None:
        # Weights chosen for the old project do not belong to a new one.
        self.fine_tune_plan = None
        self.w.training.prepare_next = None

    # --- export ----------------------------------------------------------------------------------
    def export(self, source: str | None = None) -> ExportDialog:
        """Open the export dialog on ``source``, by default the latest run's newest checkpoint."""
        if source is None:
            source = str(self.tracker.latest_checkpoint() or "")
        dialog = ExportDialog(self.w.worker, self.w.dialogs, source=source, parent=self.w.dialog_parent())
        dialog.resize(max(dialog.sizeHint().width(), EXPORT_WIDTH), dialog.sizeHint().height())  # paths are long
        self._replace_dialog("export_dialog", dialog)
        dialog.open()
        return dialog

    # --- shared ----------------------------------------------------------------------------------
    def _replace_dialog(self, attribute: str, dialog: Any) -> None:
        old = getattr(self, attribute)
        if old is not None:
            old.close()
            old.deleteLater()
        setattr(self, attribute, dialog)

    def _checkpoint_loaded(self, checkpoint: Checkpoint) -> None:
        self._load_job = None
        self._checkpoint_read(checkpoint)

    def _checkpoint_failed(self, message: str) -> None:
        self._load_job = None
        self.w.status.show_message("")
        self.w.dialogs.message(Message(MessageKind.ERROR, "Cannot resume the run", message))

    def _run_added(self, record: RunRecord) -> None:
        if self.tracker.current is not None:
            self.w.history.set_run_folder(record.id, str(self.tracker.current))

    def _state_changed(self, state: str) -> None:
        idle = state == TrainingState.IDLE
        for key in ACTION_NAMES:
            self.w.commands[key].setEnabled(idle)
