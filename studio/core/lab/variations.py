"""Variations for paired comparisons: each changes exactly one setting of a project and says what it changed.

A variation is ``apply(project, value) -> (new project, before, after)``; ``value`` None means the
variation's sensible default (the other optimizer, ×10 learning rate, batch norm toggled...). The original
project is never modified. The registry name is the command line's ``--vary`` value and the GUI's id.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.core.errors import ConfigError
from studio.core.lab.common import format_choice, parse_choice, parse_scalar
from studio.core.lab.probe import resolve_scheme, with_init
from studio.core.layers import LAYERS, LayerRole, companion, has_role
from studio.core.optim.optimizers import OPTIMIZERS
from studio.core.params import resolve
from studio.core.project import Choice, LayerSpec, Project
from studio.core.registry import Registry
from studio.core.tree import iter_rows, unwrap_row, wrap_rows

Applied = tuple[Project, str, str]  # (changed copy, setting before, setting after)


@dataclass(frozen=True)
class Variation:
    """One setting that "compare with…" can change; ``value_help`` says what a value means (GUI, CLI help)."""

    name: str
    label: str
    value_help: str
    apply: Callable[[Project, Any], Applied]


@dataclass(frozen=True)
class Variant:
    """The result of :func:`vary`: the changed project and the change in words."""

    setting: str
    label: str
    before: str
    after: str
    project: Project

    @property
    def description(self) -> str:
        return f"{self.label}: {self.before} → {self.after}"


VARIATIONS: Registry[Variation] = Registry("variation")


class UnchangedError(ConfigError):
    """The requested value is what the project already has, so there is nothing to compare."""


def vary(project: Project, setting: str, value: Any = None) -> Variant:
    """``project`` with ``setting`` changed to ``value`` (text is parsed; None: the default change)."""
    variation = VARIATIONS.get(setting)
    if isinstance(value, str) and value.lower() in ("on", "off"):
        value = value.lower() == "on"
    elif isinstance(value, str) and setting not in ("init", "optimizer", "preprocessing"):
        value = parse_scalar(value)
    changed, before, after = variation.apply(project.copy(), value)
    if before == after:
        raise UnchangedError(f"{variation.label} is already {after}; choose a different value to compare with",
                             field="vary")
    return Variant(setting, variation.label, before, after, changed)


# --- optimizer settings ----------------------------------------------------------------------------


def _optimizer_values(project: Project) -> dict[str, Any]:
    kind = OPTIMIZERS.get(project.optimizer.name)
    return resolve(kind.params, project.optimizer.params, f"optimizer {kind.name}")


def _number(value: Any, what: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ConfigError(f"{what} must be a number of at least {minimum:g}, not {value!r}", field="value")
    return float(value)


def _lr(project: Project, value: Any) -> Applied:
    before = _optimizer_values(project)["lr"]
    after = before * 10 if value is None else _number(value, "the learning rate", 1e-12)
    project.optimizer.params = {**project.optimizer.params, "lr": after}
    return project, f"{before:g}", f"{after:g}"


def _l2(project: Project, value: Any) -> Applied:
    before = _optimizer_values(project)["weight_decay"]
    after = (0.0 if before > 0 else 1e-3) if value is None else _number(value, "the L2 weight decay")
    project.optimizer.params = {**project.optimizer.params, "weight_decay": after}
    return project, f"{before:g}", f"{after:g}"


def _optimizer(project: Project, value: Any) -> Applied:
    before = format_choice(project.optimizer)
    choice = (Choice("sgd") if project.optimizer.name != "sgd" else Choice("adam")) if value is None \
        else parse_choice(str(value), "optimizer")
    kind = OPTIMIZERS.get(choice.name)
    resolve(kind.params, choice.params, f"optimizer {kind.name}")
    project.optimizer = choice
    return project, before, format_choice(choice)


def _batch_size(project: Project, value: Any) -> Applied:
    before = project.training.batch_size
    after = before * 4 if value is None else int(_number(value, "the batch size", 1))
    project.training.batch_size = after
    return project, str(before), str(after)


def _init(project: Project, value: Any) -> Applied:
    before = format_choice(Choice(project.model.init, project.model.init_params))
    if value is None:
        value = "xavier" if project.model.init.startswith("kaiming") else "he"
    scheme = resolve_scheme(str(value))
    changed = with_init(project, scheme)
    return changed, before, format_choice(Choice(scheme.init, scheme.params))


def _preprocessing(project: Project, value: Any) -> Applied:
    before = project.data.preprocessing
    after = ("channel_mean" if before == "pixel_mean" else "pixel_mean") if value is None else str(value)
    project.data.preprocessing = after
    return project, before, after


# --- the layer stack -------------------------------------------------------------------------------

def _is_activation(spec: LayerSpec) -> bool:
    return spec.type in LAYERS and LAYERS.get(spec.type).group == "activation"


def _hidden_weighted(layers: list[LayerSpec]) -> list[int]:
    """Rows of weight layers other than the last one (the output layer)."""
    weighted = [i for i, spec in enumerate(layers) if has_role(spec.type, LayerRole.WEIGHTED)]
    return weighted[:-1]


def _on_off(value: Any, current: bool, what: str) -> bool:
    if value is None:
        return not current
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{what} takes on or off (true/false), not {value!r}", field="value")


def _batchnorm(project: Project, value: Any) -> Applied:
    layers = project.model.layers
    present = any(has_role(spec.type, LayerRole.BATCH_NORM) for spec in layers)
    on = _on_off(value, present, "batch norm")
    if on and not present:
        hidden = _hidden_weighted(layers)
        if not hidden:
            raise ConfigError("batch norm goes after a hidden layer, and this network has none", field="vary")
        for index in reversed(hidden):
            layers.insert(index + 1, LayerSpec(companion(LayerRole.BATCH_NORM, layers[index].type)))
    elif not on:
        project.model.layers = [spec for spec in layers if not has_role(spec.type, LayerRole.BATCH_NORM)]
    return project, _word(present), _word(on)


def _dropout(project: Project, value: Any) -> Applied:
    layers = project.model.layers
    current = [spec.params.get("p", 0.5) for spec in layers if has_role(spec.type, LayerRole.DROPOUT)]
    before = f"p={current[0]:g}" if current else "off"
    if value is None:
        p = 0.0 if current else 0.5
    elif isinstance(value, bool):
        p = 0.5 if value else 0.0
    else:
        p = _number(value, "the dropout probability")
    if p == 0.0:
        project.model.layers = [spec for spec in layers if not has_role(spec.type, LayerRole.DROPOUT)]
        return project, before, "off"
    if current:
        for spec in layers:
            if has_role(spec.type, LayerRole.DROPOUT):
                spec.params = {**spec.params, "p": p}
        return project, before, f"p={p:g}"
    hidden = _hidden_weighted(layers)
    if not hidden:
        raise ConfigError("dropout goes after a hidden layer, and this network has none", field="vary")
    for index in reversed(hidden):
        after = _after_activation(layers, index)
        layers.insert(after, LayerSpec(companion(LayerRole.DROPOUT, layers[index].type), {"p": p}))
    return project, before, f"p={p:g}"


def _after_activation(layers: list[LayerSpec], index: int) -> int:
    """The row after the activation that follows weight row ``index`` (or right after it)."""
    position = index + 1
    while position < len(layers) and not has_role(layers[position].type, LayerRole.WEIGHTED):
        if _is_activation(layers[position]):
            return position + 1
        position += 1
    return index + 1


def _blocks(layers: list[LayerSpec]) -> list[tuple[int, int]]:
    """Hidden blocks as (start, end) rows: a hidden weight layer and everything up to the next weight layer."""
    weighted = [i for i, spec in enumerate(layers) if has_role(spec.type, LayerRole.WEIGHTED)]
    return list(zip(weighted[:-1], weighted[1:], strict=True))


def _depth(project: Project, value: Any) -> Applied:
    layers = project.model.layers
    blocks = _blocks(layers)
    delta = 1 if value is None else int(_number(value, "the change in depth", -1e9))
    after = len(blocks) + delta
    if not blocks:
        raise ConfigError("depth adds copies of a hidden layer, and this network has none", field="vary")
    if after < 0:
        raise ConfigError(f"the network has only {len(blocks)} hidden layer(s); cannot remove {-delta}", field="value")
    start, end = blocks[-1]
    block = layers[start:end]
    if delta >= 0:
        copies = [LayerSpec(s.type, dict(s.params), s.init, False, s.lr_mult, copy.deepcopy(s.init_params))
                  for _ in range(delta) for s in block]
        project.model.layers = layers[:end] + copies + layers[end:]
    else:
        first_removed = blocks[after][0]
        project.model.layers = layers[:first_removed] + layers[blocks[-1][1]:]
    return project, f"{len(blocks)} hidden", f"{after} hidden"


def _hidden_segments(rows: list[LayerSpec], last_is_output: bool) -> list[tuple[int, int]]:
    """(start, end) of each hidden weight layer with the rows after it up to (not including) its activation, the
    next weight layer or a block: what a shortcut goes around, ResNet's way (the activation after the sum).
    """
    weighted = [i for i, spec in enumerate(rows) if has_role(spec.type, LayerRole.WEIGHTED)]
    segments = []
    for start in weighted[:-1] if last_is_output else weighted:
        end = start + 1
        while end < len(rows) and not _ends_segment(rows[end]):
            end += 1
        segments.append((start, end))
    return segments


def _ends_segment(spec: LayerSpec) -> bool:
    """True for the row a hidden segment stops before: an activation, a weight layer or a block."""
    return _is_activation(spec) or has_role(spec.type, LayerRole.WEIGHTED) or bool(spec.layers)


def _wrap_hidden(rows: list[LayerSpec], last_is_output: bool) -> int:
    """Wrap every hidden segment in a Residual, inside Repeat blocks too (all of whose rows are hidden)."""
    count = sum(_wrap_hidden(spec.layers, False) for spec in rows if spec.type == "Repeat")
    for start, end in reversed(_hidden_segments(rows, last_is_output)):
        wrap_rows(rows, [(i,) for i in range(start, end)], "Residual")
        count += 1
    return count


def _unwrap_residuals(rows: list[LayerSpec]) -> None:
    for index in reversed(range(len(rows))):
        _unwrap_residuals(rows[index].layers)
        if rows[index].type == "Residual":
            unwrap_row(rows, (index,))


def _shortcuts(project: Project, value: Any) -> Applied:
    layers = project.model.layers
    present = any(spec.type == "Residual" for _, spec in iter_rows(layers))
    on = _on_off(value, present, "shortcuts")
    if on and not present and not _wrap_hidden(layers, True):
        raise ConfigError("shortcuts go around hidden layers, and this network has none", field="vary")
    if not on:
        _unwrap_residuals(layers)
    return project, _word(present), _word(on)


def _word(on: bool) -> str:
    return "on" if on else "off"


for _variation in (
    Variation("init", "Initialisation", "a scheme: zeros, small_random, normal, xavier, he, or e.g. constant:value=2 "
              "(default: he, or xavier if the network already uses He)", _init),
    Variation("optimizer", "Optimizer", "e.g. sgd:lr=0.1,momentum=0.9 (default: sgd, or adam if it is sgd)",
              _optimizer),
    Variation("lr", "Learning rate", "the new learning rate (default: 10 times the current one)", _lr),
    Variation("batch_size", "Batch size", "the new batch size (default: 4 times the current one)", _batch_size),
    Variation("batchnorm", "Batch norm", "true or false (default: toggled); added after every hidden layer",
              _batchnorm),
    Variation("dropout", "Dropout", "the drop probability p, 0 for off (default: toggled, p=0.5 after every "
              "hidden activation)", _dropout),
    Variation("l2", "L2 weight decay", "the weight decay (default: 1e-3, or 0 if it is on)", _l2),
    Variation("depth", "Depth", "hidden layers to add (negative removes; default: +1, a copy of the last one)",
              _depth),
    Variation("shortcuts", "Shortcuts (residual blocks)", "true or false (default: toggled); on wraps each hidden "
              "weight layer, with its normalisation, in a Residual block and keeps its activation after the sum "
              "(ResNet's way); off unwraps every Residual", _shortcuts),
    Variation("preprocessing", "Preprocessing", "none, standardize, pixel_mean or channel_mean (default: "
              "pixel_mean, or channel_mean if it is pixel_mean)", _preprocessing),
):
    VARIATIONS.register(_variation.name, _variation)
