"""The catalogue of command-line commands: each command's name, help line and module.

``studio --help``, ``presets`` and ``schema`` must answer in well under a second, and most
commands' code imports torch (seconds). So the catalogue names where each command lives, and a
command's module is imported only when that command runs (or its own ``--help`` is asked for).
At import, the module hands over its code with :func:`implement`. A new command is one line
here and one module (or a function pair in an existing one).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from studio.core.registry import Registry


@dataclass(frozen=True)
class Command:
    """A sub-command as ``studio --help`` lists it: its help line and the module with its code."""

    help: str
    module: str


@dataclass(frozen=True)
class Handler:
    """A sub-command's code: ``configure`` adds its arguments, ``run`` executes it and returns the exit status."""

    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: Registry[Command] = Registry("command")
_HANDLERS: dict[str, Handler] = {}

for _name, _help, _module in (
    ("train", "train a project or preset headless", "train"),
    ("export", "export a trained model (state_dict, safetensors, pt2, torchscript, onnx, python, bundle)", "export"),
    ("predict", "predict new inputs (CSV rows, an image, a folder of images) with a trained model", "predict"),
    ("weights", "print a trained model's weights and biases (values, or shapes and statistics when large)",
     "weights"),
    ("presets", "list the ready-made projects", "info"),
    ("schema", "print the JSON Schema of project files", "info"),
    ("new-from-folder", "make a fine-tuning project for a folder of pictures (one sub-folder per class)",
     "from_folder"),
    ("download-weights", "fetch torchvision weights for a Backbone row into the local torch hub cache", "backbones"),
    ("probe", "compare weight initialisations on one batch (no training)", "lab"),
    ("race", "train the same network with several optimizers side by side", "lab"),
    ("lr-find", "sweep the learning rate and suggest one", "lab"),
    ("sanity", "check that the network can memorise a tiny subset", "lab"),
    ("compare", "train twice with one setting changed and compare", "lab"),
    ("sweep", "train a grid over one or two settings (any project key), repeated with other seeds", "sweep"),
    ("devices", "list the devices this computer can train on (and why one is absent)", "devices"),
):
    COMMANDS.register(_name, Command(_help, f"studio.cli.{_module}"))


def implement(
    name: str,
    configure: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
) -> Handler:
    """Called by a command's module at import: the code of catalogued command ``name``."""
    if name not in COMMANDS:
        raise ValueError(f"command {name!r} is not in the catalogue; add it to studio/cli/commands.py")
    if name in _HANDLERS:
        raise ValueError(f"command {name!r} is already implemented")
    _HANDLERS[name] = Handler(configure, run)
    return _HANDLERS[name]


def handler(name: str) -> Handler:
    """The code of command ``name``, importing its module on first use."""
    importlib.import_module(COMMANDS.get(name).module)
    return _HANDLERS[name]
