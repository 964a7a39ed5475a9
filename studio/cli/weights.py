"""``python main.py weights SOURCE``: a trained model's weights and biases, to compare with a hand calculation."""

from __future__ import annotations

import argparse
import json

from studio.cli.commands import implement
from studio.core.inspect.weights import layer_weights
from studio.core.trained import open_trained


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE", help="a run folder (train --out), a checkpoint or an export bundle")
    parser.add_argument("--layer", type=int, metavar="N", help="only layer N (rows count from 1, as in the stack)")
    parser.add_argument("--json", action="store_true", help="one JSON object per layer on stdout")


def run(args: argparse.Namespace) -> int:
    source = open_trained(args.source)
    for layer in layer_weights(source.model, source.layer_labels(), args.layer):
        print(json.dumps(layer.record()) if args.json else layer.text())
    return 0


implement("weights", configure, run)
