"""Blocks: rows that hold rows. Their ``torch.nn`` modules and the shape rules the registry gives them.

- ``Residual``: output = rows(x) + shortcut(x). The shortcut is the identity when the rows keep the shape,
  otherwise a projection (a 1×1 convolution for images, a Linear for vectors); ``projection`` is
  ``auto`` (only when needed), ``always`` or ``never`` (mismatched shapes are then an error).
- ``Parallel``: each child row is a branch that sees the block's input; the branches' outputs are joined by
  ``concat`` (on the channel or feature axis) or ``sum``.
- ``Repeat``: the rows ``times`` times one after another, each copy with its own weights.

A :class:`BlockRule` is what ``layers.LayerType.block`` holds: how the rows are laid out (a chain or
branches), how their output shapes combine (``finish``: the block's output shape, or the problem in words),
the block's own layer (the projection), and how a built block is assembled and taken apart again. The
module classes are deliberately small and readable: the python export writes the same classes into model.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import nn

Shape = tuple[int, ...]
CHAIN, BRANCHES = "chain", "branches"


class Residual(nn.Module):
    """A residual block: output = body(x) + shortcut(x); the shortcut is the identity or a projection."""

    def __init__(self, *body: nn.Module, shortcut: nn.Module | None = None) -> None:
        super().__init__()
        self.body = nn.Sequential(*body)
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x) + self.shortcut(x)
        return out


class Parallel(nn.Module):
    """Branches that each see the input; their outputs are concatenated on axis 1 or summed."""

    def __init__(self, *branches: nn.Module, join: str = "concat") -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.join = join

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs: list[torch.Tensor] = [branch(x) for branch in self.branches]
        if self.join == "concat":
            return torch.cat(outputs, dim=1)
        total = outputs[0]
        for output in outputs[1:]:
            total = total + output
        return total


class Repeat(nn.Module):
    """The same rows several times one after another; every copy has weights of its own."""

    def __init__(self, *copies: nn.Module) -> None:
        super().__init__()
        self.copies = nn.ModuleList(copies)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for copy in self.copies:
            x = copy(x)
        return x


Finish = Callable[[dict[str, Any], Shape, list[Shape]], "Shape | str"]


@dataclass(frozen=True)
class BlockRule:
    """How a block type runs its child rows (see the module docstring).

    ``layout`` is :data:`CHAIN` (rows one after another, ``copies(params)`` times) or :data:`BRANCHES`
    (every row from the block's input). ``finish(params, in_shape, outs)`` gets the chain's output (one
    shape) or every branch's, and returns the block's output shape or the problem in words.
    ``own(params, in_shape, out_shape)`` builds the block's own layer (a projection) or returns None.
    ``assemble(params, own, copies)`` makes the module from the built child rows (one list per copy), and
    ``rows(module)`` gives them back (one list per copy), so statistics and initialisation can walk a model.
    """

    layout: str
    finish: Finish
    own: Callable[[dict[str, Any], Shape, Shape], nn.Module | None]
    assemble: Callable[[dict[str, Any], nn.Module | None, list[list[nn.Module]]], nn.Module]
    rows: Callable[[nn.Module], list[list[nn.Module]]]
    copies: Callable[[dict[str, Any]], int] = lambda params: 1


def _dims(shape: Sequence[int]) -> str:
    return "×".join(str(d) for d in shape)


def _described(shape: Shape) -> str:
    return f"{shape[0]} values" if len(shape) == 1 else f"a {_dims(shape)} image" if len(shape) == 3 else _dims(shape)


# --- Residual ------------------------------------------------------------------------------------


def _conv_stride(in_shape: Shape, out_shape: Shape) -> int | None:
    """The stride that makes a 1×1 convolution shrink ``in_shape``'s height and width to ``out_shape``'s."""
    stride = -(-in_shape[1] // out_shape[1])
    fits = all((size - 1) // stride + 1 == target for size, target in zip(in_shape[1:], out_shape[1:], strict=True))
    return stride if fits else None


def _residual_finish(params: dict[str, Any], in_shape: Shape, outs: list[Shape]) -> Shape | str:
    (out,) = outs
    if out == in_shape and params["projection"] != "always":
        return out
    if params["projection"] == "never":
        return (f"its rows turn {_described(in_shape)} into {_described(out)}, so the input cannot be added "
                "unchanged; set projection to auto, or make the rows keep the shape")
    if len(out) != len(in_shape) or len(out) not in (1, 3):
        return (f"its rows turn {_described(in_shape)} into {_described(out)}; a shortcut can only project "
                "vectors to vectors or images to images (keep Flatten outside the block)")
    if len(out) == 3 and _conv_stride(in_shape, out) is None:
        return (f"its rows shrink {_described(in_shape)} to {_described(out)}, which a 1×1 convolution with a "
                "whole-number stride cannot match; halve the size exactly (stride 2 with padding)")
    return out


def _projection(params: dict[str, Any], in_shape: Shape, out_shape: Shape) -> nn.Module | None:
    if out_shape == in_shape and params["projection"] != "always":
        return None
    if len(in_shape) == 1:
        return nn.Linear(in_shape[0], out_shape[0])
    return nn.Conv2d(in_shape[0], out_shape[0], 1, stride=_conv_stride(in_shape, out_shape) or 1)


RESIDUAL = BlockRule(
    CHAIN, _residual_finish, _projection,
    lambda params, own, copies: Residual(*copies[0], shortcut=own),
    lambda module: [list(cast(Residual, module).body)],
)


# --- Parallel ------------------------------------------------------------------------------------


def _join_problem(join: str, outs: list[Shape]) -> str | None:
    first = outs[0]
    for number, out in enumerate(outs[1:], start=2):
        if len(out) != len(first):
            return (f"join {join} needs branches of one kind (all images or all vectors), but branch 1 outputs "
                    f"{_described(first)} and branch {number} {_described(out)}")
        if join == "sum" and out != first:
            return (f"join sum adds the branches, so they need the same shape, but branch 1 outputs "
                    f"{_described(first)} and branch {number} {_described(out)}")
        if join == "concat" and out[1:] != first[1:]:
            what = "height and width" if len(first) == 3 else "shape apart from the first axis"
            return (f"join concat stacks the branches' {'channels' if len(first) == 3 else 'values'}, so their "
                    f"{what} must agree, but branch 1 outputs {_described(first)} and branch {number} "
                    f"{_described(out)}")
    return None


def _parallel_finish(params: dict[str, Any], in_shape: Shape, outs: list[Shape]) -> Shape | str:
    problem = _join_problem(params["join"], outs)
    if problem is not None:
        return problem
    if params["join"] == "sum":
        return outs[0]
    return (sum(out[0] for out in outs), *outs[0][1:])


PARALLEL = BlockRule(
    BRANCHES, _parallel_finish, lambda params, in_shape, out_shape: None,
    lambda params, own, copies: Parallel(*copies[0], join=params["join"]),
    lambda module: [list(cast(Parallel, module).branches)],
)


# --- Repeat --------------------------------------------------------------------------------------


def _one_copy(rows: list[nn.Module]) -> nn.Module:
    return nn.Sequential(*rows)


REPEAT = BlockRule(
    CHAIN, lambda params, in_shape, outs: outs[0], lambda params, in_shape, out_shape: None,
    lambda params, own, copies: Repeat(*(_one_copy(rows) for rows in copies)),
    lambda module: [list(cast(nn.Sequential, copy)) for copy in cast(Repeat, module).copies],
    copies=lambda params: params["times"],
)
