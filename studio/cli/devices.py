"""``python main.py devices``: what this computer can train on, and why a kind of device is missing."""

from __future__ import annotations

import argparse
import json

from studio.cli.commands import implement


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per device on stdout")


def _devices(args: argparse.Namespace) -> int:
    from studio.core.device import list_devices  # imports torch: only this command pays for it

    for info in list_devices():
        if args.json:
            print(json.dumps({"name": info.name, "label": info.label, "available": info.available,
                              "memory": info.memory, "reason": info.reason}))
        else:
            print(f"{info.name:<8}  {info.label}" + ("" if info.available else f"  (absent: {info.reason})"))
    return 0


implement("devices", _configure, _devices)
