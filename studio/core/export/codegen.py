"""The ``python`` export: a standalone, readable ``model.py`` (plus weights, preprocessing and ``train.py``).

Each module of the built network is printed as its constructor call. Modules from ``torch.nn``
use their own ``extra_repr()``, which PyTorch writes as constructor arguments
(``in_features=64, out_features=128, bias=True``); the export is verified by executing the
generated file, so a module whose ``extra_repr`` is not a faithful constructor cannot slip
through. Studio-specific modules (the straight-through ``Sign``) are emitted as small classes, and so
are blocks: ``Residual``, ``Parallel`` and ``Repeat`` are written into model.py as the very classes the
studio trains with (their source), and each block's rows are nested inside its constructor call, labelled
with their stack paths, so a reader sees ``Residual(nn.Conv2d(...), nn.BatchNorm2d(...), ...)``.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from studio.core import backbone_net
from studio.core.blocks import Parallel, Repeat, Residual
from studio.core.export.formats import ExportFormat, register
from studio.core.export.source import ExportSource
from studio.core.export.traincode import write_training
from studio.core.export.verify import ExportError, Runner
from studio.core.export.weights import cpu_state
from studio.core.init import layer_init
from studio.core.inspect.readout import is_sign_model
from studio.core.layers import LAYERS, Sign
from studio.core.project import LayerSpec
from studio.core.shapes import infer_shapes
from studio.core.units import model_units, unit_label

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


# The backbone's own source (plain torch + torchvision), so model.py needs no Training Studio.
BACKBONE_SOURCE = "\n\n".join(inspect.getsource(item) for item in backbone_net.EXPORTED)

CUSTOM_MODULES: dict[type[nn.Module], ModuleCode] = {
    Sign: ModuleCode(SIGN_SOURCE, lambda module: f"Sign({module.extra_repr()})"),
    backbone_net.Backbone: ModuleCode(BACKBONE_SOURCE, lambda module: f"Backbone({module.extra_repr()})"),
}


@dataclass(frozen=True)
class BlockCode:
    """How a block's constructor call is written: keyword arguments after its rows, and whether each copy of
    its rows is wrapped in an ``nn.Sequential`` (a Repeat's copies).
    """

    keywords: Callable[[nn.Module], list[str]]
    wrap_copies: bool = False


def _shortcut(module: nn.Module) -> list[str]:
    shortcut = module.get_submodule("shortcut")
    return [] if isinstance(shortcut, nn.Identity) else [f"shortcut={constructor(shortcut)}"]


BLOCKS: dict[type[nn.Module], BlockCode] = {
    Residual: BlockCode(_shortcut),
    Parallel: BlockCode(lambda module: [f"join={module.join!r}"]),
    Repeat: BlockCode(lambda module: [], wrap_copies=True),
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


def typed_values(source: ExportSource) -> dict[str, dict[str, list[Any]]]:
    """Rows whose starting weights were typed in (init ``values``): module name (``"0"``, ``"2.body.1"``) ->
    {"weight": ..., "bias": ...}; a typed row inside a Repeat is typed in every copy.
    """
    spec = source.project.model
    names = {id(module): name for name, module in source.model.named_modules()}
    typed = {}
    for unit in model_units(source.model, spec.layers):
        scheme, params = layer_init(spec, unit.path)
        if scheme.layer_only:
            values = {name: params[name] for name in ("weight", "bias") if params.get(name) is not None}
            typed[names[id(unit.module)]] = values
    return typed


def _build_source(source: ExportSource, rows: list[str]) -> str:
    """``build_model()``: the modules, then the typed starting values when rows have them."""
    typed = typed_values(source)
    if not typed:
        return _BUILD.format(rows="\n".join(rows))
    return _TYPED_BUILD.format(rows="\n".join(rows), typed=json.dumps(typed))


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


def row_lines(module: nn.Module, spec: LayerSpec, path: tuple[int, ...], copies: tuple[int, ...],
              depth: int) -> list[str]:
    """The constructor of one row, indented ``depth`` levels, with its label; a block's rows nested inside."""
    pad, label = "    " * depth, unit_label(spec, path, copies)
    block = BLOCKS.get(type(module))
    if block is None:
        return [f"{pad}{constructor(module)},  # {label}"]
    lines = [f"{pad}{type(module).__name__}(  # {label}"]
    rule = LAYERS.get(spec.type).block
    assert rule is not None
    for number, rows in enumerate(rule.rows(module)):
        inner = depth + 1
        if block.wrap_copies:
            lines.append(f"{pad}    nn.Sequential(  # copy {number + 1}")
            inner += 1
        for j, (child, child_spec) in enumerate(zip(rows, spec.layers, strict=True)):
            lines += row_lines(child, child_spec, (*path, j), (*copies, number), inner)
        if block.wrap_copies:
            lines.append(f"{pad}    ),")
    return [*lines, *(f"{pad}    {keyword}," for keyword in block.keywords(module)), f"{pad}),"]


def _helpers(model: nn.Module) -> list[str]:
    """The classes model.py defines: the studio's own layers and blocks that the network uses."""
    kinds = list(dict.fromkeys(type(m) for m in model.modules()))
    return ([CUSTOM_MODULES[kind].source for kind in kinds if kind in CUSTOM_MODULES]
            + [inspect.getsource(kind) for kind in BLOCKS if kind in kinds])


def model_source(source: ExportSource) -> str:
    """The text of ``model.py``."""
    helpers = _helpers(source.model)
    rows = [line for i, (module, spec) in enumerate(zip(source.model, source.project.model.layers, strict=True))
            for line in row_lines(module, spec, (i,), (), 2)]
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

_TYPED_BUILD = '''# Starting values typed into Training Studio (init "values") by module; other rows start as nn does.
TYPED_VALUES = {typed}


def build_model() -> nn.Sequential:
    """The network, one module per row of the Training Studio layer stack (untrained weights, typed rows typed)."""
    model = nn.Sequential(
{rows}
    )
    with torch.no_grad():
        for row, values in TYPED_VALUES.items():
            for name, value in values.items():
                getattr(model.get_submodule(row), name).copy_(torch.tensor(value))
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
