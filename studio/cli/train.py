"""``python main.py train``: train a project file or a preset headless."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli import overrides
from studio.cli.commands import implement
from studio.cli.reporting import JsonLines, ProgressBar
from studio.core.callbacks import Callback
from studio.core.checkpoint import CheckpointCallback, load_checkpoint
from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.errors import ConfigError
from studio.core.events import FitEnd
from studio.core.presets import load_preset
from studio.core.project import Project, load_project
from studio.core.runs import save_run


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("project", nargs="?", help="project file (.json)")
    source.add_argument("--preset", metavar="NAME", help="a ready-made project (see `python main.py presets`)")
    source.add_argument("--resume", metavar="CHECKPOINT", help="continue a run exactly from a checkpoint (or folder)")
    parser.add_argument("--epochs", type=int, metavar="N", help="override the number of epochs")
    parser.add_argument("--out", type=Path, metavar="DIR", help="run folder for the final weights and metrics")
    parser.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    overrides.add_arguments(parser)


def load_source(args: argparse.Namespace) -> Project:
    """The project named on the command line, with overrides applied."""
    project = load_preset(args.preset) if args.preset else load_project(args.project)
    if args.epochs is not None:
        if args.epochs < 1:
            raise ConfigError("--epochs must be at least 1", field="epochs")
        project.training.epochs = args.epochs
    return project


def run(args: argparse.Namespace) -> int:
    callbacks: list[Callback] = [JsonLines(sys.stdout) if args.json else ProgressBar(sys.stderr)]
    if args.resume:
        trainer, result = _resume(args, callbacks)
    else:
        project = overrides.changed_project(load_source(args), args)
        if args.out is not None:
            callbacks.append(CheckpointCallback.from_project(args.out / "checkpoints", project))
        data = prepare_data(project.data, progress=None if args.json else _data_progress)
        trainer = Trainer(project, data=data, callbacks=callbacks)
        overrides.load_initial_weights(trainer, args)
        result = trainer.fit()
    if args.out is not None:
        folder = save_run(args.out, trainer.project, trainer.model, result)
        if not args.json:
            print(f"saved run to {folder}", file=sys.stderr)
    return 0


def _resume(args: argparse.Namespace, callbacks: list[Callback]) -> tuple[Trainer, FitEnd]:
    """Continue a checkpointed run; its snapshots keep going to ``--out`` or next to the checkpoint."""
    if args.epochs is not None and args.epochs < 1:
        raise ConfigError("--epochs must be at least 1", field="epochs")
    source = Path(args.resume)
    checkpoint = load_checkpoint(source)
    folder = args.out / "checkpoints" if args.out is not None else (source if source.is_dir() else source.parent)
    callbacks.append(CheckpointCallback.from_project(folder, checkpoint.project))
    return overrides.resume(checkpoint, source, callbacks, args)


def _data_progress(fraction: float, message: str) -> None:
    sys.stderr.write(f"\r\033[Kloading data: {message} {fraction:.0%}")
    if fraction >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()


implement("train", configure, run)
