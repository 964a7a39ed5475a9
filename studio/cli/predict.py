"""``python main.py predict SOURCE --input FILE``: what a trained model says about new inputs, one line each."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from studio.cli.commands import implement
from studio.core.inspect.inputs import predict_files
from studio.core.trained import open_trained


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE", help="a run folder (train --out), a checkpoint or an export bundle")
    parser.add_argument("--input", required=True, type=Path, metavar="FILE",
                        help="a CSV file (one sample per row), an image file or a folder of images")
    parser.add_argument("--json", action="store_true", help="one JSON object per input on stdout")


def run(args: argparse.Namespace) -> int:
    results = predict_files(open_trained(args.source), args.input)
    width = max((len(name) for name, _ in results), default=0)
    for name, readout in results:
        print(json.dumps({"input": name, **readout.record()}) if args.json else f"{name:<{width}}  {readout.text()}")
    return 0


implement("predict", configure, run)
