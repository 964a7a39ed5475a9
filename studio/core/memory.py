"""The memory guard: will this network train on this device, before anything is allocated?

Two Linear layers of 65,536 units need 17 GB of weights; building them would take the machine
down (or die with an allocator error that reads like a bug). So before a model is built, each
row's needs are estimated from its shapes (``shapes.walk`` runs on the meta device, for free):

- weights (all parameters) and their gradients (trainable ones);
- optimizer state, measured per optimizer by stepping it once on a tiny tensor (Adam keeps two
  values per weight, SGD with momentum one, plain SGD none), so a new optimizer needs no table;
- activations for one batch: every row keeps its output for the backward pass, which makes a
  gradient of the same size (plus the input batch itself, counted on the first row).

The sum must fit in :data:`USABLE` of the memory available now (system memory for the CPU and
MPS, ``torch.cuda.mem_get_info`` for CUDA); the refusal names the row that needs the most.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import psutil
import torch

from studio.core.errors import ShapeError
from studio.core.project import Choice, ModelSpec
from studio.core.shapes import NETWORK, LayerInfo, infer_shapes

# Share of the available memory a run may plan to use: the allocator, Python, the data and the
# window need the rest.
USABLE = 0.8
_PROBE_SIZE = 64


class MemoryGuardError(ShapeError):
    """The network would not fit in memory; ``index`` is the row that needs the most."""


@dataclass(frozen=True)
class TrainingPlan:
    """What the guard needs besides the network: samples per batch, the optimizer and the device setting."""

    batch_size: int
    optimizer: Choice
    device: str = "auto"


@dataclass(frozen=True)
class RowMemory:
    """Bytes one row needs to train: weights, gradients, optimizer state, activations of one batch."""

    index: int
    label: str
    weights: int
    gradients: int
    optimizer: int
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations


@dataclass(frozen=True)
class MemoryEstimate:
    """Every row's needs, and the memory of the device it would train on."""

    rows: list[RowMemory]
    batch_size: int
    device: str
    free: int
    total: int

    @property
    def need(self) -> int:
        return sum(row.total for row in self.rows)

    @property
    def fits(self) -> bool:
        return self.need <= USABLE * self.free


