"""Paired comparison: the same project trained twice with exactly one setting changed, same seed, curves overlaid.

``compare(project, "lr", 0.01)`` trains run A (the project as it is) and run B (the variant, see
:mod:`studio.core.lab.variations`) one after the other; both start from the same seed, so with the same
network they start from identical weights and see batches in the same order. The result holds both runs'
curves and a summary of how the final metrics differ. A grid over any settings is
:mod:`studio.core.lab.grid`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.core.callbacks import Callback
from studio.core.data import PreparedData, prepare_data
from studio.core.engine import Trainer
from studio.core.lab.common import EpochProgress, EventSink, LabRun, RunCallback, StopFlag, never_stop
from studio.core.lab.variations import Variant, vary
from studio.core.progress import Progress, no_progress
from studio.core.project import Project
from studio.core.vocab import EndReason

# Final metrics compared between runs: (EpochEnd field, words, lower is better).
METRICS: tuple[tuple[str, str, bool], ...] = (
    ("train_loss", "training loss", True),
    ("val_loss", "validation loss", True),
    ("train_acc", "training accuracy", False),
    ("val_acc", "validation accuracy", False),
)


@dataclass
class PairResult:
    """Runs A (as is) and B (one setting changed), the change, and B − A of each final metric."""

    variant: Variant
    a: LabRun
    b: LabRun
    differences: dict[str, float] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)


def train_run(project: Project, tag: str, label: str, data: PreparedData | None = None,
              callbacks: Sequence[Callback] = (), on_event: EventSink | None = None,
              stop: StopFlag | None = None) -> LabRun:
    """Train ``project`` once with the engine, recording its curves as a :class:`LabRun` tagged ``tag``."""
    run = LabRun(tag, label, project.copy())
    if data is None:
        data = prepare_data(project.data)
    Trainer(project, data=data, callbacks=[RunCallback(run, on_event, stop), *callbacks]).fit()
    return run


def compare(project: Project, setting: str, value: Any = None, data: PreparedData | None = None,
            progress: Progress | None = None, stop: StopFlag | None = None,
            on_event: EventSink | None = None) -> PairResult:
    """Train ``project`` (A) and its variant with ``setting`` changed to ``value`` (B); summarise the difference.

    ``data`` (prepared from ``project``) is reused for B unless the variation changes the data settings.
    Events are tagged ``"A"`` and ``"B"``. If ``stop`` is set during A, B is not trained (its run is empty).
    """
    progress, stop = progress or no_progress, stop or never_stop
    variant = vary(project, setting, value)
    if data is None:
        progress(0.0, "Preparing data")
        data = prepare_data(project.data)
    data_b = data if variant.project.data == project.data else prepare_data(variant.project.data)
    a = train_run(project, "A", f"A: {variant.label} {variant.before}", data,
                  [EpochProgress(progress, 0.0, 0.5, "A")], on_event, stop)
    b = LabRun("B", f"B: {variant.label} {variant.after}", variant.project.copy(), reason=EndReason.STOPPED)
    if not stop():
        b = train_run(variant.project, "B", b.label, data_b, [EpochProgress(progress, 0.5, 0.5, "B")], on_event,
                      stop)
    progress(1.0, "Comparison done")
    differences = differences_of(a, b)
    return PairResult(variant, a, b, differences, summarise(variant, a, b))


def final_metrics(run: LabRun) -> dict[str, float]:
    """The last epoch's metrics that exist (regression has no accuracy; no validation split, no val_*)."""
    if run.final is None:
        return {}
    values = {name: getattr(run.final, name) for name, _, _ in METRICS}
    return {k: float(v) for k, v in values.items() if v is not None}


def differences_of(a: LabRun, b: LabRun) -> dict[str, float]:
    """B − A for every final metric both runs have."""
    fa, fb = final_metrics(a), final_metrics(b)
    return {name: fb[name] - fa[name] for name in fa if name in fb}


def summarise(variant: Variant, a: LabRun, b: LabRun) -> list[str]:
    """Sentences for the learner: what changed, how each final metric moved, and which run did better."""
    lines = [f"Changed {variant.description}; everything else (seed, data, network) is the same."]
    for tag, run in (("A", a), ("B", b)):
        if run.diverged:
            lines.append(f"Run {tag} diverged: {run.message}")
        elif run.final is None:
            lines.append(f"Run {tag} finished no epoch ({run.reason}).")
    fa, fb = final_metrics(a), final_metrics(b)
    for name, words, lower_better in METRICS:
        if name not in fa or name not in fb:
            continue
        delta = fb[name] - fa[name]
        better = "B" if (delta < 0) == lower_better else "A"
        scale, unit = (100.0, " points") if name.endswith("acc") else (1.0, "")
        verdict = "no change" if math.isclose(delta, 0.0, abs_tol=1e-12) else f"better in {better}"
        lines.append(f"Final {words}: A {_fmt(fa[name], name)}, B {_fmt(fb[name], name)} "
                     f"({delta * scale:+.3g}{unit}; {verdict}).")
    return lines


def _fmt(value: float, name: str) -> str:
    return f"{value:.1%}" if name.endswith("acc") else f"{value:.4g}"
