"""Edits of a :class:`ModelSpec` tree, free of Qt: each one changes a spec in place and returns the rows to
select afterwards (paths, see ``studio.core.tree``).

:func:`edited` runs an edit on a copy and also tells where every surviving row went (``moved``: old path ->
new path), by following the rows' identities through the copy, so the editor can carry view state (which
blocks are folded) through any edit, its undo and its redo without a rule per kind of edit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from studio.core.layers import LAYERS
from studio.core.params import defaults
from studio.core.project import LayerSpec, ModelSpec
from studio.core.tree import Path, children, insert_row, is_block, iter_rows, row_at, unwrap_row, wrap_rows

Selection = tuple[Path, ...]
Change = Callable[[ModelSpec], Sequence[Path]]

# LayerSpec fields that the properties panel edits besides the type's own parameters.
LAYER_FIELDS = ("init", "init_params", "frozen", "lr_mult")
# ModelSpec fields that the network panel edits.
NETWORK_FIELDS = ("init", "init_params", "bias_init", "bias_init_params")


@dataclass(frozen=True)
class Edit:
    """The spec after an edit, the rows to select, and where each row of the spec before now is."""

    after: ModelSpec
    selection: Selection
    moved: dict[Path, Path]


def edited(spec: ModelSpec, change: Change) -> Edit:
    """Run ``change`` on a copy of ``spec``; ``spec`` itself is left alone."""
    memo: dict[int, Any] = {}  # deepcopy's own map from an original's id to its copy; it keeps both alive
    after = copy.deepcopy(spec, memo)
    origin = {id(memo[id(row)]): path for path, row in iter_rows(spec.layers)}
    selection = tuple(change(after))
    moved = {origin[id(row)]: path for path, row in iter_rows(after.layers) if id(row) in origin}
    return Edit(after, selection, moved)


def new_layer(type_name: str) -> LayerSpec:
    """A layer of ``type_name`` with every parameter at its default, written out for reproducibility."""
    return LayerSpec(type=type_name, params=defaults(LAYERS.get(type_name).params))


# -- selections -------------------------------------------------------------------------------------


def outermost(paths: Sequence[Path]) -> list[Path]:
    """``paths`` in order without those inside another one (deleting a block deletes its rows anyway)."""
    chosen = sorted(set(paths))
    return [p for p in chosen if not any(p[:len(q)] == q and p != q for q in chosen)]


def sibling_run(paths: Sequence[Path]) -> tuple[Path, int, int] | None:
    """``(parent, first, last)`` when ``paths`` are neighbouring rows of one list (what can be wrapped, moved
    or duplicated together), else None."""
    chosen = sorted(set(paths))
    if not chosen:
        return None
    parent = chosen[0][:-1]
    positions = [p[-1] for p in chosen]
    if any(p[:-1] != parent for p in chosen) or positions != list(range(positions[0], positions[-1] + 1)):
        return None
    return parent, positions[0], positions[-1]


def can_move(layers: Sequence[LayerSpec], paths: Sequence[Path], step: int) -> bool:
    """Whether the run at ``paths`` can move one place up (``step`` -1) or down (+1): past a sibling, or out
    of the block that holds it."""
    run = sibling_run(paths)
    if run is None:
        return False
    parent, first, last = run
    if parent:
        return True
    return first > 0 if step < 0 else last < len(layers) - 1


def insertion_point(layers: Sequence[LayerSpec], selection: Sequence[Path], open_block: bool) -> Path:
    """Where a new row goes: below the selected row, or at the end of the selected block when it is open
    (``open_block``), or at the end of the stack when nothing is selected."""
    if not selection:
        return (len(layers),)
    current = max(selection)
    spec = row_at(layers, current)
    if open_block and is_block(spec):
        return (*current, len(spec.layers))
    return (*current[:-1], current[-1] + 1)


# -- edits (in place; each returns the rows to select) ------------------------------------------------


def add_row(spec: ModelSpec, type_name: str, path: Path) -> Selection:
    """Insert a new ``type_name`` row at ``path`` (its position clamped to the list it goes into)."""
    siblings = children(spec.layers, path[:-1])
    path = (*path[:-1], min(max(path[-1], 0), len(siblings)))
    return (insert_row(spec.layers, path, new_layer(type_name)),)


def remove_rows(spec: ModelSpec, paths: Sequence[Path]) -> Selection:
    """Remove the rows (a block with its rows); select the row that took the first one's place, else the one
    above it, else the block that held it."""
    chosen = outermost(paths)
    for path in reversed(chosen):
        children(spec.layers, path[:-1]).pop(path[-1])
    first = chosen[0]
    siblings = children(spec.layers, first[:-1])
    if siblings:
        return ((*first[:-1], min(first[-1], len(siblings) - 1)),)
    return (first[:-1],) if first[:-1] else ()


def duplicate_rows(spec: ModelSpec, paths: Sequence[Path]) -> Selection:
    """Insert copies of a run of neighbouring rows right below it; the copies are selected."""
    run = sibling_run(paths)
    if run is None:
        raise ValueError("only neighbouring rows of one list can be duplicated together")
    parent, first, last = run
    siblings = children(spec.layers, parent)
    siblings[last + 1:last + 1] = copy.deepcopy(siblings[first:last + 1])
    return tuple((*parent, last + 1 + i) for i in range(last - first + 1))


def move_rows(spec: ModelSpec, paths: Sequence[Path], parent: Path, index: int) -> Selection:
    """Move the rows to the list of ``parent`` (``()``: the stack), before its row ``index`` (addressed before
    the move; past the end: at the end), keeping their order. A block cannot move into itself (ValueError)."""
    chosen = outermost(paths)
    if any(parent[:len(p)] == p for p in chosen):
        raise ValueError("a block cannot move into itself")
    host = row_at(spec.layers, parent) if parent else None
    target_list = host.layers if host is not None else spec.layers
    rows = [row_at(spec.layers, p) for p in chosen]
    anchor = next((row for row in target_list[index:] if not any(row is r for r in rows)), None)
    for path in reversed(chosen):
        children(spec.layers, path[:-1]).pop(path[-1])
    position = next((i for i, row in enumerate(target_list) if row is anchor), len(target_list))
    target_list[position:position] = rows
    return tuple(_path_of(spec.layers, row) for row in rows)


def move_run(spec: ModelSpec, paths: Sequence[Path], step: int) -> Selection:
    """Move a run of neighbouring rows one place up (``step`` -1) or down (+1); at the edge of a block the
    rows leave it (above or below the block)."""
    run = sibling_run(paths)
    if run is None:
        raise ValueError("only neighbouring rows of one list move together")
    parent, first, last = run
    size = len(children(spec.layers, parent))
    if first > 0 if step < 0 else last < size - 1:
        return move_rows(spec, paths, parent, first - 1 if step < 0 else last + 2)
    if not parent:
        return tuple(sorted(paths))  # already at the top (or bottom) of the stack
    return move_rows(spec, paths, parent[:-1], parent[-1] + (0 if step < 0 else 1))


def wrap(spec: ModelSpec, paths: Sequence[Path], block_type: str) -> Selection:
    """Put a run of neighbouring rows into a new ``block_type`` block (its settings at their defaults)."""
    return (wrap_rows(spec.layers, paths, block_type, defaults(LAYERS.get(block_type).params)),)


def unwrap(spec: ModelSpec, path: Path) -> Selection:
    """Replace the block at ``path`` by its rows (selected); its own settings go."""
    return tuple(unwrap_row(spec.layers, path))


def set_param(spec: ModelSpec, path: Path, name: str, value: Any) -> Selection:
    row_at(spec.layers, path).params[name] = value
    return (path,)


def set_layer_field(spec: ModelSpec, path: Path, name: str, value: Any) -> Selection:
    """Set ``init``, ``init_params``, ``frozen`` or ``lr_mult`` of one row; a new ``init`` drops the old
    scheme's settings (see :func:`set_layer_init` to give the new one its own)."""
    if name not in LAYER_FIELDS:
        raise ValueError(f"not a layer field: {name!r}")
    row = row_at(spec.layers, path)
    if name == "init" and value != row.init:
        row.init_params = {}
    setattr(row, name, copy.deepcopy(value))
    return (path,)


def set_layer_init(spec: ModelSpec, path: Path, init: str | None, params: dict[str, Any]) -> Selection:
    """Give one row its own initialisation ``init`` (None: the network's) with settings ``params``."""
    row = row_at(spec.layers, path)
    row.init, row.init_params = init, copy.deepcopy(params)
    return (path,)


def set_network_field(spec: ModelSpec, name: str, value: Any) -> None:
    """Set the network-wide ``init``, ``init_params``, ``bias_init`` or ``bias_init_params``."""
    if name not in NETWORK_FIELDS:
        raise ValueError(f"not a network field: {name!r}")
    setattr(spec, name, copy.deepcopy(value))


def _path_of(layers: Sequence[LayerSpec], target: LayerSpec) -> Path:
    """The path of this very row object (rows that are equal in value are still different rows)."""
    return next(path for path, row in iter_rows(layers) if row is target)
