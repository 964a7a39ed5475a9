"""The classic lessons: which preset opens which experiment with which options.

A GUI menu ("Classic experiments") and the docs read this list; the command line's ``--preset`` plus the
options here reproduces each lesson (``python main.py compare --preset batchnorm --vary batchnorm``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.core.registry import Registry

EXPERIMENTS = ("train", "probe", "race", "compare", "sweep", "sanity", "lr_find", "modes")


@dataclass(frozen=True)
class Lesson:
    """A preset and the experiment that shows its point, with that experiment's keyword options."""

    preset: str
    title: str
    experiment: str
    options: dict[str, Any] = field(default_factory=dict)
    doc: str = ""

    def __post_init__(self) -> None:
        if self.experiment not in EXPERIMENTS:
            raise ValueError(f"lesson {self.preset!r}: unknown experiment {self.experiment!r}")


LESSONS: Registry[Lesson] = Registry("lesson")
_DEEP_LINEAR = {"schemes": ("constant:value=2", "constant:value=1", "constant:value=0.5")}
for _lesson in (
    Lesson("init-tanh-deep", "Initialisation in a deep tanh network", "probe", {}, "docs/lab/probe.md"),
    Lesson("init-relu-deep", "Initialisation in a deep ReLU network", "probe", {}, "docs/lab/probe.md"),
    Lesson("optimizer-race", "Optimizer race", "race", {}, "docs/lab/race.md"),
    Lesson("perceptron", "The perceptron learning rule", "train", {}, "docs/lab/perceptron.md"),
    Lesson("curve-fit-tanh", "Fitting a curve with one hidden layer", "train", {}, "docs/lab/presets.md"),
    Lesson("deep-linear-exploding", "Exploding outputs and gradients", "probe", _DEEP_LINEAR, "docs/lab/presets.md"),
    Lesson("deep-linear-vanishing", "Vanishing outputs and gradients", "probe", _DEEP_LINEAR, "docs/lab/presets.md"),
    Lesson("depth-vs-lr", "Depth vs learning rate", "sweep", {"setting": "depth", "values": (-6, -4, 0)},
           "docs/lab/compare.md"),
    Lesson("batchnorm", "Batch norm on/off", "compare", {"setting": "batchnorm"}, "docs/lab/compare.md"),
    Lesson("dropout", "Dropout on/off", "compare", {"setting": "dropout"}, "docs/lab/compare.md"),
    Lesson("mean-subtraction", "Per-pixel vs per-channel mean", "compare", {"setting": "preprocessing"},
           "docs/lab/compare.md"),
    Lesson("residual-depth", "Deep plain vs residual network", "compare", {"setting": "shortcuts"},
           "docs/lab/residual.md"),
    Lesson("resnet20-cifar10", "ResNet-20 vs the same depth without shortcuts (CIFAR-10)", "compare",
           {"setting": "shortcuts"}, "docs/lab/residual.md"),
):
    LESSONS.register(_lesson.preset, _lesson)
