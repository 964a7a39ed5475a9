"""The experiments behind every number quoted in docs/lab/*.md, one section per experiment.

Each section runs the lab's own code on a shipped preset and returns ``{key: text}``; the page marks each
quoted number as ``<!--n:key-->text<!--/n-->`` and ``docs/make_lab_numbers.py`` writes the texts in. Keys
start with their section's name. ``fast`` sections take seconds and are regenerated whole by
``tests/core/test_lab_numbers.py``; the slow ones (minutes) are checked there on a subset
(:func:`depth_cell`, :func:`curve_fit`, :func:`probe_chain`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

import studio.core.lab  # noqa: F401  (registers the typed-in table dataset of the perceptron)
from studio.cli.sweep import table_text
from studio.core.callbacks import Callback
from studio.core.data import prepare_data
from studio.core.engine import Trainer
from studio.core.events import EpochEnd
from studio.core.lab.compare import compare
from studio.core.lab.grid import Cell, GridResult, cell_label, grid_sweep, parse_axis
from studio.core.lab.lessons import LESSONS
from studio.core.lab.lr_finder import apply_lr
from studio.core.lab.modes import compare_modes
from studio.core.lab.probe import SchemeProbe, probe_init, ratios
from studio.core.lab.race import race
from studio.core.lab.sanity import sanity_check
from studio.core.presets import load_preset
from studio.core.project import Project


@dataclass(frozen=True)
class Section:
    """One experiment: the page (in docs/lab) whose marks it fills and whether it runs in seconds."""

    page: str
    make: Callable[[], dict[str, str]]
    fast: bool


def two(value: float) -> str:
    """Two significant digits, trailing zero kept: ``0.40``, ``0.043``."""
    return f"{value:#.2g}".rstrip(".")


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


# --- race.md ----------------------------------------------------------------------------------------

RACE_EPOCHS = (1, 11, 21, 30)


def race_numbers() -> dict[str, str]:
    """The optimizer-race preset: training loss at epochs 1, 11, 21, 30 (by the epoch's own number)."""
    result = race(load_preset("optimizer-race"))
    losses = {c.label: {e.epoch: e.train_loss for e in c.run.epochs} for c in result.contestants}
    values = {"race_epochs": ", ".join(map(str, RACE_EPOCHS))}
    for i, c in enumerate(result.contestants):
        values[f"race_{i}_label"] = c.label
        values[f"race_{i}_loss"] = " → ".join(two(losses[c.label][n]) for n in RACE_EPOCHS)
        values[f"race_{i}_acc"] = pct(c.final_val_acc)
    early = min(result.contestants, key=lambda c: losses[c.label][RACE_EPOCHS[1]])
    last = max(result.contestants, key=lambda c: c.final_train_loss)
    return values | {"race_early": early.label, "race_early_epoch": str(RACE_EPOCHS[1]), "race_last": last.label}


# --- modes.md ---------------------------------------------------------------------------------------


def modes_numbers() -> dict[str, str]:
    """The dropout preset's freshly built network: its first dropout layer measured on one training batch."""
    first = compare_modes(load_preset("dropout")).dropout[0]
    return {"modes_layer": first.name, "modes_p": f"{first.p:g}", "modes_expected": f"{first.expected_scale:g}",
            "modes_scale": f"{first.measured_scale:.4g}", "modes_kept": pct(first.kept_fraction),
            "modes_mean_in": f"{first.mean_in:.3f}", "modes_mean_out": f"{first.mean_out_train:.3f}"}


# --- probe.md ---------------------------------------------------------------------------------------


def _rows(types: Sequence[str], name: str) -> list[int]:
    return [i for i, t in enumerate(types) if t == name]


def _geo(values: np.ndarray) -> float:
    """The typical factor per layer: the geometric mean of the successive ratios."""
    return float(np.exp(np.mean(np.log(ratios(list(values))))))


def probe_numbers() -> dict[str, str]:
    """The deep tanh and ReLU presets under each scheme, and the deep linear chain with w = 2."""
    tanh = probe_init(load_preset("init-tanh-deep"), ["zeros", "small_random", "normal", "xavier"])
    rows = _rows(tanh.layer_types, "Tanh")

    def std(scheme: str) -> np.ndarray:
        return tanh.get(scheme).act_std[rows]

    def saturated(probe: SchemeProbe) -> str:
        return f"{pct(probe.frac_saturated[rows[0]])} → {pct(probe.frac_saturated[rows[-1]])}"

    small, normal, xavier = std("small_random"), std("normal"), std("xavier")
    relu = probe_init(load_preset("init-relu-deep"), ["xavier", "he", "normal"])
    square = {s: relu.get(s).act_mean_square[_rows(relu.layer_types, "ReLU")] for s in ("xavier", "he", "normal")}
    xavier_steps = ratios(list(square["xavier"]))
    he = square["he"]
    zeros = tanh.get("zeros")
    return probe_chain() | {
        "probe_layers": str(len(rows)),
        "probe_small": f"{two(small[0])} → {two(small[1])} → {two(small[2])} → … → {small[-1]:.1e}",
        "probe_small_ratio": two(_geo(small)), "probe_small_sat": saturated(tanh.get("small_random")),
        "probe_normal": f"{two(normal[0])} → {two(normal[-1])} (lowest {two(normal.min())})",
        "probe_normal_sat": saturated(tanh.get("normal")),
        "probe_xavier": f"{two(xavier[0])} → {two(xavier[-1])}", "probe_xavier_sat": saturated(tanh.get("xavier")),
        "probe_relu_xavier": f"{two(xavier_steps.min())}-{two(xavier_steps.max())}",
        "probe_relu_he": f"{he.min() / he[0]:.2f}-{he.max() / he[0]:.2f}",
        "probe_relu_normal": f"{_geo(square['normal']):.3g}", "probe_relu_normal_last": f"{square['normal'][-1]:.1e}",
        "probe_zeros": str(len(zeros.symmetric_rows)),
        "probe_zeros_out": f"{np.nanmax(zeros.act_mean_square[:-1]):.2g}",
        "probe_zeros_grad": f"{np.nanmax(zeros.weight_grad_norm[:-1]):.2g}",
        "probe_zeros_linear": str(len(_rows(tanh.layer_types, "Linear"))),
    }


def probe_chain() -> dict[str, str]:
    """The 50-layer chain of width 1 with w = 2: the factor per layer forward (mean square) and backward."""
    chain = probe_init(load_preset("deep-linear-exploding"), ["constant:value=2"]).schemes[0]
    grads = chain.act_grad_norm[np.isfinite(chain.act_grad_norm)]
    return {"probe_chain_square": f"{_geo(chain.act_mean_square):.4g}", "probe_chain_grad": f"{1 / _geo(grads):.4g}"}


# --- sanity.md --------------------------------------------------------------------------------------


def sanity_numbers() -> dict[str, str]:
    """The digits MLP memorises 10 digits per class; a tiny learning rate and zero weights fail."""
    project = load_preset("digits-mlp")
    passed = sanity_check(project)
    slow = sanity_check(apply_lr(project, 1e-6))
    zeros = project.copy()
    zeros.model.init = "zeros"
    symmetric = sanity_check(zeros)
    return {"sanity_passed": "passes" if passed.passed else "fails", "sanity_epochs": str(passed.epochs),
            "sanity_loss": f"{two(passed.initial_loss)} → {two(passed.train_loss)}",
            "sanity_samples": str(passed.n_samples), "sanity_slow": "fails" if not slow.passed else "passes",
            "sanity_slow_cause": slow.causes[0] if slow.causes else "no cause",
            "sanity_zeros": "fails" if not symmetric.passed else "passes",
            "sanity_zeros_cause": symmetric.causes[0] if symmetric.causes else "no cause"}


# --- perceptron.md ----------------------------------------------------------------------------------


class EpochWeights(Callback):
    """The single Linear unit's weights and bias after every epoch, as the page writes them."""

    def __init__(self) -> None:
        self.after: list[str] = []

    def on_epoch_end(self, trainer: Trainer, event: EpochEnd) -> None:
        weights, bias = trainer.model[0].weight[0].tolist(), trainer.model[0].bias[0].item()
        self.after.append(f"({', '.join(f'{w:g}' for w in weights)}), {bias:g}".replace("-", "−"))


def perceptron_numbers() -> dict[str, str]:
    """The preset learns OR epoch by epoch; with sgn(0) = 0 the first epoch ends elsewhere."""
    textbook = EpochWeights()
    result = Trainer(load_preset("perceptron"), callbacks=[textbook]).fit()
    zero = load_preset("perceptron")
    zero.model.layers[1].params["zero"] = 0
    zero.training.epochs = 1
    torch_sign = EpochWeights()
    Trainer(zero, callbacks=[torch_sign]).fit()
    return {"perceptron_epochs": ", then ".join(f"**{w}**" for w in textbook.after[:-1]),
            "perceptron_last": str(len(textbook.after)), "perceptron_loss": f"{result.history[-1].train_loss:g}",
            "perceptron_zero": torch_sign.after[0]}


# --- compare.md -------------------------------------------------------------------------------------


MEAN_AXIS, MEAN_SEEDS = "data.preprocessing=pixel_mean,channel_mean", 3


def compare_numbers() -> dict[str, str]:
    """The three paired lessons: batch norm, dropout, per-pixel against per-channel mean."""
    norm = compare(load_preset("batchnorm"), "batchnorm")
    drop = compare(load_preset("dropout"), "dropout")
    mean = compare(load_preset("mean-subtraction"), "preprocessing")
    values = {"compare_bn_epochs": str(len(norm.a.epochs)), "compare_drop_epochs": str(len(drop.a.epochs)),
              "compare_mean_epochs": str(len(mean.a.epochs))}
    seeds = grid_sweep(load_preset("mean-subtraction"), [parse_axis(MEAN_AXIS)], repeats=MEAN_SEEDS)
    values["compare_mean_seeds"] = str(MEAN_SEEDS)
    values |= {f"compare_mean_sweep_{i}": cell.stat("val_acc").text() for i, cell in enumerate(seeds.cells)}
    for key, pair in (("bn", norm), ("drop", drop), ("mean", mean)):
        for tag, run in (("a", pair.a), ("b", pair.b)):
            assert run.final is not None
            values[f"compare_{key}_{tag}"] = pct(run.final.val_acc)
            values[f"compare_{key}_{tag}_train"] = pct(run.final.train_acc)
    return values


# --- presets.md -------------------------------------------------------------------------------------


def curve_fit(epochs: int | None = None) -> dict[str, str]:
    """The curve-fit preset as shipped (or its first ``epochs``): loss at the start and the end."""
    project = load_preset("curve-fit-tanh")
    if epochs is not None:
        project.training.epochs = epochs
    history = Trainer(project).fit().history
    noise = project.data.params["noise"]
    return {"presets_curve_noise": f"{noise**2:g}", "presets_curve_start": f"{history[0].train_loss:.3f}",
            "presets_curve_end": f"{history[-1].train_loss:.3f}",
            "presets_curve_val": f"{history[-1].val_loss:.3f}", "presets_curve_epochs": str(len(history))}


def presets_numbers() -> dict[str, str]:
    digits = Trainer(load_preset("digits-mlp")).fit().history[-1]
    return curve_fit() | {"presets_digits": pct(digits.val_acc)}


# --- depth-vs-lr.md ---------------------------------------------------------------------------------

DEPTH_PRESETS = {"sigmoid": "depth-vs-lr", "relu": "depth-vs-lr-relu"}


def depth_grid(preset: str, axes: Sequence[str] | None = None) -> GridResult:
    """The lesson's grid (or ``axes`` instead of the lesson's), with the lesson's repeats."""
    lesson = LESSONS.get(preset)
    chosen = [parse_axis(a) for a in (axes or lesson.options["axes"])]
    return grid_sweep(load_preset(preset), chosen, repeats=lesson.options["repeats"])


def depth_cell(preset: str, depth: int, lr: float) -> str:
    """One cell of a grid as the table prints it (a quick check of the page's table)."""
    result = depth_grid(preset, [f"model.layers[0].params.times={depth}", f"optimizer.params.lr={lr:g}"])
    return result.cells[0].stat("val_acc").text()


GOOD = 0.9  # "learns": a final validation accuracy of at least 90%


def _best(result: GridResult) -> list[tuple[str, float, str]]:
    """Per depth (row): its label, the best mean accuracy over the rates and that rate (first of equals)."""
    rows = []
    for row, depth in zip(result.table("val_acc"), result.axes[0].labels, strict=True):
        scored = [(s.mean, lr) for s, lr in zip(row, result.axes[1].labels, strict=True) if s.counted]
        mean, lr = max(scored, key=lambda pair: pair[0], default=(math.nan, "none"))
        rows.append((depth, mean, lr))
    return rows


def _verdicts(result: GridResult) -> str:
    """Per depth: the best rate and its accuracy, and how many rates reach 90%."""
    good = [sum(s.counted > 0 and s.mean >= GOOD for s in row) for row in result.table("val_acc")]
    return "\n".join(f"- depth {depth}: best {pct(mean)} (lr {lr}); {n} of {len(result.axes[1].values)} rates "
                     f"reach {GOOD:.0%}" for (depth, mean, lr), n in zip(_best(result), good, strict=True))


def _cells(result: GridResult, test: Callable[[Cell], bool]) -> int:
    return sum(test(cell) for cell in result.cells)


def _first_divergence(result: GridResult) -> str:
    """``"depth 2: lr 10, depth 4: lr 1, ..."``: where each row first has a diverged run ("none" if never)."""
    parts = []
    for r, depth in enumerate(result.axes[0].labels):
        lrs = [result.axes[1].labels[c] for c in range(result.shape[1]) if result.cell(r, c).stat("val_acc").diverged]
        parts.append(f"depth {depth}: {'lr ' + lrs[0] if lrs else 'none'}")
    return ", ".join(parts)


def _summary(sigmoid: GridResult, relu: GridResult, chance: float) -> str:
    """What the two grids show, in sentences made from their numbers."""
    learned = [(d, m, lr) for d, m, lr in _best(sigmoid) if m >= GOOD]
    stuck = [m for d, m, lr in _best(sigmoid) if not m >= GOOD]
    deep_relu = _best(relu)
    relu_good = [d for d, m, _ in deep_relu if m >= GOOD]
    wide = max(relu.cells + sigmoid.cells, key=lambda c: c.stat("val_acc").spread)
    grid = "ReLU + He" if any(cell is wide for cell in relu.cells) else "sigmoid"
    seeds = [run.final.val_acc for run in wide.runs if run.final is not None and run.final.val_acc is not None]
    good = {name: _cells(r, lambda c: c.stat("val_acc").counted > 0 and c.stat("val_acc").mean >= GOOD)
            for name, r in (("sigmoid", sigmoid), ("relu", relu))}
    lines = [
        f"- **Sigmoid:** depth {', '.join(d for d, _, _ in learned) or 'none'} reaches {GOOD:.0%} "
        f"({', '.join(f'{pct(m)} at lr {lr}' for _, m, lr in learned) or '-'}); every deeper stack stays at "
        f"{pct(min(stuck, default=math.nan))}-{pct(max(stuck, default=math.nan))} at its best rate (chance is "
        f"{pct(chance)}): no rate in four decades brings it near depth 2. The gradient that reaches the first layers "
        "shrinks at every sigmoid, so a rate large enough for them is far too large for the last ones.",
        f"- **ReLU + He:** depths {', '.join(relu_good) or 'none'} reach {GOOD:.0%}, best at lr "
        f"{', '.join(sorted({lr for d, _, lr in deep_relu if d in relu_good}))}; depth {deep_relu[-1][0]} gets "
        f"{pct(deep_relu[-1][1])} at best (lr {deep_relu[-1][2]}). The smallest rate at which a run diverged, "
        f"per depth: {_first_divergence(relu)}.",
        f"- Cells reaching {GOOD:.0%}: sigmoid {good['sigmoid']} of {len(sigmoid.cells)}, ReLU + He {good['relu']} "
        f"of {len(relu.cells)}.",
        f"- Why the repeats: the widest spread, {wide.stat('val_acc').text()} at "
        f"{cell_label(relu.axes, wide.values)} ({grid}), comes from seeds that end at "
        f"{' and '.join(pct(v) for v in seeds)}: "
        "one grid cell, one seed, can mislead.",
    ]
    return "\n" + "\n".join(lines) + "\n"


def depth_numbers() -> dict[str, str]:
    """Both lessons' grids: the command's own table, per depth the best rate, and what they show."""
    values: dict[str, str] = {}
    results = {}
    for name, preset in DEPTH_PRESETS.items():
        results[name] = result = depth_grid(preset)
        values[f"depth_{name}_table"] = "\n```\n" + table_text(result, "val_acc") + "\n```\n"
        values[f"depth_{name}_verdicts"] = "\n" + _verdicts(result) + "\n"
    project: Project = load_preset("depth-vs-lr")
    chance = 1 / prepare_data(project.data).num_classes
    values["depth_summary"] = _summary(results["sigmoid"], results["relu"], chance)
    values["depth_epochs"] = str(project.training.epochs)
    return values


SECTIONS: dict[str, Section] = {
    "race": Section("race.md", race_numbers, fast=True),
    "modes": Section("modes.md", modes_numbers, fast=True),
    "probe": Section("probe.md", probe_numbers, fast=False),
    "sanity": Section("sanity.md", sanity_numbers, fast=True),
    "perceptron": Section("perceptron.md", perceptron_numbers, fast=True),
    "compare": Section("compare.md", compare_numbers, fast=False),
    "presets": Section("presets.md", presets_numbers, fast=False),
    "depth": Section("depth-vs-lr.md", depth_numbers, fast=False),
}
