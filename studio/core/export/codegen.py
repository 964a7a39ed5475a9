"""The ``python`` export: a standalone, readable ``model.py`` (plus weights, preprocessing and ``train.py``).

Each module of the built network is printed as its constructor call. Modules from ``torch.nn``
use their own ``extra_repr()``, which PyTorch writes as constructor arguments
(``in_features=64, out_features=128, bias=True``); the export is verified by executing the
generated file, so a module whose ``extra_repr`` is not a faithful constructor cannot slip
through. Studio-specific modules (the straight-through ``Sign``) are emitted as small classes.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from studio.core.export.formats import ExportFormat, register
from studio.core.export.source import ExportSource
from studio.core.export.traincode import write_training
from studio.core.export.verify import ExportError, Runner
from studio.core.export.weights import cpu_state
from studio.core.init import layer_init
from studio.core.inspect.readout import is_sign_model
from studio.core.layers import Sign
from studio.core.shapes import infer_shapes

MODEL_FILE = "model.py"
WEIGHTS_FILE = "weights.pt"
PREPROCESSING_FILE = "preprocessing.json"

SIGN_SOURCE = '''class _SignSTE(torch.autograd.Function):
    """sign(x) forward (``zero`` at exactly 0); the gradient passes straight through backward."""

    @staticmethod
    def forward(ctx, x, zero):
        return torch.where(x == 0, torch.full_like(x, zero), torch.sign(x))

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Sign(nn.Module):
    """Outputs -1 or +1, and ``zero`` at exactly 0 (the perceptron's step); gradients pass straight through."""

    def __init__(self, zero=1):
        super().__init__()
        self.zero = zero

    def forward(self, x):
        return _SignSTE.apply(x, float(self.zero))

    def extra_repr(self):
        return f"zero={self.zero}"
'''


@dataclass(frozen=True)
class ModuleCode:
    """How to write a module that is not a plain ``torch.nn`` class: helper source and its constructor call."""

    source: str
    call: Callable[[nn.Module], str]


CUSTOM_MODULES: dict[type[nn.Module], ModuleCode] = {
    Sign: ModuleCode(SIGN_SOURCE, lambda module: f"Sign({module.extra_repr()})"),
}


def constructor(module: nn.Module) -> str:
    """Python source that constructs an equivalent, untrained ``module`` (e.g. ``nn.Linear(in_features=64, ...)``)."""
    custom = CUSTOM_MODULES.get(type(module))
    if custom is not None:
        return custom.call(module)
    cls = type(module)
    if getattr(nn, cls.__name__, None) is cls:
        return f"nn.{cls.__name__}({module.extra_repr()})"
    raise ExportError(f"the python export does not know how to write a {cls.__name__} layer")


def typed_values(source: ExportSource) -> dict[int, dict[str, list[Any]]]:
    """Rows whose starting weights were typed in (init ``values``): index -> {"weight": ..., "bias": ...}."""
    spec = source.project.model
    typed = {}
    for index in range(len(spec.layers)):
        scheme, params = layer_init(spec, index)
        if scheme.layer_only:
            typed[index] = {name: params[name] for name in ("weight", "bias") if params.get(name) is not None}
    return typed


def _build_source(source: ExportSource, rows: list[str]) -> str:
    """``build_model()``: the modules, then the typed starting values when rows have them."""
    typed = typed_values(source)
    if not typed:
        return _BUILD.format(rows="\n".join(rows))
    return _TYPED_BUILD.format(rows="\n".join(rows), typed=json.dumps({str(k): v for k, v in typed.items()}))


def outputs_text(source: ExportSource) -> str:
    """What the network's outputs mean, for the docstring: one score per class, one signed score, or values."""
    names = source.info.class_names
    if not names:
        return "the predicted values"
    if infer_shapes(source.project.model.layers, source.info.input_shape)[-1].out_shape != (1,):
        return f"one score per class ({', '.join(names)}); the largest wins"
    negative, positive = names[0], names[-1]
    if is_sign_model(source.model, source.project.loss.name, 1):
        return (f"one value per sample, +1 or -1 (a perceptron's sign): +1 means class {positive!r}, "
                f"-1 class {negative!r}")
    return (f"one score per sample: positive means class {positive!r} (probability sigmoid(score)), "
            f"otherwise class {negative!r}")


def model_source(source: ExportSource) -> str:
    """The text of ``model.py``."""
    helpers = list(dict.fromkeys(CUSTOM_MODULES[type(m)].source for m in source.model if type(m) in CUSTOM_MODULES))
    labels = source.layer_labels()
    rows = [f"        {constructor(module)},  # {label}" for module, label in zip(source.model, labels, strict=True)]
    info = source.info
    parts = [
        _HEADER.format(
            name=source.project.name,
            shape=", ".join(str(d) for d in info.input_shape),
            outputs=outputs_text(source),
            preprocessing=info.preprocessing.get("name", "none"),
        ),
        f"INPUT_SHAPE = {tuple(info.input_shape)!r}\nCLASS_NAMES = {list(info.class_names)!r}\n",
        *helpers,
        _build_source(source, rows),
        _FOOTER,
    ]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def _write_python(source: ExportSource, path: Path) -> list[Path]:
    path.mkdir(parents=True, exist_ok=True)
    files = [path / MODEL_FILE, path / WEIGHTS_FILE, path / PREPROCESSING_FILE]
    files[0].write_text(model_source(source), encoding="utf-8")
    torch.save(cpu_state(source), files[1])
    files[2].write_text(json.dumps(source.info.preprocessing, indent=1) + "\n", encoding="utf-8")
    return files + write_training(source, path)


def import_generated(path: Path, name: str = MODEL_FILE) -> ModuleType:
    """Import a generated file as a fresh module (not added to ``sys.modules``)."""
    unique = f"_studio_export_{abs(hash(str(path)))}_{Path(name).stem}"
    spec = importlib.util.spec_from_file_location(unique, path / name)
    if spec is None or spec.loader is None:
        raise ExportError(f"cannot import {path / name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module  # dataclasses and pickling inside the module look themselves up here
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[unique]
    return module


def _load_python(source: ExportSource, path: Path) -> Runner:
    runner: Runner = import_generated(path).load_model(path / WEIGHTS_FILE)
    return runner


_HEADER = '''"""{name}: a neural network exported from Training Studio, in plain PyTorch (no Training Studio needed).

Input: float tensors of shape (batch, {shape}), preprocessed with preprocess() ({preprocessing}).
Output: {outputs}.
Next to this file: weights.pt (trained weights), preprocessing.json (training-split statistics),
train.py (trains the same network again with the same settings).

    from model import load_model, preprocess
    model = load_model()
    outputs = model(preprocess(x))
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
'''

_BUILD = '''def build_model() -> nn.Sequential:
    """The network, one module per row of the Training Studio layer stack (untrained weights)."""
    return nn.Sequential(
{rows}
    )
'''

_TYPED_BUILD = '''# Starting values typed into Training Studio (init "values") by row; other rows start as nn does.
TYPED_VALUES = {typed}


def build_model() -> nn.Sequential:
    """The network, one module per row of the Training Studio layer stack (untrained weights, typed rows typed)."""
    model = nn.Sequential(
{rows}
    )
    with torch.no_grad():
        for row, values in TYPED_VALUES.items():
            for name, value in values.items():
                getattr(model[int(row)], name).copy_(torch.tensor(value))
    return model
'''

_FOOTER = '''def load_model(weights: str | Path = HERE / "weights.pt") -> nn.Sequential:
    """The trained network in evaluation mode; the weights file is read without unpickling any code."""
    model = build_model()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval()


def _tensor(values: list | None) -> torch.Tensor | None:
    return None if values is None else torch.tensor(values, dtype=torch.float32)


@functools.lru_cache(maxsize=4)
def _statistics(path: str) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    return _tensor(record.get("mean")), _tensor(record.get("std"))


def preprocess(x: torch.Tensor, statistics: str | Path = HERE / "preprocessing.json") -> torch.Tensor:
    """(x - mean) / std with the training split's statistics, as during training (raw pixels in [0, 1])."""
    mean, std = _statistics(str(statistics))
    x = torch.as_tensor(x, dtype=torch.float32)
    if mean is not None:
        x = x - mean
    if std is not None:
        x = x / std
    return x


if __name__ == "__main__":
    model = load_model()
    example = torch.zeros(1, *INPUT_SHAPE)
    print(model)
    print("outputs for an all-zero input:", model(preprocess(example)))
'''

register(ExportFormat(
    "python", "Python (model.py + train.py)",
    "A folder with a readable model.py that defines the network in plain PyTorch and loads the weights, "
    "the preprocessing statistics, and a train.py that trains it again without Training Studio.",
    "python", _write_python, _load_python, folder=True,
))
