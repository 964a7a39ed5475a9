"""What the stack shows, computed from the spec and the core's shape check (no Qt here).

``analyse`` turns a :class:`ModelSpec` plus the data's input shape into a tree of :class:`RowView`s (type,
key parameters, output shape, parameter count, badges, error; a block's rows below it) and the verdict
that enables or disables Train. It runs ``check_model``, which builds modules on the ``meta`` device only
(no real tensors, no kernels), so it is safe and fast enough to call in the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from studio.core.blocks import BRANCHES
from studio.core.errors import ShapeError
from studio.core.init import INITS
from studio.core.layers import LAYERS, LayerSettingError, describe_layer, resolve_layer
from studio.core.memory import TrainingPlan, check_plan
from studio.core.project import LayerSpec, ModelSpec
from studio.core.shapes import LayerInfo, check_model, format_shape, infer_shapes
from studio.core.tree import Path, is_block, iter_rows, path_text

Shape = tuple[int, ...]
NO_DATA_REASON = "Choose a dataset so the network's shapes can be checked."


@dataclass(frozen=True)
class RowView:
    """One stack row as text; a block's rows are its ``children``. ``error`` is set on the offending row and
    ``inner_error`` on the blocks around it; rows the check did not reach are ``unchecked``. A block's
    ``params`` is the total of its rows (every copy) and its own projection."""

    path: Path
    type: str
    summary: str
    badges: tuple[str, ...]
    output: str
    shape_tip: str
    params: int | None
    error: str = ""
    unchecked: bool = False
    block: bool = False
    contents: str = ""  # a block's rows in words: "2 rows", "3 branches"
    inner_error: str = ""
    children: tuple[RowView, ...] = ()

    @property
    def number(self) -> str:
        """The row's number as people count: ``"4.2"`` for row 2 inside row 4."""
        return path_text(self.path)


@dataclass(frozen=True)
class StackState:
    """Rows plus the verdict: ``ok`` and ``reason`` drive the Train button; ``error_path`` is the offending
    row (None when the network is fine or its problem is not one row's)."""

    rows: list[RowView]
    ok: bool
    reason: str
    error_path: Path | None
    error_field: str | None
    total_params: int
    trainable_params: int
    in_shapes: Mapping[Path, tuple[int, ...]] = field(default_factory=dict)  # each checked row's input

    def all_rows(self) -> Iterator[RowView]:
        """Every row, depth first (a block before its rows)."""
        stack = list(reversed(self.rows))
        while stack:
            row = stack.pop()
            yield row
            stack.extend(reversed(row.children))


def analyse(
    spec: ModelSpec, input_shape: Sequence[int] | None, n_outputs: int | None, target: str | None = None,
    plan: TrainingPlan | None = None,
) -> StackState:
    """Check ``spec`` for data of ``input_shape``; without data only the layer settings are checked.

    With a training ``plan`` a network that works is also checked against the memory it would need
    (the memory guard): the row that needs the most is marked.
    """
    if input_shape is None:
        return _without_data(spec)
    report = check_model(spec, input_shape, n_outputs, target)
    infos = {info.path: info for info in report.all_rows()}
    error: ShapeError | None = report.error
    if error is None and plan is not None:
        error = check_plan(spec, input_shape, plan)
    if error is not None and error.path:
        infos.update(_passed_inside(spec, error.path, _input_of(report.rows, error.path, input_shape)))
    return StackState(
        rows=_views(spec.layers, (), infos, error),
        ok=error is None,
        reason=str(error) if error is not None else "",
        error_path=_error_path(error),
        error_field=getattr(error, "field", None),
        total_params=report.total_params,
        trainable_params=report.trainable_params,
        in_shapes={path: info.in_shape for path, info in infos.items()},
    )


def _without_data(spec: ModelSpec) -> StackState:
    """Settings-only check: the first row whose parameters are invalid, else "choose a dataset"."""
    error: ShapeError | None = None
    for path, layer in iter_rows(spec.layers):
        try:
            resolve_layer(layer, path)
        except LayerSettingError as exc:
            error = exc
            break
    reason = str(error) if error is not None else NO_DATA_REASON
    rows = _views(spec.layers, (), {}, error)
    return StackState(rows, False, reason, _error_path(error), getattr(error, "field", None), 0, 0, {})


