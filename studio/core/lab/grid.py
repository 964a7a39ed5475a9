"""Sweeps: a grid over one or two project settings, every cell a real run, repeated with different seeds.

A setting is named by its key path (``optimizer.params.lr``, ``model.init``, ``model.layers[0].params.times``
for the depth of a ``Repeat`` block; see :mod:`studio.core.keypath`), so any setting of a project file can
be swept, and every value is checked like a file value before anything trains. Each cell trains the project
with the cell's values once per seed (``training.seed``, +1, +2, ...: other starting weights, batch orders
and dropout masks; the data split stays), so a cell reports the mean of its final metric and the spread
over seeds (the sample standard deviation), which says how much of a difference between cells is noise.
A run whose loss became NaN or infinite counts as diverged and is left out of the mean.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.core.data import PreparedData, prepare_data
from studio.core.errors import ConfigError
from studio.core.keypath import parse_path, parse_value, set_value
from studio.core.lab.common import EpochProgress, EventSink, LabRun, StopFlag, never_stop
from studio.core.lab.compare import train_run
from studio.core.progress import Progress, no_progress
from studio.core.project import Project

METRICS = ("val_acc", "val_loss", "train_loss", "train_acc")
LOWER_IS_BETTER = {"val_loss": True, "train_loss": True, "val_acc": False, "train_acc": False}
MAX_AXES = 2


@dataclass(frozen=True)
class Axis:
    """One swept setting: its key path and the values it takes, in order."""

    key: str
    values: tuple[Any, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(value_text(v) for v in self.values)


def value_text(value: Any) -> str:
    """A value as a short label: ``0.001``, ``relu``, ``[[0, 0]]``."""
    if isinstance(value, float):
        return f"{value:g}"
    return value if isinstance(value, str) else json.dumps(value)


def parse_axis(text: str) -> Axis:
    """``"KEY=V1,V2,..."`` (values as JSON where they parse, else text; commas inside brackets belong to a value)."""
    key, sep, rest = text.partition("=")
    if not sep or not key.strip() or not rest.strip():
        raise ConfigError(f"--vary needs KEY=V1,V2,... (e.g. optimizer.params.lr=0.01,0.1), not {text!r}",
                          field="vary")
    parse_path(key.strip())
    values = tuple(parse_value(part.strip()) for part in _split(rest))
    if len(set(map(value_text, values))) != len(values):
        raise ConfigError(f"--vary {key.strip()}: a value is listed twice", field="vary")
    return Axis(key.strip(), values)


def _split(text: str) -> list[str]:
    """Split on the commas that are not inside brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


@dataclass(frozen=True)
class Stat:
    """A cell's final metric over its seeds: mean and spread of the runs that have it (``counted``), and how
    many of all ``runs`` diverged. A metric the runs do not have (validation without a split) counts none."""

    mean: float
    spread: float
    counted: int
    runs: int
    diverged: int

    def text(self) -> str:
        if not self.counted:
            return "diverged" if self.diverged else "–"
        spread = f" ± {self.spread:.3g}" if self.counted > 1 else ""
        note = f" ({self.diverged} of {self.runs} diverged)" if self.diverged else ""
        return f"{self.mean:.4g}{spread}{note}"


@dataclass
class Cell:
    """One point of the grid: its position, its values (one per axis) and one run per seed."""

    index: tuple[int, ...]
    values: tuple[Any, ...]
    runs: list[LabRun] = field(default_factory=list)

    def stat(self, metric: str) -> Stat:
        good = [v for v in (_final(run, metric) for run in self.runs if not run.diverged)
                if v is not None and math.isfinite(v)]
        mean = statistics.fmean(good) if good else math.nan
        spread = statistics.stdev(good) if len(good) > 1 else 0.0
        return Stat(mean, spread, len(good), len(self.runs), sum(run.diverged for run in self.runs))


def _final(run: LabRun, metric: str) -> float | None:
    return getattr(run.final, metric) if run.final is not None else None


