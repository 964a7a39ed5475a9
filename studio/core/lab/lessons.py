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
# A grid of depths (the Repeat block's copies) and four decades of learning rate, two seeds a cell:
# python main.py sweep --preset depth-vs-lr --vary AXIS1 --vary AXIS2 --repeats 2
_DEPTH_BY_LR = {"axes": ("model.layers[0].params.times=2,4,8,16", "optimizer.params.lr=0.001,0.01,0.1,1,10"),
                "repeats": 2}
for _lesson in (
    Lesson("init-tanh-deep", "Initialisation in a deep tanh network", "probe", {}, "docs/lab/probe.md"),
    Lesson("init-relu-deep", "Initialisation in a deep ReLU network", "probe", {}, "docs/lab/probe.md"),
    Lesson("optimizer-race", "Optimizer race", "race", {}, "docs/lab/race.md"),
    Lesson("perceptron", "The perceptron learning rule", "train", {}, "docs/lab/perceptron.md"),
    Lesson("curve-fit-tanh", "Fitting a curve with one hidden layer", "train", {}, "docs/lab/presets.md"),
    Lesson("deep-linear-exploding", "Exploding outputs and gradients", "probe", _DEEP_LINEAR, "docs/lab/presets.md"),
    Lesson("deep-linear-vanishing", "Vanishing outputs and gradients", "probe", _DEEP_LINEAR, "docs/lab/presets.md"),
    Lesson("depth-vs-lr", "Depth vs learning rate (sigmoid)", "sweep", _DEPTH_BY_LR, "docs/lab/depth-vs-lr.md"),
    Lesson("depth-vs-lr-relu", "Depth vs learning rate (ReLU + He)", "sweep", _DEPTH_BY_LR, "docs/lab/depth-vs-lr.md"),
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
