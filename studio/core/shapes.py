"""Checking a layer stack before running it: output shape and parameter count of every row, or the first
row that cannot work with a message a learner understands.

The common mistakes get hand-written explanations (pre-checks); everything else runs the real modules
on the ``meta`` device (no memory, no compute), so shapes never drift from what torch actually does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from studio.core.blocks import BRANCHES, BlockRule
from studio.core.errors import ConfigError, ShapeError
from studio.core.init import RowInit, check_values, row_inits
from studio.core.layers import LayerType, resolve_layer, row_label, row_name
from studio.core.project import LayerSpec, ModelSpec
from studio.core.tree import Path, iter_rows

Shape = tuple[int, ...]

# BatchNorm refuses a batch of one in training mode, so shapes are probed with two samples.
_PROBE_BATCH = 2
# ShapeError.index for problems of the whole network rather than one row (empty stack, nothing to train).
NETWORK = -1


@dataclass(frozen=True)
class LayerInfo:
    """One row of the report. ``params`` counts all parameters; ``trainable`` those that will learn (0 if frozen).

    ``path`` addresses the row (``(3, 1)``: row 2 inside block 4; see ``studio.core.tree``) and ``index`` is
    its top-level row (``path[0]``). A block's ``params``/``trainable`` are totals: its own layer (a
    projection) plus every row inside, every copy of a Repeat; ``children`` are its rows' infos (a Repeat's
    first copy; the block's output is its last copy's) and ``copies`` how many times they run.
    """

    index: int
    type: str
    label: str
    in_shape: Shape
    out_shape: Shape
    params: int
    trainable: int
    path: Path = ()
    children: tuple[LayerInfo, ...] = ()
    copies: int = 1

    def __post_init__(self) -> None:
        if not self.path:
            object.__setattr__(self, "path", (self.index,))


@dataclass(frozen=True)
class ShapeReport:
    """Top-level rows up to the first problem, the problem (None when the network works) and the parameter total."""

    rows: list[LayerInfo]
    error: ShapeError | None
    total_params: int

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def trainable_params(self) -> int:
        return sum(row.trainable for row in self.rows)

    def all_rows(self) -> Iterator[LayerInfo]:
        """Every row, depth first (a block before its rows)."""
        stack = list(reversed(self.rows))
        while stack:
            info = stack.pop()
            yield info
            stack.extend(reversed(info.children))

    def row(self, path: Sequence[int]) -> LayerInfo | None:
        """The info of the row at ``path``, or None when the check stopped before it."""
        return next((info for info in self.all_rows() if info.path == tuple(path)), None)


@dataclass(frozen=True)
class PlannedRow:
    """A checked row ready to build: its info, type and resolved settings; a block also has its checked rows,
    one tuple per copy (one copy unless it is a Repeat; a Parallel's copy holds its branches).
    """

    info: LayerInfo
    layer_type: LayerType
    params: dict[str, Any]
    copies: tuple[tuple[PlannedRow, ...], ...] = ()


def format_shape(shape: Sequence[int]) -> str:
    """``"16×5×5 = 400"`` for several dimensions, ``"64"`` for a flat vector."""
    text = "×".join(str(d) for d in shape)
    return f"{text} = {_numel(shape)}" if len(shape) > 1 else text


def _numel(shape: Sequence[int]) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def _values(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


def _expect_flat(name: str, shape: Shape) -> str | None:
    if len(shape) == 1:
        return None
    return f"{name} expects a flat vector of features but receives {format_shape(shape)} values; add Flatten before it"


def _expect_image(name: str, shape: Shape) -> str | None:
    if len(shape) == 3:
        return None
    received = f"a flat vector of {_values(shape[0])}" if len(shape) == 1 else f"{format_shape(shape)} values"
    return (f"{name} expects an image (channels×height×width) but receives {received}; image layers must come "
            "before Flatten, and the data must be images")


# Input kind (LayerType.expects) -> check returning the problem in words, or None.
_EXPECTATIONS: dict[str, Callable[[str, Shape], str | None]] = {
    "any": lambda name, shape: None,
    "flat": _expect_flat,
    "image": _expect_image,
}


def _problem(layer_type: LayerType, params: dict[str, Any], in_shape: Shape) -> str | None:
    """The hand-written explanation of why this layer cannot take ``in_shape``, if it is a known case."""
    problem = _EXPECTATIONS[layer_type.expects](layer_type.name, in_shape)
    if problem is None and layer_type.check is not None:
        problem = layer_type.check(params, in_shape)
    return problem


def _measure(layer_type: LayerType, params: dict[str, Any], in_shape: Shape) -> tuple[Shape, int, int]:
    """Build the real module on ``meta`` and run a fake batch: (output shape, parameters, trainable ones)."""
    assert layer_type.make is not None
    with torch.device("meta"):
        module = layer_type.make(params, in_shape)
    with torch.no_grad():
        out = module(torch.empty((_PROBE_BATCH, *in_shape), device="meta"))
    count = sum(p.numel() for p in module.parameters())
    return tuple(out.shape[1:]), count, sum(p.numel() for p in module.parameters() if p.requires_grad)


@functools.lru_cache(maxsize=4096)
def _measure_cached(layer_type: LayerType, key: tuple[tuple[str, Any], ...],
                    in_shape: Shape) -> tuple[Shape, int, int]:
    # Stacks repeat the same rows (blocks, copies) and the editor re-checks after every keystroke: measuring a
    # (type, settings, input) once keeps a 100-block check within a frame (benchmarks/shape_check.py).
    return _measure(layer_type, dict(key), in_shape)


def _probe(layer_type: LayerType, params: dict[str, Any], in_shape: Shape, where: Callable[[], str],
           path: Path) -> tuple[Shape, int, int]:
    """(output shape, parameters, trainable ones) of the row, measured on ``meta``; torch complaints: ShapeError."""
    key: tuple[tuple[str, Any], ...] | None = tuple(sorted(params.items()))
    try:
        hash(key)
    except TypeError:
        key = None
    try:
        return _measure_cached(layer_type, key, in_shape) if key is not None else _measure(layer_type, params, in_shape)
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ShapeError(f"{where()}: cannot take an input of {format_shape(in_shape)} values ({reason})",
                         path[0], layer_type.name, path) from None


@functools.lru_cache(maxsize=1024)
def _own_cached(rule: BlockRule, key: tuple[tuple[str, Any], ...], in_shape: Shape, out_shape: Shape) -> int:
    with torch.device("meta"):
        own = rule.own(dict(key), in_shape, out_shape)
    return 0 if own is None else sum(p.numel() for p in own.parameters())


def _own_params(rule: BlockRule, params: dict[str, Any], in_shape: Shape, out_shape: Shape) -> int:
    """Parameters of a block's own layer (its projection), counted on ``meta`` (once per kind of block)."""
    return _own_cached(rule, tuple(sorted(params.items())), in_shape, out_shape)


def _check_input_shape(input_shape: Sequence[int]) -> Shape:
    shape = tuple(int(d) for d in input_shape)
    if not shape or any(d < 1 for d in shape):
        raise ShapeError(f"the data has an unusable sample shape {shape}; choose another dataset", NETWORK, "")
    return shape


def _plan(spec: LayerSpec, path: Path, shape: Shape, frozen: bool, copy: int) -> PlannedRow:
    """Check one row (a block with all its rows) for input ``shape``; raise ShapeError naming the row."""
    layer_type, params = resolve_layer(spec, path)
    frozen = frozen or bool(spec.frozen)
    if layer_type.block is not None:
        return _plan_block(spec, path, layer_type, params, shape, frozen, copy)
    def where() -> str:  # worded only for a message
        return row_name(path, spec.type, copy)

    problem = _problem(layer_type, params, shape)
    if problem is not None:
        raise ShapeError(f"{where()}: {problem}", path[0], spec.type, path)
    out_shape, count, trainable = _probe(layer_type, params, shape, where, path)
    if _numel(out_shape) == 0:
        raise ShapeError(f"{where()}: produces an empty output from {format_shape(shape)} values; "
                         "the input is too small for this layer", path[0], spec.type, path)
    label = row_label(path, spec, layer_type, params)
    info = LayerInfo(path[0], spec.type, label, shape, out_shape, count, 0 if frozen else trainable, path)
    return PlannedRow(info, layer_type, params)


def _plan_block(spec: LayerSpec, path: Path, layer_type: LayerType, params: dict[str, Any], shape: Shape,
                frozen: bool, copy: int) -> PlannedRow:
    rule = layer_type.block
    assert rule is not None
    if not spec.layers:
        raise ShapeError(f"{row_name(path, spec.type, copy)} has no rows; put rows into it, or remove it", path[0],
                         spec.type, path)
    copies: list[tuple[PlannedRow, ...]] = []
    if rule.layout == BRANCHES:
        branches = tuple(_plan(child, (*path, j), shape, frozen, copy) for j, child in enumerate(spec.layers))
        copies.append(branches)
        outs = [branch.info.out_shape for branch in branches]
    else:
        current = shape
        for number in range(rule.copies(params)):
            rows = []
            for j, child in enumerate(spec.layers):
                rows.append(_plan(child, (*path, j), current, frozen, number or copy))
                current = rows[-1].info.out_shape
            copies.append(tuple(rows))
        outs = [current]
    out_shape = rule.finish(params, shape, outs)
    if isinstance(out_shape, str):
        raise ShapeError(f"{row_name(path, spec.type, copy)}: {out_shape}", path[0], spec.type, path)
    own = _own_params(rule, params, shape, out_shape)
    inside = [row.info for rows in copies for row in rows]
    info = LayerInfo(path[0], spec.type, row_label(path, spec, layer_type, params), shape, out_shape,
                     own + sum(i.params for i in inside), (0 if frozen else own) + sum(i.trainable for i in inside),
                     path, tuple(row.info for row in copies[0]), len(copies))
    return PlannedRow(info, layer_type, params, tuple(copies))


def walk(layers: Sequence[LayerSpec], input_shape: Sequence[int]) -> Iterator[PlannedRow]:
    """Yield each top-level row checked and planned (a block with its rows); raise :class:`ShapeError` at the
    first bad row, wherever it sits (its ``path`` says where).
    """
    if not layers:
        raise ShapeError("The network has no layers; add at least one layer, for example Linear", NETWORK, "")
    shape = _check_input_shape(input_shape)
    for index, spec in enumerate(layers):
        row = _plan(spec, (index,), shape, False, 0)
        yield row
        shape = row.info.out_shape


def infer_shapes(layers: Sequence[LayerSpec], input_shape: Sequence[int]) -> list[LayerInfo]:
    """Every row's input and output shape and parameter count; raises :class:`ShapeError` for the first bad row."""
    return [row.info for row in walk(layers, input_shape)]


def _output_problem(layers: Sequence[LayerSpec], rows: list[LayerInfo], n_outputs: int, target: str) -> ShapeError:
    """Explain why the network's output does not fit the ``n_outputs`` the data and loss need."""
    last = rows[-1]
    out = last.out_shape
    if len(out) != 1:
        return ShapeError(
            f"{row_name(last.index, last.type)}: the network ends with {format_shape(out)} values per sample "
            f"but {target}; add Flatten and a Linear with out_features {n_outputs} at the end", last.index, last.type)
    linear = [path for path, spec in iter_rows(layers) if spec.type == "Linear"]
    if not linear:
        return ShapeError(
            f"{row_name(last.index, last.type)}: the last layer outputs {_values(out[0])} but {target}; "
            f"add a Linear with out_features {n_outputs} at the end", last.index, last.type)
    path = linear[-1]
    return ShapeError(
        f"{row_name(path, 'Linear')}: the last layer outputs {_values(out[0])} but {target}; "
        f"set out_features of the last Linear to {n_outputs}", path[0], "Linear", path)


def parameter_shapes(layer: LayerSpec, where: int | Path, in_shape: Sequence[int]) -> dict[str, Shape]:
    """The shape of each of the row's own parameters (``weight``, ``bias``) for ``in_shape``: what typed
    starting values must match (none for a block). Built on ``meta``; a bad setting raises
    :class:`LayerSettingError`. ``where`` is the row's index or path."""
    layer_type, params = resolve_layer(layer, where)
    if layer_type.make is None:
        return {}
    with torch.device("meta"):
        module = layer_type.make(params, tuple(in_shape))
    return {name: tuple(p.shape) for name, p in module.named_parameters(recurse=False)}


def _check_typed_values(model: ModelSpec, walked: Sequence[PlannedRow], inits: dict[Path, RowInit]) -> None:
    """Typed starting values must have the shape of their row's weights (built on ``meta`` to know it),
    inside blocks too (each copy of a Repeat has the same shapes as the first only if its input does).
    """
    for row in walked:
        if row.layer_type.make is None:
            _check_typed_values(model, [child for rows in row.copies for child in rows], inits)
        elif inits[row.info.path].scheme.layer_only:
            with torch.device("meta"):
                module = row.layer_type.make(row.params, row.info.in_shape)
            check_values(model, row.info.path, module)


def check_model(model: ModelSpec, input_shape: Sequence[int], n_outputs: int | None,
                target: str | None = None) -> ShapeReport:
    """Check a whole network for the GUI and the CLI; never raises for user problems (they become ``error``).

    ``n_outputs`` is how many values the data and loss need per sample (None: do not check).
    ``target`` says why in words, e.g. ``"digits has 10 classes"``; by default "the data and loss need N".
    """
    rows: list[LayerInfo] = []
    error: ShapeError | None = None
    try:
        walked = []
        for row in walk(model.layers, input_shape):
            rows.append(row.info)
            walked.append(row)
        _check_typed_values(model, walked, row_inits(model))
    except ShapeError as exc:
        error = exc
    except ConfigError as exc:
        error = ShapeError(f"Weight initialisation: {exc}", NETWORK, "")
    if error is None and n_outputs is not None and rows[-1].out_shape != (n_outputs,):
        error = _output_problem(model.layers, rows, n_outputs, target or f"the data and loss need {n_outputs}")
    if error is None and sum(r.trainable for r in rows) == 0:
        error = ShapeError("The network has nothing to learn: no layer has weights, or all of them are frozen; "
                           "add a Linear layer or unfreeze one", NETWORK, "")
    return ShapeReport(rows, error, sum(r.params for r in rows))


# Layer types that normalise over the batch in training: each channel needs more than one value.
BATCH_STATISTICS = ("BatchNorm1d", "BatchNorm2d")


def check_batch_statistics(layers: Sequence[LayerSpec], input_shape: Sequence[int], batch_size: int,
                           n_train: int) -> None:
    """Refuse a batch-norm row that would see a batch of one value per channel (torch raises deep inside).

    The smallest batch of an epoch is the last one: ``n_train`` modulo the batch size, when not zero.
    """
    sizes = [min(batch_size, n_train)] + ([n_train % batch_size] if n_train % batch_size else [])
    smallest = min(sizes)
    for info in infer_shapes(layers, input_shape):
        if info.type in BATCH_STATISTICS and smallest * _numel(info.in_shape[1:]) == 1:
            last = "" if smallest == min(batch_size, n_train) else (
                f"; with {n_train} training samples the last batch holds {smallest}")
            raise ConfigError(f"{row_name(info.index, info.type)} normalises each feature over the batch and needs"
                              f" at least 2 samples in every batch{last}: choose another batch size (or drop the"
                              f" {info.type})", field="batch_size")
