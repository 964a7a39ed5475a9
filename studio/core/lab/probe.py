"""Initialisation probe: one batch forward and backward under several weight initialisations, no training.

For each scheme the current network is rebuilt with that scheme on every row (per-row overrides are
cleared so the comparison is fair), one training batch goes forward and backward, and every row reports
its output's mean, standard deviation, mean square, histogram, fraction of zeros and of saturated values,
the gradient norm of the loss with respect to its output and of its weights. A layer whose units all
have identical weights and receive identical gradients is flagged: they can never become different
(a symmetry failure, what zero or constant initialisation causes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from studio.core.build import build_model
from studio.core.data import PreparedData, prepare_data
from studio.core.engine.evaluate import split_batches
from studio.core.errors import ConfigError
from studio.core.init import INITS
from studio.core.lab.common import StopFlag, never_stop, parse_choice
from studio.core.memory import check_memory
from studio.core.optim import build_loss
from studio.core.params import resolve
from studio.core.progress import Progress, no_progress
from studio.core.project import Project
from studio.core.registry import Registry
from studio.core.stats import output_bounds
from studio.core.tree import iter_rows
from studio.core.units import Unit, model_units

DEFAULT_BINS = 30


@dataclass(frozen=True)
class ProbeScheme:
    """An initialisation to probe: a label for the GUI and an ``INITS`` name with its parameters."""

    label: str
    init: str
    params: dict[str, Any] = field(default_factory=dict)


SCHEMES: Registry[ProbeScheme] = Registry("probe scheme")
for _scheme in (
    ProbeScheme("zeros", "zeros"),
    ProbeScheme("small_random", "small_random"),
    ProbeScheme("normal", "normal", {"std": 1.0}),
    ProbeScheme("xavier", "xavier_normal", {"gain": 1.0}),
    ProbeScheme("he", "kaiming_normal", {"nonlinearity": "relu", "mode": "fan_in"}),
):
    SCHEMES.register(_scheme.label, _scheme)
DEFAULT_SCHEMES = tuple(SCHEMES.names())


def resolve_scheme(text: str) -> ProbeScheme:
    """A named scheme (``"he"``) or any initialisation with settings (``"constant:value=2"``), validated."""
    if text in SCHEMES:
        return SCHEMES.get(text)
    choice = parse_choice(text, "scheme")
    if choice.name not in INITS:
        known = ", ".join(dict.fromkeys([*SCHEMES.names(), *INITS.names()]))
        raise ConfigError(f"unknown initialisation {choice.name!r}; choose one of: {known}", field="schemes")
    resolve(INITS.get(choice.name).params, choice.params, f"initialisation {choice.name}")
    return ProbeScheme(text, choice.name, choice.params)


@dataclass(frozen=True)
class SchemeProbe:
    """One scheme's per-row statistics; every array has one entry per row of the stack (NaN where it does not apply).

    ``hist_counts``/``hist_edges`` are (rows, bins) and (rows, bins + 1): each row's own range, or its
    activation's bounds (tanh: -1..1) so that saturation shows at the edges. ``symmetric_rows`` lists rows
    whose units are identical (symmetry failure); ``warnings`` says it in words.
    """

    scheme: ProbeScheme
    loss: float
    act_mean: np.ndarray
    act_std: np.ndarray
    act_mean_square: np.ndarray
    frac_zero: np.ndarray
    frac_saturated: np.ndarray
    act_grad_norm: np.ndarray
    weight_grad_norm: np.ndarray
    hist_counts: np.ndarray
    hist_edges: np.ndarray
    symmetric_rows: tuple[int, ...]
    warnings: tuple[str, ...]

    @property
    def symmetry_failure(self) -> bool:
        return bool(self.symmetric_rows)


@dataclass(frozen=True)
class ProbeResult:
    """The probe of every scheme, side by side; ``layer_names`` label the rows (``"2 Tanh"``)."""

    layer_names: tuple[str, ...]
    layer_types: tuple[str, ...]
    batch_size: int
    schemes: tuple[SchemeProbe, ...]

    def get(self, label: str) -> SchemeProbe:
        """The probe of the scheme called ``label``."""
        for probe in self.schemes:
            if probe.scheme.label == label:
                return probe
        raise KeyError(label)


def probe_init(
    project: Project,
    schemes: Iterable[str | ProbeScheme] = DEFAULT_SCHEMES,
    data: PreparedData | None = None,
    batch_size: int | None = None,
    bins: int = DEFAULT_BINS,
    progress: Progress | None = None,
    stop: StopFlag | None = None,
) -> ProbeResult:
    """Probe ``project``'s network under each scheme with one batch (the project's batch size by default).

    Runs on the CPU in training mode (dropout on, batch norm on batch statistics), seeded from the project;
    torch's global random state is left as it was. ``stop`` ends early with the schemes done so far.
    """
    progress, stop = progress or no_progress, stop or never_stop
    chosen = [s if isinstance(s, ProbeScheme) else resolve_scheme(s) for s in schemes]
    if not chosen:
        raise ConfigError("choose at least one initialisation to probe", field="schemes")
    if data is None:
        progress(0.0, "Preparing data")
        data = prepare_data(project.data)
    size = batch_size or project.training.batch_size
    if size < 2:
        raise ConfigError("the probe needs a batch of at least 2 samples to measure spread", field="batch_size")
    check_memory(project.model, data.input_shape, min(size, data.n_train), None, torch.device("cpu"))
    x, y = next(iter(split_batches(data, "train", size, torch.device("cpu"))))
    loss_fn = build_loss(project.loss, data.task, data.num_classes or None)
    results = []
    for number, scheme in enumerate(chosen):
        if stop():
            break
        progress(number / len(chosen), f"Probing {scheme.label}")
        results.append(_probe_scheme(project, scheme, data, x, y, loss_fn, bins))
    progress(1.0, "Probe done")
    units = model_units(build_model(project.model, data.input_shape, project.training.seed), project.model.layers)
    return ProbeResult(tuple(u.label for u in units), tuple(u.type for u in units), len(x), tuple(results))


def with_init(project: Project, scheme: ProbeScheme) -> Project:
    """A copy of ``project`` whose every row (inside blocks too) uses ``scheme`` (per-row overrides cleared)."""
    copy = project.copy()
    copy.model.init, copy.model.init_params = scheme.init, dict(scheme.params)
    for _, spec in iter_rows(copy.model.layers):
        spec.init, spec.init_params = None, {}
    return copy


def _probe_scheme(project: Project, scheme: ProbeScheme, data: PreparedData, x: torch.Tensor, y: torch.Tensor,
                  loss_fn: Any, bins: int) -> SchemeProbe:
    model = build_model(with_init(project, scheme).model, data.input_shape, project.training.seed)
    units = model_units(model, project.model.layers)
    outputs: dict[int, torch.Tensor] = {}
    handles = [unit.module.register_forward_hook(_keep(outputs, i)) for i, unit in enumerate(units)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(project.training.seed)
        model.train()
        try:
            loss = loss_fn(model(x), y)
        finally:
            for handle in handles:
                handle.remove()
        loss.backward()
    rows = [_row_stats(unit, outputs[i], bins) for i, unit in enumerate(units)]
    symmetric = tuple(i for i, unit in enumerate(units) if _symmetric(unit.module))
    return SchemeProbe(
        scheme=scheme,
        loss=float(loss.detach()),
        **{name: np.array([row[name] for row in rows]) for name in _SCALARS},
        hist_counts=np.stack([row["counts"] for row in rows]),
        hist_edges=np.stack([row["edges"] for row in rows]),
        symmetric_rows=symmetric,
        warnings=tuple(_symmetry_warning(units[i].label) for i in symmetric),
    )


_SCALARS = ("act_mean", "act_std", "act_mean_square", "frac_zero", "frac_saturated", "act_grad_norm",
            "weight_grad_norm")


def _keep(outputs: dict[int, torch.Tensor], index: int) -> Any:
    """A forward hook that keeps row ``index``'s output and asks autograd to keep its gradient (a block's hook
    fires after its rows', so outputs are kept by row, not in call order).
    """

    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        if output.requires_grad:
            output.retain_grad()
        outputs[index] = output

    return hook


@torch.no_grad()
def _row_stats(unit: Unit, output: torch.Tensor, bins: int) -> dict[str, Any]:
    a = output.detach().double().flatten()
    bounds = output_bounds(unit.module)
    lo, hi = bounds if bounds is not None else _symmetric_range(a)
    counts, edges = np.histogram(a.numpy(), bins=bins, range=(lo, hi))
    saturated = np.nan
    if bounds is not None:
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        saturated = float(((a - mid).abs() > 0.99 * half).double().mean())
    grads = [p.grad for p in unit.own if p.grad is not None]
    squares = sum((g.double().pow(2).sum() for g in grads), torch.zeros((), dtype=torch.float64))
    return {
        "act_mean": float(a.mean()),
        "act_std": float(a.std(unbiased=False)),
        "act_mean_square": float((a * a).mean()),
        "frac_zero": float((a == 0).double().mean()),
        "frac_saturated": saturated,
        # float64: a float32 norm of gradients around 1e20 would overflow to inf when squared.
        "act_grad_norm": float(output.grad.double().norm()) if output.grad is not None else np.nan,
        "weight_grad_norm": float(torch.sqrt(squares)) if grads else np.nan,
        "counts": counts.astype(np.int64),
        "edges": edges,
    }


def _symmetric_range(a: torch.Tensor) -> tuple[float, float]:
    """±the largest magnitude (finite), so zero sits in the middle; ±1 when everything is zero."""
    finite = a[torch.isfinite(a)]
    top = float(finite.abs().max()) if finite.numel() else 0.0
    return (-top, top) if top > 0 else (-1.0, 1.0)


@torch.no_grad()
def _symmetric(layer: nn.Module) -> bool:
    """True when a weight layer with several units has identical units that get identical gradients."""
    weight = getattr(layer, "weight", None)
    if not isinstance(weight, nn.Parameter) or weight.dim() < 2 or weight.shape[0] < 2:
        return False
    same_w = bool((weight - weight[:1]).abs().max() == 0)
    grad = weight.grad
    same_g = grad is None or bool((grad - grad[:1]).abs().max() == 0)
    return same_w and same_g


def _symmetry_warning(label: str) -> str:
    return (f"Symmetry failure in layer {label}: all its units have the same weights and get the same gradient, "
            "so they stay identical however long you train; use a random initialisation (Xavier or He).")


def ratios(values: Sequence[float]) -> np.ndarray:
    """Successive ratios ``v[i+1] / v[i]`` (how a statistic grows or shrinks from one layer to the next)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return v[1:] / v[:-1]
