"""A new project from a folder of pictures (one sub-folder per class): look at it, then propose a fine-tuning setup.

:func:`survey` counts the pictures per class, reads every picture once into the folder's cache at the
size the proposed backbone expects (so the first training run starts at once), and lists the classes
with very few pictures and the files that cannot be read (they are skipped, never a crash).
:func:`propose` makes the project: a ``Backbone`` (pretrained weights when torchvision's cache holds
them, else a random start with every stage trainable), dropout and a ``Linear`` head for the classes,
a stratified validation split and preprocessing ``none`` (the backbone normalises the pictures).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.core import backbone
from studio.core.data.image_cache import open_cache, scan
from studio.core.data.image_folder import classes_of, folder_of
from studio.core.progress import Progress
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec

DEFAULT_MODEL = "mobilenet_v3_small"  # small and fast on a laptop's CPU
FEW = 10  # fewer pictures than this in a class earns a warning
SAMPLES = 4  # sample files per class (the GUI's thumbnails)


@dataclass(frozen=True)
class Survey:
    """What a folder holds: classes, readable pictures per class, a few sample files each, and what to fix."""

    root: Path
    classes: tuple[str, ...]
    counts: tuple[int, ...]
    samples: tuple[tuple[Path, ...], ...]
    unreadable: tuple[tuple[str, str], ...]
    image_size: int

    @property
    def few(self) -> tuple[str, ...]:
        return tuple(name for name, n in zip(self.classes, self.counts, strict=True) if n < FEW)

    def lines(self) -> list[str]:
        """The survey in words: one line per class, then the warnings."""
        out = [f"{name}: {n:,} pictures" for name, n in zip(self.classes, self.counts, strict=True)]
        if self.few:
            out.append(f"warning: few pictures (under {FEW}) in {', '.join(self.few)}; add more for a reliable "
                       "classifier")
        for path, why in self.unreadable:
            out.append(f"warning: skipped {path}: {why}")
        return out


def survey(root: str | Path, model: str = DEFAULT_MODEL, progress: Progress = lambda f, m: None) -> Survey:
    """Count and read the folder's pictures once (into its cache, at the size ``model`` expects)."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    folder = folder_of(str(root))
    classes = classes_of(folder)
    listing = scan(folder, classes, IMG_EXTENSIONS)
    size = backbone.expectation(model, "none").size
    cache = open_cache(listing, size, 3, progress)
    counts = [0] * len(classes)
    samples: list[list[Path]] = [[] for _ in classes]
    for row, label in zip(cache.rows.tolist(), cache.labels.tolist(), strict=True):
        counts[label] += 1
        if len(samples[label]) < SAMPLES:
            samples[label].append(folder / listing.paths[row])
    return Survey(folder, tuple(classes), tuple(counts), tuple(tuple(s) for s in samples), cache.skipped, size)


def propose(found: Survey, model: str = DEFAULT_MODEL) -> Project:
    """A fine-tuning project for the surveyed folder (see the module's docstring)."""
    pretrained = backbone.hub_file(model, "DEFAULT").is_file()
    layers = [
        LayerSpec("Backbone", {"model": model, "weights": "DEFAULT" if pretrained else "none",
                               "trainable": "last 1" if pretrained else "all"}),
        LayerSpec("Dropout", {"p": 0.2}),
        LayerSpec("Linear", {"out_features": len(found.classes)}),
    ]
    return Project(
        name=found.root.name or "pictures",
        model=ModelSpec(layers),
        data=DataSpec("image_folder", {"root": str(found.root), "image_size": found.image_size, "channels": "rgb"},
                      preprocessing="none", val_fraction=0.2),
        optimizer=Choice("adam", {"lr": 0.001}),
        training=TrainingSpec(epochs=5, batch_size=32),
    )
