"""``studio train``: train a project file or a preset headless, into a run folder of its own.

Every run gets a folder: ``--out DIR`` (new or empty, checked before any work) or a new one under
the runs folder the window uses. Checkpoints go to ``DIR/checkpoints`` every epoch by default, and
Ctrl+C or SIGTERM stops at the next batch with a checkpoint to resume from (``interrupt.py``).

Under torchrun (or with ``--nproc-per-node N``, which starts it: ``launch.py``) every process runs
this; rank 0 alone claims the folder, reports and writes, and the data is prepared by rank 0 first.
``--control-stdin`` lets whoever started the run pause, resume and stop it (``stdin_control.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from studio.cli import overrides
from studio.cli.commands import implement
from studio.cli.interrupt import StopOnSignals, exit_status
from studio.cli.launch import in_turn, join, launch, speaks
from studio.cli.reporting import JsonLines, ProgressBar, Steps
from studio.cli.stdin_control import listen
from studio.core.advice import end_advice
from studio.core.callbacks import Callback, FitContext
from studio.core.checkpoint import Checkpoint, CheckpointCallback, load_checkpoint
from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.engine.distributed import Group
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
                        "(default: the project's checkpoint_every, or 1 when that is 0; 0 here: only at the end). "
                        "Ctrl+C or SIGTERM always writes one and exits 130 or 143")
    parser.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    parser.add_argument("--nproc-per-node", type=int, metavar="N", help="train with N processes on this computer "
                        "(starts torchrun: one process per GPU, or N CPU processes); see docs/scale.md")
    parser.add_argument("--control-stdin", action="store_true", help="read pause, resume and stop lines on stdin; "
                        "stdin closing stops the run cleanly too (the window's runs in another process)")
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
    if args.nproc_per_node is not None:
        return _launch(args)
    writer = speaks()  # rank 0 of a torchrun job, or a plain process
    created = writer and args.out is not None and not args.out.exists()
    # Refused before anything is loaded; only rank 0 writes, so only it claims.
    folder = claim_run_folder(args.out) if writer and args.out is not None else None
    try:
        checkpoint = load_checkpoint(args.resume) if args.resume else None
        project = _project(args, checkpoint)
        if folder is None and writer:
            folder, created = _default_folder(project), True
        group = join(project)
        try:
            return _train(args, project, checkpoint, folder, group)
        finally:
            if group is not None:
                group.close()
    except BaseException:
        if created and folder is not None:
            _discard_if_empty(folder)  # a run that failed before writing anything leaves no empty folder
        raise


def _project(args: argparse.Namespace, checkpoint: Checkpoint | None) -> Project:
    """The project to train: the file or preset with ``--set``/``--lr``, or the checkpoint's with its changes."""
    if checkpoint is None:
        return overrides.changed_project(load_source(args), args)
    return overrides.resumed_project(checkpoint, args)


def _launch(args: argparse.Namespace) -> int:
    """``--nproc-per-node N``: check the run, then start torchrun with every process writing to one folder."""
    if args.nproc_per_node < 1:
        raise ConfigError("--nproc-per-node must be at least 1", field="nproc_per_node")
    checkpoint = load_checkpoint(args.resume) if args.resume else None
    project = _project(args, checkpoint)
    argv = _without_nproc(args.argv)
    if args.out is not None:
        return launch(project, int(args.nproc_per_node), argv)
    folder = _default_folder(project)  # the processes must agree on the folder: it is chosen here, once
    try:
        return launch(project, int(args.nproc_per_node), [*argv, "--out", str(folder)])
    finally:
        _discard_if_empty(folder)  # nothing written (a refused launch): no empty folder left behind


def _train(args: argparse.Namespace, project: Project, checkpoint: Checkpoint | None, folder: Path | None,
           group: Group | None) -> int:
    """Train in this process (one rank of a torchrun job when ``group``); only rank 0 reports and writes."""
    signals = StopOnSignals()  # a callback too: it learns the trainer when the fit starts
    callbacks: list[Callback] = [signals]
    if folder is not None:
        callbacks += [
            _FolderNote(folder),
            JsonLines(sys.stdout) if args.json else ProgressBar(sys.stderr),
            CheckpointCallback(folder / CHECKPOINTS, _every(args, project), project.training.keep_checkpoints),
        ]
    with signals:
        with Steps("loading data", sys.stderr) as progress:
            quiet = args.json or folder is None
            data = in_turn(group, lambda: prepare_data(project.data, progress=None if quiet else progress))
        for warning in data.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        trainer = Trainer(project, data=data, callbacks=callbacks, group=group)
        if checkpoint is None:
            overrides.load_initial_weights(trainer, args)
        resume = overrides.resume_state(checkpoint, trainer, args) if checkpoint is not None else None
        if args.control_stdin and folder is not None:
            listen(trainer)
        result = trainer.fit(resume=resume)
        if folder is not None:
            save_run(folder, trainer.project, trainer.model, result)
    if folder is None:
        return exit_status(signals.signum) if signals.signum is not None else 0
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


def _without_nproc(argv: list[str]) -> list[str]:
    """``train``'s own arguments with ``--nproc-per-node N`` taken out (what each process runs)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc-per-node":
            skip = True
        elif not arg.startswith("--nproc-per-node="):
            out.append(arg)
    return out


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
    return project.training.checkpoint_every or 1


def _discard_if_empty(folder: Path) -> None:
    """Remove a run folder that nothing was written into (rmdir never deletes a file)."""
    for path in (folder / CHECKPOINTS, folder):
        with contextlib.suppress(OSError):
            path.rmdir()


implement("train", configure, run)
