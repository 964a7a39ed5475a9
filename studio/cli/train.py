"""``studio train``: train a project file or a preset headless, into a run folder of its own.

Every run gets a folder: ``--out DIR`` (new or empty, checked before any work) or a new one under
the runs folder the window uses. Checkpoints go to ``DIR/checkpoints`` every epoch by default, and
Ctrl+C or SIGTERM stops at the next batch with a checkpoint to resume from (``interrupt.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from studio.cli import overrides
from studio.cli.commands import implement
from studio.cli.interrupt import StopOnSignals, exit_status
from studio.cli.reporting import JsonLines, ProgressBar, Steps
from studio.core.advice import end_advice
from studio.core.callbacks import Callback, FitContext
from studio.core.checkpoint import Checkpoint, CheckpointCallback, load_checkpoint
from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.errors import ConfigError
from studio.core.events import FitStart
from studio.core.presets import load_preset
from studio.core.project import Project, load_project
from studio.core.runs import CHECKPOINTS, claim_run_folder, default_runs_root, new_run_folder, save_run

OUT_HELP = (
    "a new (or empty) folder for this run: checkpoints, final weights and metrics. A folder that already "
    "holds files, a file, the current folder or a place that cannot be written is refused before training, "
    "so two runs never mix. Default: a new folder under the runs folder the window uses"
)


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("project", nargs="?", help="project file (.json)")
    source.add_argument("--preset", metavar="NAME", help="a ready-made project (see `studio presets`)")
    source.add_argument("--resume", metavar="CHECKPOINT", help="continue a run exactly from a checkpoint (or its "
                        "run folder); the continued run gets a folder of its own")
    parser.add_argument("--epochs", type=int, metavar="N", help="override the number of epochs")
    parser.add_argument("--out", type=Path, metavar="DIR", help=OUT_HELP)
    parser.add_argument("--checkpoint-every", type=int, metavar="N", help="write a checkpoint every N epochs "
                        "(default: the project's snapshot_every, or 1 when that is 0; 0 here: only at the end). "
                        "Ctrl+C or SIGTERM always writes one and exits 130 or 143")
    parser.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    overrides.add_arguments(parser)


def load_source(args: argparse.Namespace) -> Project:
    """The project named on the command line, with overrides applied."""
    project = load_preset(args.preset) if args.preset else load_project(args.project)
    if args.epochs is not None:
        project.training.epochs = _epochs(args)
    return project


def _epochs(args: argparse.Namespace) -> int:
    if args.epochs < 1:
        raise ConfigError("--epochs must be at least 1", field="epochs")
    return int(args.epochs)


def run(args: argparse.Namespace) -> int:
    if args.checkpoint_every is not None and args.checkpoint_every < 0:
        raise ConfigError("--checkpoint-every must be 0 (only at the end) or more", field="checkpoint_every")
    if args.epochs is not None:
        _epochs(args)
    created = args.out is not None and not args.out.exists()
    folder = claim_run_folder(args.out) if args.out is not None else None  # refused before anything is loaded
    try:
        checkpoint = load_checkpoint(args.resume) if args.resume else None
        project = overrides.changed_project(load_source(args), args) if checkpoint is None else checkpoint.project
        if folder is None:
            folder, created = _default_folder(project), True
        return _train(args, project, checkpoint, folder)
    except BaseException:
        if created and folder is not None:
            _discard_if_empty(folder)  # a run that failed before writing anything leaves no empty folder
        raise


def _train(args: argparse.Namespace, project: Project, checkpoint: Checkpoint | None, folder: Path) -> int:
    signals = StopOnSignals()  # a callback too: it learns the trainer when the fit starts
    callbacks: list[Callback] = [
        _FolderNote(folder),
        JsonLines(sys.stdout) if args.json else ProgressBar(sys.stderr),
        CheckpointCallback(folder / CHECKPOINTS, _every(args, project), project.training.keep_snapshots),
        signals,
    ]
    with signals:
        if checkpoint is not None:
            trainer, result = overrides.resume(checkpoint, args.resume, callbacks, args)
        else:
            with Steps("loading data", sys.stderr) as progress:
                data = prepare_data(project.data, progress=None if args.json else progress)
            trainer = Trainer(project, data=data, callbacks=callbacks)
            overrides.load_initial_weights(trainer, args)
            result = trainer.fit()
        save_run(folder, trainer.project, trainer.model, result)
    if signals.signum is not None:
        print(f"interrupted by {signals.name}: a checkpoint is saved in {folder / CHECKPOINTS};"
              f" continue with: studio train --resume {folder}", file=sys.stderr)
        return exit_status(signals.signum)
    if not args.json:
        print(f"saved run to {folder}", file=sys.stderr)
    advice = end_advice(result)
    if advice:  # the same advice the window gives after a run that failed for the learner
        print(advice, file=sys.stderr)
    return 0


class _FolderNote(Callback):
    """Says where the run goes once it starts (after the data loaded, so a data error stays one line)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def on_fit_start(self, trainer: FitContext, event: FitStart) -> None:
        print(f"run folder: {self.folder}", file=sys.stderr)


def _default_folder(project: Project) -> Path:
    root = default_runs_root()
    try:
        return new_run_folder(root, project)
    except OSError as exc:
        raise ConfigError(f"cannot create a run folder in {root} ({exc.strerror or exc}); choose one with --out",
                          field="out") from None


def _every(args: argparse.Namespace, project: Project) -> int:
    """Epochs between checkpoints: the flag, else the project's setting, else every epoch."""
    if args.checkpoint_every is not None:
        return int(args.checkpoint_every)
    return project.training.snapshot_every or 1


def _discard_if_empty(folder: Path) -> None:
    """Remove a run folder that nothing was written into (rmdir never deletes a file)."""
    for path in (folder / CHECKPOINTS, folder):
        with contextlib.suppress(OSError):
            path.rmdir()


implement("train", configure, run)
