"""``python main.py download-weights MODEL WEIGHTS``: fetch torchvision weights into the local cache (Backbone rows)."""

from __future__ import annotations

import argparse

from studio.cli.commands import implement
from studio.core.backbone import download


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a torchvision classification model (resnet18, ...)")
    parser.add_argument("weights", metavar="WEIGHTS", nargs="?", default="DEFAULT",
                        help="the weights name (IMAGENET1K_V1...); DEFAULT when left out")


def run(args: argparse.Namespace) -> int:
    print(download(args.model, args.weights))
    return 0


implement("download-weights", configure, run)
