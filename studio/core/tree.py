"""Addressing and editing a layer stack that nests: rows inside blocks, blocks inside blocks.

A row is addressed by its **path**, a tuple of 0-based positions: ``(3,)`` is the fourth top-level row,
``(3, 2)`` the third row inside that block, ``(3, 2, 0)`` the first row inside *that* one. People read
paths counting from 1 (:func:`path_text`: ``"4.3"``), and a settings field is ``"layers[3].layers[2].lr_mult"``
(:func:`field_name`). The editing functions change a ``list[LayerSpec]`` (a ``ModelSpec.layers``) in place
and return the paths the edit produced, so an editor can select them; undo is the caller's (keep a copy).
Only block rows (``LAYERS.get(type).block``) hold child rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from studio.core.project import LayerSpec

Path = tuple[int, ...]


def path_text(path: Sequence[int]) -> str:
    """How people read a path: 1-based positions joined by dots (``(3, 2)`` → ``"4.3"``)."""
    return ".".join(str(step + 1) for step in path)


def field_name(path: Sequence[int]) -> str:
    """The settings field of a row: ``(3, 2)`` → ``"layers[3].layers[2]"``."""
    return ".".join(f"layers[{step}]" for step in path)


def _block_types() -> set[str]:
    # The registry lives in layers.py, which imports this module for its paths (and torch): look it up late.
    from studio.core.layers import LAYERS

    return {name for name, layer_type in LAYERS.items() if layer_type.block is not None}


def is_block(spec: LayerSpec) -> bool:
    """True for rows whose type holds child rows (Residual, Parallel, Repeat)."""
    return isinstance(spec.type, str) and spec.type in _block_types()


def iter_rows(layers: Sequence[LayerSpec], prefix: Path = ()) -> Iterator[tuple[Path, LayerSpec]]:
    """Every row with its path, depth first: a block comes before its child rows."""
    for index, spec in enumerate(layers):
        path = (*prefix, index)
        yield path, spec
        yield from iter_rows(spec.layers, path)


def children(layers: list[LayerSpec], parent: Sequence[int]) -> list[LayerSpec]:
    """The list that holds the child rows of ``parent`` (``()``: the top-level stack itself)."""
    if not parent:
        return layers
    block = row_at(layers, parent)
    if not is_block(block):
        raise ValueError(f"row {path_text(parent)} ({block.type}) is not a block; only blocks hold rows")
    return block.layers


def row_at(layers: Sequence[LayerSpec], path: Sequence[int]) -> LayerSpec:
    """The row at ``path``; IndexError when there is none."""
    if not path:
        raise IndexError("the empty path names the whole stack, not a row")
    rows: Sequence[LayerSpec] = layers
    spec: LayerSpec | None = None
    for step in path:
        if not 0 <= step < len(rows):
            raise IndexError(f"there is no row {path_text(path)}")
        spec = rows[step]
        rows = spec.layers
    assert spec is not None
    return spec


def insert_row(layers: list[LayerSpec], path: Sequence[int], spec: LayerSpec) -> Path:
    """Insert ``spec`` so that it sits at ``path`` (its parent must be a block); returns ``path``."""
    path = tuple(path)
    siblings = children(layers, path[:-1])
    if not 0 <= path[-1] <= len(siblings):
        raise IndexError(f"cannot insert at {path_text(path)}: the list has {len(siblings)} rows")
    siblings.insert(path[-1], spec)
    return path


def remove_row(layers: list[LayerSpec], path: Sequence[int]) -> LayerSpec:
    """Remove and return the row at ``path`` (with its child rows, if it is a block)."""
    row_at(layers, path)
    return children(layers, path[:-1]).pop(path[-1])


def move_row(layers: list[LayerSpec], source: Sequence[int], target: Sequence[int]) -> Path:
    """Move the row at ``source`` to ``target`` (a path in the stack *before* the move); returns where it went.

    Moving a block into its own rows is refused (ValueError).
    """
    source, target = tuple(source), tuple(target)
    if target[:len(source)] == source:
        raise ValueError(f"cannot move row {path_text(source)} into itself")
    spec = remove_row(layers, source)
    target = _after_removal(target, source)
    return insert_row(layers, target, spec)


def _after_removal(path: Path, removed: Path) -> Path:
    """Where ``path`` points once the row at ``removed`` is gone (later siblings move up by one)."""
    depth = len(removed) - 1
    if len(path) > depth and path[:depth] == removed[:depth] and path[depth] > removed[depth]:
        return (*path[:depth], path[depth] - 1, *path[depth + 1:])
    return path


def wrap_rows(layers: list[LayerSpec], paths: Sequence[Sequence[int]], block_type: str,
              params: dict[str, Any] | None = None) -> Path:
    """Put the rows at ``paths`` (neighbours in one list) into a new ``block_type`` row in their place.

    Returns the block's path (where the first wrapped row was). ``Wrap in Residual`` is
    ``wrap_rows(layers, selection, "Residual")``.
    """
    if not paths:
        raise ValueError("nothing to wrap: select at least one row")
    if block_type not in _block_types():
        raise ValueError(f"{block_type!r} is not a block type")
    ordered = sorted(tuple(p) for p in paths)
    parent = ordered[0][:-1]
    positions = [p[-1] for p in ordered]
    if any(p[:-1] != parent for p in ordered) or positions != list(range(positions[0], positions[0] + len(ordered))):
        raise ValueError("only neighbouring rows of one list can be wrapped together")
    siblings = children(layers, parent)
    start, end = positions[0], positions[-1] + 1
    block = LayerSpec(block_type, dict(params or {}), layers=siblings[start:end])
    siblings[start:end] = [block]
    return (*parent, start)


def unwrap_row(layers: list[LayerSpec], path: Sequence[int]) -> list[Path]:
    """Replace the block at ``path`` by its child rows; returns their new paths.

    The block's own settings (its parameters, ``init``, ``frozen``, ``lr_mult``) go with it.
    """
    path = tuple(path)
    block = row_at(layers, path)
    if not is_block(block):
        raise ValueError(f"row {path_text(path)} ({block.type}) is not a block; there is nothing to unwrap")
    siblings = children(layers, path[:-1])
    siblings[path[-1]:path[-1] + 1] = block.layers
    return [(*path[:-1], path[-1] + i) for i in range(len(block.layers))]
