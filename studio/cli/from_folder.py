"""``python main.py new-from-folder DIR --out project.json``: a fine-tuning project for a folder of pictures."""

from __future__ import annotations

import argparse
import sys

from studio.cli.commands import implement
from studio.cli.reporting import Steps
from studio.core.from_folder import DEFAULT_MODEL, propose, survey
from studio.core.project import save_project


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="a folder with one sub-folder of pictures per class")
    parser.add_argument("--out", required=True, metavar="PROJECT", help="the project file to write (.json)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"the backbone (default {DEFAULT_MODEL})")


def run(args: argparse.Namespace) -> int:
    with Steps("reading the pictures", sys.stderr) as progress:
        found = survey(args.folder, args.model, progress)
    for line in found.lines():
        print(line, file=sys.stderr if line.startswith("warning") else sys.stdout)
    project = propose(found, args.model)
    save_project(args.out, project)
    weights = project.model.layers[0].params["weights"]
    start = "pretrained weights" if weights != "none" else (
        f"a random start: no {args.model} weights in the torch hub cache; `studio download-weights {args.model}`")
    print(f"wrote {args.out}: {args.model} + a head for {len(found.classes)} classes, {start}; "
          f"train it with: studio train {args.out}")
    return 0


implement("new-from-folder", configure, run)