def _input_of(rows: Sequence[LayerInfo], path: Path, input_shape: Sequence[int]) -> Shape:
    """The input of the top-level row that holds ``path`` (the check reports every top-level row before it)."""
    return rows[path[0] - 1].out_shape if path[0] > 0 else tuple(input_shape)


def _passed_inside(spec: ModelSpec, error_path: Path, shape: Shape) -> dict[Path, LayerInfo]:
    """The rows inside blocks that passed before the check stopped at ``error_path`` (the check keeps no
    infos for the blocks it did not finish): the rows above it in each block around it and, when the problem
    is a block's own (a shortcut or a join that does not fit), all of that block's rows, so a learner sees
    what each row makes of the input. Rows of a Repeat are shown for its first copy."""
    found: dict[Path, LayerInfo] = {}
    layers: Sequence[LayerSpec] = spec.layers
    for depth, step in enumerate(error_path):
        block = layers[step]
        rule = LAYERS.get(block.type).block if block.type in LAYERS else None
        if rule is None:
            break
        prefix = error_path[:depth + 1]
        inner = error_path[depth + 1] if depth + 1 < len(error_path) else len(block.layers)
        if rule.layout == BRANCHES:
            for j in range(inner):
                found.update(_checked(block.layers[j:j + 1], shape, prefix, j)[0])
        else:
            checked, shape = _checked(block.layers[:inner], shape, prefix, 0)
            found.update(checked)
        layers = block.layers
    return found


def _checked(layers: Sequence[LayerSpec], shape: Shape, parent: Path,
             start: int) -> tuple[dict[Path, LayerInfo], Shape]:
    """Infos of ``layers`` for input ``shape`` as rows ``start``, ``start + 1``... of the block at ``parent``, and
    their output (nothing, and the input, when they are none or fail)."""
    try:
        infos = infer_shapes(layers, shape) if layers else []
    except ShapeError:
        return {}, shape
    found: dict[Path, LayerInfo] = {}
    stack = list(infos)
    while stack:
        info = stack.pop()
        where: Path = (*parent, start + info.path[0], *info.path[1:])
        found[where] = info
        stack.extend(info.children)
    return found, infos[-1].out_shape if infos else shape


def _error_path(error: ShapeError | None) -> Path | None:
    return error.path if error is not None and error.path else None


def _views(layers: Sequence[LayerSpec], prefix: Path, infos: Mapping[Path, LayerInfo],
           error: ShapeError | None) -> list[RowView]:
    return [_row(layer, (*prefix, i), infos, error) for i, layer in enumerate(layers)]


def _row(layer: LayerSpec, path: Path, infos: Mapping[Path, LayerInfo], error: ShapeError | None) -> RowView:
    info = infos.get(path)
    where = _error_path(error) or ()
    mine = where == path
    inside = len(where) > len(path) and where[:len(path)] == path
    output = format_shape(info.out_shape).split(" = ")[0] if info is not None else ("—" if mine else "")
    tip = f"{format_shape(info.in_shape)} → {format_shape(info.out_shape)}" if info is not None else ""
    return RowView(
        path=path,
        type=layer.type,
        summary=describe_layer(layer),
        badges=badges(layer),
        output=output,
        shape_tip=tip,
        params=info.params if info is not None else None,
        error=str(error) if mine else "",
        unchecked=info is None and not mine and not inside and error is not None,
        block=is_block(layer),
        contents=_contents(layer),
        inner_error=str(error) if inside else "",
        children=tuple(_views(layer.layers, path, infos, error)),
    )


def _contents(layer: LayerSpec) -> str:
    """How many rows a block holds, in the words of its layout (a Parallel's rows are branches)."""
    if not is_block(layer):
        return ""
    rule = LAYERS.get(layer.type).block
    count = len(layer.layers)
    if rule is not None and rule.layout == BRANCHES:
        return "1 branch" if count == 1 else f"{count} branches"
    return "1 row" if count == 1 else f"{count} rows"


def badges(layer: LayerSpec) -> tuple[str, ...]:
    """Non-default per-layer settings worth seeing at a glance: frozen, learning-rate factor, own init."""
    marks: list[str] = []
    if layer.frozen:
        marks.append("frozen")
    if layer.lr_mult != 1.0:
        marks.append(f"lr ×{layer.lr_mult:g}")
    if layer.init is not None:
        marks.append(f"init: {INITS.get(layer.init).label if layer.init in INITS else layer.init}")
    return tuple(marks)
