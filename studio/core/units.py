"""A built model row by row, blocks included: the one walk that statistics, optimizer groups, freezing,
initialisation, inspection and fine-tuning share.

A :class:`Unit` is one row of the stack in a built model: a top-level row, a row inside a block, or a row
of one copy of a Repeat (each copy has its own weights, so each is a unit of its own). Units come depth
first, a block before its rows. Each parameter belongs to exactly one unit: a plain row owns all of its
parameters, a block only its own layer's (a Residual's projection), so per-row gradient norms and
learning rates never count a weight twice. A model that was not built from the stack (a foreign module)
gets one unit per top-level child, named by its class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from studio.core.layers import LAYERS, describe_layer
from studio.core.project import LayerSpec
from studio.core.tree import Path


@dataclass(frozen=True)
class Unit:
    """One row of a built model.

    ``path`` addresses the row in the stack (``studio.core.tree``); ``copies`` gives, for each step of the
    path but the last, which copy of a Repeat the row sits in (0 elsewhere). ``label`` is what plots show:
    ``"3.2 Linear 64"``, ``"4[2].1 Linear 64"`` for row 1 of copy 2 of the Repeat in row 4. ``own`` are the
    parameters that belong to this row alone. ``spec`` is None for a foreign model's child.
    """

    path: Path
    copies: tuple[int, ...]
    label: str
    type: str
    spec: LayerSpec | None
    module: nn.Module
    own: tuple[nn.Parameter, ...]

    @property
    def depth(self) -> int:
        return len(self.path) - 1


def unit_label(spec: LayerSpec, path: Sequence[int], copies: Sequence[int] = ()) -> str:
    """``"3.2 Linear 64"``; a step inside a Repeat's later copy shows it: ``"4[2].1 Linear 64"``."""
    steps = [str(step + 1) + (f"[{copies[i] + 1}]" if i < len(copies) and copies[i] else "")
             for i, step in enumerate(path)]
    return " ".join(part for part in (".".join(steps), spec.type, describe_layer(spec)) if part)


def model_units(model: nn.Module, layers: Sequence[LayerSpec]) -> list[Unit]:
    """Every row of ``model`` (built from ``layers`` by ``build_model``), depth first; see :class:`Unit`."""
    children = list(model.children())
    if isinstance(model, nn.Sequential) and len(children) == len(layers):
        units: list[Unit] = []
        try:
            for index, (module, spec) in enumerate(zip(children, layers, strict=True)):
                _collect(units, module, spec, (index,), ())
            return units
        except _Mismatch:
            pass
    return [Unit((i,), (), f"{i + 1} {type(child).__name__}", type(child).__name__, None, child,
                 tuple(child.parameters())) for i, child in enumerate(children or [model])]


class _Mismatch(Exception):
    """The model's structure does not follow the stack (a foreign model with as many children)."""


def _block_rows(module: nn.Module, spec: LayerSpec) -> list[list[nn.Module]]:
    """The modules of a block's rows, one list per copy; raises _Mismatch when ``module`` is not that block."""
    layer_type = LAYERS.get(spec.type) if isinstance(spec.type, str) and spec.type in LAYERS else None
    if layer_type is None or layer_type.block is None:
        return []
    try:
        copies = layer_type.block.rows(module)
    except (AttributeError, TypeError):
        raise _Mismatch from None
    if any(len(rows) != len(spec.layers) for rows in copies):
        raise _Mismatch
    return copies


def _collect(units: list[Unit], module: nn.Module, spec: LayerSpec, path: Path, copies: tuple[int, ...]) -> None:
    rows = _block_rows(module, spec)
    inner = {id(p) for modules in rows for m in modules for p in m.parameters()}
    own = tuple(p for p in module.parameters() if id(p) not in inner)
    units.append(Unit(path, copies, unit_label(spec, path, copies), spec.type, spec, module, own))
    for number, modules in enumerate(rows):
        for j, (child, child_spec) in enumerate(zip(modules, spec.layers, strict=True)):
            _collect(units, child, child_spec, (*path, j), (*copies, number))


def effective(units: Sequence[Unit], layers: Sequence[LayerSpec]) -> list[tuple[bool, float]]:
    """(frozen, learning-rate multiplier) of each unit: frozen when it or a block around it is frozen, and its
    multiplier times those of the blocks around it.
    """
    out = []
    for unit in units:
        frozen, mult, rows = False, 1.0, layers
        for step in unit.path if unit.spec is not None else ():
            spec = rows[step]
            frozen, mult, rows = frozen or bool(spec.frozen), mult * spec.lr_mult, spec.layers
        out.append((frozen, mult))
    return out


def module_labels(model: nn.Module, units: Sequence[Unit]) -> dict[str, str]:
    """Each unit's module name in ``model`` (``"2.body.0"``) and its label (``"3.1 Linear 64"``): how weights
    found by name (a state dict, a fine-tuning report) are shown to people.
    """
    names = {id(module): name for name, module in model.named_modules()}
    return {names[id(unit.module)]: unit.label for unit in units if id(unit.module) in names}
