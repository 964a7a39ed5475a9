"""Ready-made projects ("presets") shipped as JSON files in the package (``studio/resources/presets``).

Presets are ordinary project files, so a learner can open one, change it and save it as their
own; the default project of the app is the ``digits-mlp`` preset. They are read through
:mod:`importlib.resources`, so they are found in a wheel install as in a checkout.
"""

from __future__ import annotations

import json
from importlib.resources import as_file, files
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotations use it; importlib.resources.abc is new in Python 3.11
    from importlib.abc import Traversable

from studio.core.errors import ConfigError
from studio.core.project import Project, load_project

DEFAULT_PRESET = "digits-mlp"


def _preset_dir() -> Traversable:
    return files("studio") / "resources" / "presets"


def preset_names() -> list[str]:
    """Names of all shipped presets, sorted."""
    return sorted(entry.name.removesuffix(".json") for entry in _preset_dir().iterdir() if entry.name.endswith(".json"))


def _preset_file(name: str) -> Traversable:
    entry = _preset_dir() / f"{name}.json"
    if not entry.is_file():
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(preset_names())}", field="preset")
    return entry


def load_preset(name: str) -> Project:
    """A fresh copy of preset ``name``, or a :class:`ConfigError` listing the presets."""
    with as_file(_preset_file(name)) as path:
        return load_project(path)


def preset_description(name: str) -> str:
    """Preset ``name``'s description, read without building (or validating) the project: a listing
    of presets must stay instant."""
    return str(json.loads(_preset_file(name).read_text(encoding="utf-8")).get("description", ""))


def default_project() -> Project:
    """The project the app opens with: real digits and a small MLP, ready to train."""
    return load_preset(DEFAULT_PRESET)
