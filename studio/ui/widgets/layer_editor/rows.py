"""What the stack shows, computed from the spec and the core's shape check (no Qt here).

``analyse`` turns a :class:`ModelSpec` plus the data's input shape into one :class:`RowView` per
layer (type, key parameters, output shape, parameter count, badges, error) and the verdict that
enables or disables Train. It runs ``check_model``, which builds modules on the ``meta`` device
only (no real tensors, no kernels), so it is safe and fast enough to call in the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from studio.core.errors import ShapeError
from studio.core.init import INITS
from studio.core.layers import LayerSettingError, describe_layer, resolve_layer
from studio.core.memory import TrainingPlan, check_plan
from studio.core.project import LayerSpec, ModelSpec
from studio.core.shapes import LayerInfo, check_model, format_shape

NO_DATA_REASON = "Choose a dataset so the network's shapes can be checked."


@dataclass(frozen=True)
class RowView:
    """One stack row as text. ``error`` is set on the first offending row; rows after it are unchecked."""

    number: int
    type: str
    summary: str
    badges: tuple[str, ...]
    output: str
    shape_tip: str
    params: int | None
    error: str = ""
    unchecked: bool = False


@dataclass(frozen=True)
class StackState:
    """Rows plus the verdict: ``ok`` and ``reason`` drive the Train button; ``error_row`` is -1 for none."""

    rows: list[RowView]
    ok: bool
    reason: str
    error_row: int
    error_field: str | None
    total_params: int
    trainable_params: int
    in_shapes: tuple[tuple[int, ...] | None, ...] = ()  # each row's input shape, where it was checked


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
    infos = {info.index: info for info in report.rows}
    error: ShapeError | None = report.error
    if error is None and plan is not None:
        error = check_plan(spec, input_shape, plan)
    error_row = error.index if error is not None else -1
    rows = [_row(spec.layers[i], i, infos.get(i), error) for i in range(len(spec.layers))]
    return StackState(
        rows=rows,
        ok=error is None,
        reason=str(error) if error is not None else "",
        error_row=error_row,
        error_field=getattr(error, "field", None),
        total_params=report.total_params,
        trainable_params=report.trainable_params,
        in_shapes=tuple(infos[i].in_shape if i in infos else None for i in range(len(spec.layers))),
    )


def _without_data(spec: ModelSpec) -> StackState:
    """Settings-only check: the first row whose parameters are invalid, else "choose a dataset"."""
    error: ShapeError | None = None
    for index, layer in enumerate(spec.layers):
        try:
            resolve_layer(layer, index)
        except LayerSettingError as exc:
            error = exc
            break
    rows = [_row(layer, i, None, error) for i, layer in enumerate(spec.layers)]
    reason = str(error) if error is not None else NO_DATA_REASON
    index = error.index if error is not None else -1
    return StackState(rows, False, reason, index, getattr(error, "field", None), 0, 0)


def _row(layer: LayerSpec, index: int, info: LayerInfo | None, error: ShapeError | None) -> RowView:
    mine = error is not None and error.index == index
    output = format_shape(info.out_shape).split(" = ")[0] if info is not None else ("—" if mine else "")
    tip = f"{format_shape(info.in_shape)} → {format_shape(info.out_shape)}" if info is not None else ""
    return RowView(
        number=index + 1,
        type=layer.type,
        summary=describe_layer(layer),
        badges=badges(layer),
        output=output,
        shape_tip=tip,
        params=info.params if info is not None else None,
        error=str(error) if mine else "",
        unchecked=info is None and not mine and error is not None,
    )


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
