"""Checking a layer stack before running it: output shape and parameter count of every row, or the first
row that cannot work with a message a learner understands.

The common mistakes get hand-written explanations (pre-checks); everything else runs the real modules
on the ``meta`` device (no memory, no compute), so shapes never drift from what torch actually does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from studio.core.errors import ConfigError, ShapeError
from studio.core.init import check_init, check_values, layer_init
from studio.core.layers import LayerType, layer_label, resolve_layer, row_name
from studio.core.project import LayerSpec, ModelSpec

Shape = tuple[int, ...]

# BatchNorm refuses a batch of one in training mode, so shapes are probed with two samples.
_PROBE_BATCH = 2
# ShapeError.index for problems of the whole network rather than one row (empty stack, nothing to train).
NETWORK = -1


@dataclass(frozen=True)
class LayerInfo:
    """One row of the report. ``params`` counts all parameters; ``trainable`` those that will learn (0 if frozen)."""

    index: int
    type: str
    label: str
    in_shape: Shape
    out_shape: Shape
    params: int
    trainable: int


@dataclass(frozen=True)
class ShapeReport:
    """Rows up to the first problem, the problem (None when the network works) and the parameter total."""

    rows: list[LayerInfo]
    error: ShapeError | None
    total_params: int

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def trainable_params(self) -> int:
        return sum(row.trainable for row in self.rows)


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


def _probe(layer_type: LayerType, params: dict[str, Any], in_shape: Shape, where: str) -> tuple[Shape, int]:
    """Build the real module on ``meta`` and run a fake batch: (output shape, parameter count)."""
    try:
        with torch.device("meta"):
            module = layer_type.make(params, in_shape)
        with torch.no_grad():
            out = module(torch.empty((_PROBE_BATCH, *in_shape), device="meta"))
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ShapeError(f"{where}: cannot take an input of {format_shape(in_shape)} values ({reason})",
                         -1, layer_type.name) from None
    return tuple(out.shape[1:]), sum(p.numel() for p in module.parameters())


def _check_input_shape(input_shape: Sequence[int]) -> Shape:
    shape = tuple(int(d) for d in input_shape)
    if not shape or any(d < 1 for d in shape):
        raise ShapeError(f"the data has an unusable sample shape {shape}; choose another dataset", NETWORK, "")
    return shape


def walk(layers: Sequence[LayerSpec], input_shape: Sequence[int]) -> Iterator[tuple[LayerInfo, LayerType, dict]]:
    """Yield each row's info, type and resolved parameters; raise :class:`ShapeError` at the first bad row."""
    if not layers:
        raise ShapeError("The network has no layers; add at least one layer, for example Linear", NETWORK, "")
    shape = _check_input_shape(input_shape)
    for index, spec in enumerate(layers):
        layer_type, params = resolve_layer(spec, index)
        where = row_name(index, spec.type)
        problem = _problem(layer_type, params, shape)
        if problem is not None:
            raise ShapeError(f"{where}: {problem}", index, spec.type)
        try:
            out_shape, count = _probe(layer_type, params, shape, where)
        except ShapeError as exc:
            raise ShapeError(str(exc), index, spec.type) from None
        if _numel(out_shape) == 0:
            raise ShapeError(f"{where}: produces an empty output from {format_shape(shape)} values; "
                             "the input is too small for this layer", index, spec.type)
        info = LayerInfo(index, spec.type, layer_label(spec, index), shape, out_shape, count,
                         0 if spec.frozen else count)
        yield info, layer_type, params
        shape = out_shape


def infer_shapes(layers: Sequence[LayerSpec], input_shape: Sequence[int]) -> list[LayerInfo]:
    """Every row's input and output shape and parameter count; raises :class:`ShapeError` for the first bad row."""
    return [info for info, _, _ in walk(layers, input_shape)]


def _output_problem(layers: Sequence[LayerSpec], rows: list[LayerInfo], n_outputs: int, target: str) -> ShapeError:
    """Explain why the network's output does not fit the ``n_outputs`` the data and loss need."""
    last = rows[-1]
    out = last.out_shape
    if len(out) != 1:
        return ShapeError(
            f"{row_name(last.index, last.type)}: the network ends with {format_shape(out)} values per sample "
            f"but {target}; add Flatten and a Linear with out_features {n_outputs} at the end", last.index, last.type)
    linear = [i for i, spec in enumerate(layers) if spec.type == "Linear"]
    if not linear:
        return ShapeError(
            f"{row_name(last.index, last.type)}: the last layer outputs {_values(out[0])} but {target}; "
            f"add a Linear with out_features {n_outputs} at the end", last.index, last.type)
    index = linear[-1]
    return ShapeError(
        f"{row_name(index, 'Linear')}: the last layer outputs {_values(out[0])} but {target}; "
        f"set out_features of the last Linear to {n_outputs}", index, "Linear")


def parameter_shapes(layer: LayerSpec, index: int, in_shape: Sequence[int]) -> dict[str, Shape]:
    """The shape of each of row ``index``'s own parameters (``weight``, ``bias``) for ``in_shape``: what typed
    starting values must match. Built on ``meta``; a bad setting raises :class:`LayerSettingError`."""
    layer_type, params = resolve_layer(layer, index)
    with torch.device("meta"):
        module = layer_type.make(params, tuple(in_shape))
    return {name: tuple(p.shape) for name, p in module.named_parameters(recurse=False)}


def _check_typed_values(model: ModelSpec, walked: list[tuple[LayerInfo, LayerType, dict]]) -> None:
    """Typed starting values must have the shape of their row's weights (built on ``meta`` to know it)."""
    for info, layer_type, params in walked:
        if layer_init(model, info.index)[0].layer_only:
            with torch.device("meta"):
                module = layer_type.make(params, info.in_shape)
            check_values(model, info.index, module)


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
            rows.append(row[0])
            walked.append(row)
        check_init(model)
        _check_typed_values(model, walked)
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
