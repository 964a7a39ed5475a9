"""Ready-made projects ("presets") shipped as JSON files in ``resources/presets``.

Presets are ordinary project files, so a learner can open one, change it and save it as their
own; the default project of the app is the ``digits-mlp`` preset.
"""

from __future__ import annotations

from pathlib import Path

from studio.core.errors import ConfigError
from studio.core.project import Project, load_project

PRESET_DIR = Path(__file__).resolve().parents[2] / "resources" / "presets"
DEFAULT_PRESET = "digits-mlp"


def preset_names() -> list[str]:
    """Names of all shipped presets, sorted."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.json"))


def preset_path(name: str) -> Path:
    """The file of preset ``name``, or a :class:`ConfigError` listing the presets."""
    path = PRESET_DIR / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(preset_names())}", field="preset")
    return path


def load_preset(name: str) -> Project:
    """A fresh copy of preset ``name``."""
    return load_project(preset_path(name))


def default_project() -> Project:
    """The project the app opens with: real digits and a small MLP, ready to train."""
    return load_preset(DEFAULT_PRESET)