@dataclass
class GridResult:
    """The axes, the seeds and every cell (first axis slowest)."""

    axes: tuple[Axis, ...]
    seeds: tuple[int, ...]
    cells: list[Cell]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(axis.values) for axis in self.axes)

    def cell(self, *index: int) -> Cell:
        return next(c for c in self.cells if c.index == tuple(index))

    def table(self, metric: str) -> list[list[Stat]]:
        """Rows: the first axis' values; columns: the second's (one column for a one-setting sweep)."""
        columns = self.shape[1] if len(self.shape) > 1 else 1
        stats = [c.stat(metric) for c in self.cells]
        return [stats[r * columns:(r + 1) * columns] for r in range(self.shape[0])]

    def best(self, metric: str) -> Cell | None:
        """The cell with the best mean (the first of equals); None when no cell has the metric."""
        scored = [c for c in self.cells if c.stat(metric).counted]
        if not scored:
            return None
        choose = min if LOWER_IS_BETTER[metric] else max  # both keep the first of equal cells
        return choose(scored, key=lambda c: c.stat(metric).mean)


def cell_label(axes: Sequence[Axis], values: Sequence[Any]) -> str:
    """``"lr=0.1 · times=4"``: the last part of each key with the cell's value."""
    return " · ".join(f"{axis.key.rsplit('.', 1)[-1]}={value_text(v)}" for axis, v in zip(axes, values, strict=True))


def plan(project: Project, axes: Sequence[Axis]) -> list[tuple[tuple[int, ...], tuple[Any, ...], Project]]:
    """Every cell's position, values and project, all checked before anything trains (a bad value names itself)."""
    if not 1 <= len(axes) <= MAX_AXES:
        raise ConfigError(f"a sweep varies one or two settings, not {len(axes)}", field="vary")
    if len({axis.key for axis in axes}) != len(axes):
        raise ConfigError("a sweep varies each setting once; the same key is given twice", field="vary")
    cells = []
    for index in itertools.product(*(range(len(axis.values)) for axis in axes)):
        values = tuple(axis.values[i] for axis, i in zip(axes, index, strict=True))
        changed = project
        for axis, value in zip(axes, values, strict=True):
            changed = set_value(changed, axis.key, value)
        cells.append((index, values, changed))
    return cells


def grid_sweep(project: Project, axes: Sequence[Axis], repeats: int = 1, data: PreparedData | None = None,
               progress: Progress | None = None, stop: StopFlag | None = None,
               on_event: EventSink | None = None, seeds: Sequence[int] | None = None) -> GridResult:
    """Train every cell of the grid once per seed (``seeds``, else ``training.seed`` + 0 .. ``repeats`` - 1).

    ``data`` (prepared from ``project``) is shared by every cell whose data settings are the project's. Events
    are tagged with the cell's label and the seed. When ``stop`` is set the result holds the runs so far.
    """
    if seeds is None:
        if repeats < 1:
            raise ConfigError("a sweep needs at least 1 repeat", field="repeats")
        seeds = [project.training.seed + r for r in range(repeats)]
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ConfigError("a sweep's seeds must be different whole numbers of 0 or more", field="seeds")
    progress, stop = progress or no_progress, stop or never_stop
    cells = plan(project, axes)
    prepared: dict[str, PreparedData] = {} if data is None else {_data_key(project): data}
    result = GridResult(tuple(axes), tuple(seeds), [])
    total, done = len(cells) * len(seeds), 0
    for index, values, cell_project in cells:
        cell = Cell(index, values)
        result.cells.append(cell)
        for seed in seeds:
            if stop():
                return result
            label = f"{cell_label(axes, values)} · seed {seed}"
            run_project = set_value(cell_project, "training.seed", seed)
            key = _data_key(run_project)
            if key not in prepared:
                prepared[key] = prepare_data(run_project.data)
            share = EpochProgress(progress, done / total, 1 / total, f"{label} (run {done + 1} of {total})")
            cell.runs.append(train_run(run_project, label, label, prepared[key], [share], on_event, stop))
            done += 1
    progress(1.0, "Sweep done")
    return result


def _data_key(project: Project) -> str:
    return json.dumps(project.to_dict()["data"], sort_keys=True)