def format_bytes(n: float) -> str:
    """``17 GB``, ``350 MB``, ``12 kB`` (decimal units, two significant digits at most)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}".replace(".0 ", " ")
    return f"{int(n)} bytes"


def device_memory(device: torch.device) -> tuple[int, int]:
    """(free, total) bytes where ``device`` keeps its tensors."""
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        return int(free), int(total)
    info = psutil.virtual_memory()
    return int(info.available), int(info.total)


@cache
def _state_ratio(name: str, settings: str) -> float:
    """Values of optimizer state per weight after one step (cached per choice; ``settings`` is JSON)."""
    from studio.core.optim import build_optimizer

    weight = torch.nn.Parameter(torch.zeros(_PROBE_SIZE))
    weight.grad = torch.ones(_PROBE_SIZE)
    optimizer = build_optimizer(Choice(name, json.loads(settings)), [weight])
    optimizer.step()
    state = optimizer.state.get(weight, {})
    return sum(v.numel() for v in state.values() if torch.is_tensor(v) and v.numel() > 1) / _PROBE_SIZE


def state_per_weight(choice: Choice | None) -> float:
    """How many values of state ``choice`` keeps per trainable weight (Adam 2, SGD with momentum 1, SGD 0).

    None (a forward and backward pass without an optimizer, as the probe does) keeps none.
    """
    if choice is None:
        return 0.0
    return _state_ratio(choice.name, json.dumps(choice.params, sort_keys=True))


def _kept_values(row: LayerInfo) -> int:
    """Values per sample a row keeps for the backward pass: its output and that output's gradient; a block's
    rows inside it too, for every copy of a Repeat."""
    return 2 * math.prod(row.out_shape) + row.copies * sum(_kept_values(child) for child in row.children)


def estimate(rows: Sequence[LayerInfo], batch_size: int, optimizer: Choice | None,
             device: torch.device) -> MemoryEstimate:
    """Each row's training memory for ``batch_size`` samples, and the device's memory now."""
    size = torch.get_default_dtype().itemsize
    state = state_per_weight(optimizer)
    out = []
    for row in rows:
        inputs = math.prod(row.in_shape) if row.index == 0 else 0
        activations = batch_size * size * (_kept_values(row) + inputs)
        label = row.label.split(" ", 1)[1]  # "3 Linear 128" -> "Linear 128": messages say "layer 3" already
        out.append(RowMemory(row.index, label, row.params * size, row.trainable * size,
                             int(row.trainable * size * state), activations))
    free, total = device_memory(device)
    return MemoryEstimate(out, batch_size, device.type, free, total)


def check_memory(model: ModelSpec, input_shape: Sequence[int], batch_size: int, optimizer: Choice | None,
                 device: torch.device, copies: int = 1) -> MemoryEstimate:
    """Raise :class:`MemoryGuardError` when ``copies`` of the network would not train on ``device``.

    Also refuses weights that would not fit in system memory, where every network is built first.
    Shape problems raise their own :class:`ShapeError` (``shapes.walk``).
    """
    result = estimate(infer_shapes(model.layers, input_shape), batch_size, optimizer, device)
    problem = _problem(result, copies)
    if problem is None and device.type != "cpu":
        weights = sum(row.weights for row in result.rows)
        free, total = device_memory(torch.device("cpu"))
        if weights * copies > USABLE * free:
            row = max(result.rows, key=lambda r: r.weights)
            problem = (f"layer {row.index + 1} ({row.label}) needs {format_bytes(row.weights)} of weights, built in"
                       f" system memory first; {_has('this computer', free, total)}", row.index)
    if problem is not None:
        message, index = problem
        raise MemoryGuardError(message, index, "" if index == NETWORK else model.layers[index].type)
    return result


def check_plan(model: ModelSpec, input_shape: Sequence[int], plan: TrainingPlan) -> MemoryGuardError | None:
    """The guard's verdict for an editor: the refusal, or None (other problems are for their own fields)."""
    from studio.core.device import pick_device
    from studio.core.errors import StudioError

    try:
        check_memory(model, input_shape, plan.batch_size, plan.optimizer, pick_device(plan.device))
    except MemoryGuardError as exc:
        return exc
    except StudioError:
        return None
    return None


def _has(where: str, free: int, total: int) -> str:
    """``this computer has 25 GB in all, 3 GB of it free`` (the free part only when it matters)."""
    text = f"{where} has {format_bytes(total)} in all"
    return text if free >= 0.5 * total else f"{text}, {format_bytes(free)} of it free"


def _problem(result: MemoryEstimate, copies: int) -> tuple[str, int] | None:
    """The message and the row to blame, or None when the estimate fits."""
    budget = USABLE * result.free / copies
    if result.need <= budget:
        return None
    where = "this computer" if result.device in ("cpu", "mps") else f"the {result.device.upper()} device"
    has = _has(where, result.free, result.total) + (f", shared by {copies} networks side by side" if copies > 1 else "")
    row = max(result.rows, key=lambda r: r.total)
    name = f"layer {row.index + 1} ({row.label})"
    batch = "lower the batch size" if 2 * row.activations > row.total else f"make {name} smaller"
    if row.total > budget and 2 * row.activations > row.total:
        return (f"{name} needs {format_bytes(row.activations)} of activations for a batch of {result.batch_size};"
                f" {has}: {batch}"), row.index
    if row.total > budget:
        needs = f"{format_bytes(row.weights)} of weights ({format_bytes(row.total)} to train)"
        return f"{name} needs {needs}; {has}", row.index
    return (f"training needs about {format_bytes(result.need)} (weights, gradients, optimizer state and a batch"
            f" of {result.batch_size}), {format_bytes(row.total)} of it for {name}; {has}: {batch}"), row.index
