"""The lab's experiments on the command line: ``probe``, ``race``, ``lr-find``, ``sanity`` and ``compare``.

Each reads a project file or ``--preset NAME``, prints readable text by default (progress on stderr) and,
with ``--json``, one JSON object per line on stdout: the runs' tagged events (``"run"`` names the
contestant or A/B) and a closing ``{"event": "result", ...}``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np

from studio.cli.commands import implement
from studio.cli.reporting import Steps, format_epoch
from studio.cli.train import load_source
from studio.core.errors import ConfigError
from studio.core.events import EpochEnd, FitEnd, FitStart
from studio.core.jsonsafe import plain
from studio.core.lab.common import EventSink, LabRun
from studio.core.lab.compare import compare
from studio.core.lab.lr_finder import DEFAULT_END, DEFAULT_START, DEFAULT_STEPS, apply_lr, find_lr
from studio.core.lab.probe import DEFAULT_SCHEMES, probe_init
from studio.core.lab.race import DEFAULT_LINEUP, lineup_labels, parse_contestant, race
from studio.core.lab.sanity import DEFAULT_EPOCHS, DEFAULT_PER_CLASS, sanity_check
from studio.core.lab.variations import VARIATIONS
from studio.core.project import save_project

SANITY_FAILED = 1  # exit status of a sanity check that ran but failed (user errors are 2)
_EVENT_NAMES = {FitStart: "fit_start", EpochEnd: "epoch_end", FitEnd: "fit_end"}


def _source(parser: argparse.ArgumentParser, epochs: bool = True) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("project", nargs="?", help="project file (.json)")
    source.add_argument("--preset", metavar="NAME", help="a ready-made project (see `python main.py presets`)")
    if epochs:
        parser.add_argument("--epochs", type=int, metavar="N", help="override the number of epochs")
    parser.add_argument("--json", action="store_true", help="one JSON object per line on stdout")


def _project(args: argparse.Namespace) -> Any:
    if not hasattr(args, "epochs"):
        args.epochs = None
    return load_source(args)


def _emit(name: str, payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps({"event": name, **plain(payload)}) + "\n")
    sys.stdout.flush()


def _events(args: argparse.Namespace) -> EventSink:
    """JSON lines of the tagged start/epoch/end events, or one readable line per epoch on stderr."""

    def sink(tag: str, event: object) -> None:
        name = _EVENT_NAMES.get(type(event))
        if name is None:
            return
        if args.json:
            _emit(name, {"run": tag, **plain(event)})
        elif isinstance(event, EpochEnd):
            print(f"[{tag}] {format_epoch(event, 0).replace('/0', '')}", file=sys.stderr)
        elif isinstance(event, FitEnd):
            print(f"[{tag}] {event.message}", file=sys.stderr)

    return sink


def _fmt(value: float | None, spec: str = ".4g") -> str:
    """``value`` formatted by ``spec``; a missing or non-finite value is a dash of the same width."""
    if value is None or not math.isfinite(value):
        width = "".join(ch for ch in spec.split(".")[0] if ch.isdigit())
        return format("-", f">{width}") if width else "-"
    return format(value, spec)


# --- probe ---------------------------------------------------------------------------------------


def _configure_probe(parser: argparse.ArgumentParser) -> None:
    _source(parser, epochs=False)
    parser.add_argument("--schemes", nargs="+", metavar="SCHEME", default=list(DEFAULT_SCHEMES),
                        help="initialisations to compare: zeros small_random normal xavier he, or any scheme with "
                             "settings such as constant:value=2 (default: the five classic ones)")
    parser.add_argument("--batch-size", type=int, metavar="N", help="samples in the probe batch (default: the "
                        "project's batch size)")


def _run_probe(args: argparse.Namespace) -> int:
    with Steps("probe", sys.stderr) as progress:
        result = probe_init(_project(args), args.schemes, batch_size=args.batch_size,
                            progress=None if args.json else progress)
    if args.json:
        _emit("result", {"experiment": "probe", **plain(result)})
        return 0
    print(f"One batch of {result.batch_size} samples, forward and backward, no training.")
    for probe in result.schemes:
        print(f"\n{probe.scheme.label}  (loss {probe.loss:.4g})")
        print(f"  {'layer':<18} {'mean':>10} {'std':>10} {'saturated':>9} {'zeros':>6} {'grad(out)':>10} "
              f"{'grad(w)':>10}")
        for i, name in enumerate(result.layer_names):
            print(f"  {name:<18} {_fmt(probe.act_mean[i], '10.3g')} {_fmt(probe.act_std[i], '10.3g')} "
                  f"{_fmt(probe.frac_saturated[i], '9.0%')} {_fmt(probe.frac_zero[i], '6.0%')} "
                  f"{_fmt(probe.act_grad_norm[i], '10.3g')} {_fmt(probe.weight_grad_norm[i], '10.3g')}")
        for warning in probe.warnings[:1]:
            print(f"  ! {warning}")
    return 0


# --- race ----------------------------------------------------------------------------------------


def _configure_race(parser: argparse.ArgumentParser) -> None:
    _source(parser)
    parser.add_argument("--contestant", action="append", metavar="[LABEL=]OPTIMIZER[:k=v,...]",
                        help="a contestant, e.g. 'sgd:lr=0.05,momentum=0.9' (repeat; default: "
                             + "; ".join(lineup_labels(DEFAULT_LINEUP)) + ")")


def _run_race(args: argparse.Namespace) -> int:
    lineup = [parse_contestant(text) for text in args.contestant] if args.contestant else list(DEFAULT_LINEUP)
    result = race(_project(args), lineup, on_event=_events(args))
    rows = [{"label": c.label, "optimizer": c.contestant.optimizer, "final_train_loss": c.final_train_loss,
             "final_val_loss": c.final_val_loss, "final_val_acc": c.final_val_acc, "diverged": c.diverged,
             "reason": c.run.reason} for c in result.contestants]
    winner = result.winner.label if result.winner else None
    if args.json:
        _emit("result", {"experiment": "race", "contestants": rows, "winner": winner})
        return 0
    print(f"{'contestant':<24} {'train loss':>10} {'val loss':>10} {'val acc':>8}")
    for row in rows:
        note = "  diverged" if row["diverged"] else ""
        print(f"{row['label']:<24} {_fmt(row['final_train_loss'], '10.4f')} {_fmt(row['final_val_loss'], '10.4f')} "
              f"{_fmt(row['final_val_acc'], '8.1%')}{note}")
    print(f"winner (lowest final validation loss): {winner or 'none'}")
    return 0


# --- lr-find -------------------------------------------------------------------------------------


def _configure_lr_find(parser: argparse.ArgumentParser) -> None:
    _source(parser, epochs=False)
    parser.add_argument("--start", type=float, default=DEFAULT_START, help=f"first rate (default {DEFAULT_START:g})")
    parser.add_argument("--end", type=float, default=DEFAULT_END, help=f"last rate (default {DEFAULT_END:g})")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"batches (default {DEFAULT_STEPS})")
    parser.add_argument("--apply", metavar="OUT.json", help="save the project with the suggested rate to this file")


def _run_lr_find(args: argparse.Namespace) -> int:
    project = _project(args)
    with Steps("lr-find", sys.stderr) as progress:
        result = find_lr(project, args.start, args.end, args.steps, progress=None if args.json else progress)
    if args.apply and result.suggested_lr is None:
        raise ConfigError("no learning rate to apply: the loss never fell over this range", field="apply")
    if args.apply:
        save_project(args.apply, apply_lr(project, result.suggested_lr))
    if args.json:
        _emit("result", {"experiment": "lr_find", **plain(result)})
        return 0
    print(f"{'learning rate':>14} {'loss':>10} {'smoothed':>10}")
    for i in np.unique(np.linspace(0, len(result.lrs) - 1, min(len(result.lrs), 12)).astype(int)):
        print(f"{result.lrs[i]:14.3g} {_fmt(result.losses[i], '10.4f')} {_fmt(result.smoothed[i], '10.4f')}")
    print(result.message + (" (the loss diverged; the sweep stopped early)" if result.diverged else ""))
    if args.apply:
        print(f"saved the project with learning rate {result.suggested_lr:.2g} to {args.apply}")
    return 0


# --- sanity --------------------------------------------------------------------------------------


def _configure_sanity(parser: argparse.ArgumentParser) -> None:
    _source(parser, epochs=False)
    parser.add_argument("--per-class", type=int, default=DEFAULT_PER_CLASS, metavar="N",
                        help=f"training samples per class (default {DEFAULT_PER_CLASS})")
    parser.add_argument("--max-epochs", type=int, default=DEFAULT_EPOCHS, metavar="N",
                        help=f"give up after this many epochs (default {DEFAULT_EPOCHS})")


def _run_sanity(args: argparse.Namespace) -> int:
    if args.per_class < 1 or args.max_epochs < 1:
        raise ConfigError("--per-class and --max-epochs must be at least 1", field="per_class")
    result = sanity_check(_project(args), args.per_class, args.max_epochs)
    if args.json:
        _emit("result", {"experiment": "sanity", "passed": result.passed, "verdict": result.verdict,
                         "train_loss": result.train_loss, "train_acc": result.train_acc,
                         "initial_loss": result.initial_loss, "epochs": result.epochs,
                         "n_samples": result.n_samples, "causes": result.causes})
    else:
        print(result.verdict)
        for cause in result.causes:
            print(f"  - {cause}")
    return 0 if result.passed else SANITY_FAILED


# --- compare -------------------------------------------------------------------------------------


def _configure_compare(parser: argparse.ArgumentParser) -> None:
    _source(parser)
    parser.add_argument("--vary", required=True, choices=VARIATIONS.names(), help="the one setting to change")
    parser.add_argument("--value", help="its new value; " + " | ".join(
        f"{name}: {v.value_help}" for name, v in VARIATIONS.items()))


def _run_compare(args: argparse.Namespace) -> int:
    result = compare(_project(args), args.vary, args.value, on_event=_events(args))
    if args.json:
        _emit("result", {"experiment": "compare", "setting": result.variant.setting, "before": result.variant.before,
                         "after": result.variant.after, "a": _final(result.a), "b": _final(result.b),
                         "differences": result.differences, "summary": result.summary})
        return 0
    print("\n".join(result.summary))
    return 0


def _final(run: LabRun) -> dict[str, Any]:
    return {"label": run.label, "reason": run.reason, "final": run.final}


implement("probe", _configure_probe, _run_probe)
implement("race", _configure_race, _run_race)
implement("lr-find", _configure_lr_find, _run_lr_find)
implement("sanity", _configure_sanity, _run_sanity)
implement("compare", _configure_compare, _run_compare)
