"""``python main.py export``: take a trained model out of the studio, verified on real inputs."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.cli.commands import implement
from studio.core.export import EXPORTERS, export


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="RUN_OR_CHECKPOINT", help="a run folder (train --out) or a checkpoint")
    parser.add_argument("--format", required=True, choices=EXPORTERS.names(), help="what to write")
    parser.add_argument("--out", required=True, type=Path, metavar="PATH",
                        help="file or folder to write; an existing file, or a folder with files in it, is refused")
    parser.add_argument("--force", action="store_true",
                        help="write over an existing destination: replaces only the files the export writes and "
                             "keeps every other file in the folder")


def run(args: argparse.Namespace) -> int:
    report = export(args.source, args.format, args.out, force=args.force)
    print(report.summary())
    return 0


implement("export", configure, run)
