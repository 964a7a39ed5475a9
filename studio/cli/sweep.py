"""``python main.py sweep PROJECT --vary KEY=V1,V2,... [--vary KEY2=...]``: a grid of real runs, mean ± spread."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from studio.cli.commands import implement
from studio.cli.train import load_source
from studio.core.errors import ConfigError
from studio.core.events import FitEnd
from studio.core.jsonsafe import plain
from studio.core.keypath import apply_settings
from studio.core.lab.grid import METRICS, GridResult, Stat, cell_label, grid_sweep, parse_axis, value_text


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("project", nargs="?", help="project file (.json)")
    source.add_argument("--preset", metavar="NAME", help="a ready-made project (see `python main.py presets`)")
    parser.add_argument("--vary", action="append", required=True, metavar="KEY=V1,V2,...",
                        help="a setting by its path and the values it takes, e.g. optimizer.params.lr=0.01,0.1,1 "
                        "or model.layers[0].params.times=2,4,8 (once or twice: a grid)")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--repeats", type=int, default=1, metavar="N",
                       help="runs per cell with seeds training.seed, +1, ... (mean ± spread; default 1)")
    seeds.add_argument("--seeds", metavar="S1,S2,...", help="runs per cell with exactly these seeds")
    parser.add_argument("--metric", choices=METRICS, metavar="METRIC",
                        help=f"the final metric in the table: {', '.join(METRICS)} (default: the first with values)")
    parser.add_argument("--epochs", type=int, metavar="N", help="override the number of epochs")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                        help="change a setting of every cell first (as train --set)")
    parser.add_argument("--json", action="store_true", help="one JSON object per run, then the result, on stdout")


def run(args: argparse.Namespace) -> int:
    project = apply_settings(load_source(args), args.settings)
    axes = [parse_axis(text) for text in args.vary]
    result = grid_sweep(project, axes, args.repeats, on_event=_reporter(args), seeds=_seeds(args.seeds))
    metric = args.metric or pick_metric(result)
    if args.json:
        print(json.dumps(plain(result_record(result, metric))), flush=True)
    else:
        print(table_text(result, metric))
    return 0


def _seeds(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise ConfigError(f"--seeds needs whole numbers separated by commas (e.g. 0,1,2), not {text!r}",
                          field="seeds") from None


def _reporter(args: argparse.Namespace) -> Any:
    """One line (text on stderr, or JSON on stdout) per finished run."""

    def sink(tag: str, event: object) -> None:
        if not isinstance(event, FitEnd):
            return
        last = event.history[-1] if event.history else None
        finals = {m: getattr(last, m) for m in METRICS} if last is not None else {}
        if args.json:
            record = {"event": "run", "run": tag, "reason": event.reason, "epochs": event.epochs_completed,
                      "final": finals}
            print(json.dumps(plain(record)), flush=True)
        else:
            shown = ", ".join(f"{m} {v:.4g}" for m, v in finals.items() if v is not None)
            print(f"[{tag}] {event.reason}: {shown or event.message}", file=sys.stderr)

    return sink


def pick_metric(result: GridResult) -> str:
    """The first metric that any cell has a value for (validation accuracy, else loss, else training)."""
    for metric in METRICS:
        if any(c.stat(metric).counted for c in result.cells):
            return metric
    return METRICS[0]


def table_text(result: GridResult, metric: str) -> str:
    """The grid as a table: rows are the first setting's values, columns the second's."""
    rows = result.table(metric)
    first = result.axes[0]
    second = result.axes[1] if len(result.axes) > 1 else None
    header = [first.key] + ([f"{second.key.rsplit('.', 1)[-1]}={v}" for v in second.labels] if second else [metric])
    body = [[label, *(stat.text() for stat in row)] for label, row in zip(first.labels, rows, strict=True)]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [f"final {metric}, mean ± spread over {len(result.seeds)} seed(s) {list(result.seeds)}"]
    lines += ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                        enumerate(zip(line, widths, strict=True))) for line in [header, *body]]
    best = result.best(metric)
    if best is not None:
        lines.append(f"best: {cell_label(result.axes, best.values)} ({best.stat(metric).text()})")
    return "\n".join(lines)


def result_record(result: GridResult, metric: str) -> dict[str, Any]:
    def stat(s: Stat) -> dict[str, Any]:
        return {"mean": s.mean if math.isfinite(s.mean) else None, "spread": s.spread, "counted": s.counted,
                "runs": s.runs, "diverged": s.diverged}

    return {
        "event": "result", "experiment": "sweep", "metric": metric, "seeds": list(result.seeds),
        "axes": [{"key": a.key, "values": list(a.values)} for a in result.axes],
        "cells": [{"values": {a.key: v for a, v in zip(result.axes, c.values, strict=True)},
                   "labels": [value_text(v) for v in c.values],
                   **{m: stat(c.stat(m)) for m in METRICS}} for c in result.cells],
    }


implement("sweep", configure, run)
