"""``train``'s options that change a run before it starts: ``--set KEY=VALUE``, ``--lr`` and ``--init-from``.

Kept apart from ``train.py`` (which owns output folders and signals) so either can change alone.
``--set`` and ``--lr`` change the project by key path (:mod:`studio.core.keypath`); with ``--resume``
the run continues with the changed optimizer settings (:mod:`studio.core.retune`), which is how a
learner lowers the learning rate for the last epochs. ``--init-from`` starts a new run from saved
weights, matched by position and shape (:mod:`studio.core.finetune`), and reports what it loaded.
"""

from __future__ import annotations

import argparse
import json
import sys

from studio.cli.launch import speaks
from studio.core.checkpoint import Checkpoint
from studio.core.engine import Trainer
from studio.core.errors import ConfigError
from studio.core.finetune import LoadReport, load_pretrained
from studio.core.keypath import apply_settings
from studio.core.project import Project
from studio.core.retune import check_resumable, optimizer_changes, retuned_state
from studio.core.units import module_labels


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                        help="change one project setting by its path, e.g. optimizer.params.lr=0.01 or "
                        "model.layers[2].params.p=0.3 (repeatable; with --resume: optimizer.params.* and training.*)")
    parser.add_argument("--lr", type=float, metavar="X",
                        help="the learning rate (as --set optimizer.params.lr=X); with --resume the run continues at X")
    parser.add_argument("--init-from", metavar="RUN_OR_CHECKPOINT",
                        help="start from the weights of a run folder, checkpoint or export bundle, matched layer by "
                        "layer by position and shape")


def assignments(args: argparse.Namespace) -> list[str]:
    """The ``KEY=VALUE`` changes asked for, ``--lr`` last (it wins over a ``--set`` of the same key)."""
    lr = [] if args.lr is None else [f"optimizer.params.lr={args.lr!r}"]
    return [*args.settings, *lr]


def changed_project(project: Project, args: argparse.Namespace) -> Project:
    """``project`` with ``--set`` and ``--lr`` applied (each checked like a project file value)."""
    return apply_settings(project, assignments(args))


def load_initial_weights(trainer: object, args: argparse.Namespace) -> LoadReport | None:
    """Copy ``--init-from``'s weights into the trainer's fresh model and report what was loaded."""
    if args.init_from is None:
        return None
    report = load_pretrained(trainer.model, args.init_from, names=module_labels(trainer.model, trainer.units))  # type: ignore[attr-defined]
    if not report.loaded:
        reasons = "; ".join(f"{name}: {why}" for name, why in report.skipped[:2])
        raise ConfigError(f"--init-from {args.init_from}: no layer's weights fit this network ({reasons})",
                          field="init_from")
    _say(report.summary(), {"event": "init_from", "source": report.source, "loaded": report.loaded,
                            "skipped": [list(item) for item in report.skipped], "unused": report.unused}, args)
    return report


def resumed_project(checkpoint: Checkpoint, args: argparse.Namespace) -> Project:
    """The project a resumed run continues under: the checkpoint's, with ``--epochs``, ``--set`` and ``--lr``."""
    if args.init_from is not None:
        raise ConfigError("--init-from starts a new run; --resume continues a saved one: use one of them",
                          field="init_from")
    project = checkpoint.project.copy()
    if args.epochs is not None:
        project.training.epochs = args.epochs
    changes = assignments(args)
    if not changes:
        return project
    project = apply_settings(project, changes)
    check_resumable(checkpoint.project, project)
    changed = optimizer_changes(checkpoint.project, project)
    if changed:
        _say(f"resuming after epoch {checkpoint.epoch} with {', '.join(changed)}",
             {"event": "retune", "epoch": checkpoint.epoch, "changes": changed}, args)
    return project


def resume_state(checkpoint: Checkpoint, trainer: Trainer, args: argparse.Namespace) -> dict:
    """The state ``trainer`` continues from: the checkpoint's, retuned to changed optimizer settings."""
    return retuned_state(checkpoint, trainer) if assignments(args) else checkpoint.state


def _say(text: str, record: dict, args: argparse.Namespace) -> None:
    """A note for the learner: a JSON line on stdout with ``--json``, else text on stderr (rank 0's only)."""
    if not speaks():
        return
    if args.json:
        print(json.dumps(record), flush=True)
    else:
        print(text, file=sys.stderr)
