"""A trained model from wherever it was saved: a run folder, a checkpoint (file or folder) or an export bundle.

``predict`` and ``weights`` take any of the three, so a learner does not need to know which one they
hold. All three carry the project (the network) and the weights; run folders and checkpoints also know
the data (input shape, classes, preprocessing statistics) or prepare it again, and a bundle's model
card records it. The result is the export package's :class:`ExportSource` (model, project, data facts).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from studio.core.build import build_model
from studio.core.checkpoint import ModelInfo
from studio.core.errors import ProjectFileError, StudioError
from studio.core.export.bundle import CARD_FILE
from studio.core.export.source import ExportSource, open_source
from studio.core.project import Project
from studio.core.safeload import load_weights
from studio.core.vocab import Task


def open_trained(path: str | os.PathLike[str]) -> ExportSource:
    """The trained model saved at ``path``; anything else there is one :class:`ProjectFileError` line."""
    path = Path(path)
    if not path.exists():
        raise ProjectFileError(f"nothing at {path}: expected a run folder, a checkpoint or an export bundle")
    if (path / CARD_FILE).is_file():
        return _bundle(path)
    return open_source(path)


def _bundle(folder: Path) -> ExportSource:
    """An export bundle: the project and data facts from its model card, the weights from its safetensors."""
    try:
        card: dict[str, Any] = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
        project = Project.from_dict(card["project"])
        class_names = [str(name) for name in card.get("class_names") or []]
        info = ModelInfo(tuple(int(d) for d in card["input_shape"]), card.get("task", Task.CLASSIFICATION),
                         len(class_names) or None, class_names, None, dict(card.get("preprocessing") or {}))
        weights_file = folder / str(card.get("files", {}).get("safetensors", "model.safetensors"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProjectFileError(f"{folder / CARD_FILE} is not a readable model card ({exc})") from None
    except StudioError as exc:
        raise ProjectFileError(f"{folder / CARD_FILE}: {exc}") from None
    model = build_model(project.model, info.input_shape, project.training.seed)
    try:
        model.load_state_dict(load_weights(weights_file))
    except RuntimeError as exc:
        reason = str(exc).splitlines()[0]
        raise ProjectFileError(f"{weights_file} does not fit the bundle's network: {reason}") from None
    return ExportSource(model, project, info)
