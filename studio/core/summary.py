"""Short texts about a project for lists and titles: the network in a few words, a derived name.

The run history's Network column ("Conv2d×2 → Linear 10, 61k params") and the name a project gets
while the learner has not named it ("digits: Linear 128 → Linear 10"), so a run folder and a model
card say what was built instead of the name of the preset it started from.
"""

from __future__ import annotations

from collections.abc import Iterable

from studio.core.layers import LAYERS, LayerRole
from studio.core.params import defaults
from studio.core.project import LayerSpec, Project


def derived_name(project: Project) -> str:
    """A name for a project the learner has not named: its dataset and its network."""
    return f"{project.data.dataset}: {network_summary(project)}"


def network_summary(project: Project, params: int | None = None) -> str:
    """A short description of the network, e.g. ``"Conv2d×2 → Linear 10, 61k params"``.

    Only the layers that carry weights (and blocks) are named; runs of the same type are counted,
    and the last one, which makes the output, is always named with its size.
    """
    groups: list[tuple[str, int, str]] = []  # (type, count, key setting of the last one)
    weighted = list(_weighted(project.model.layers))
    for index, spec in enumerate(weighted):
        key = _key_setting(spec)
        if groups and groups[-1][0] == spec.type and index < len(weighted) - 1:
            groups[-1] = (spec.type, groups[-1][1] + 1, key)
        else:
            groups.append((spec.type, 1, key))
    parts = [f"{name}×{count}" if count > 1 else f"{name} {key}".strip() for name, count, key in groups]
    text = " → ".join(parts) or "no weighted layers"
    return f"{text}, {format_count(params)} params" if params is not None else text


def format_count(n: int) -> str:
    """``950`` -> ``"950"``, ``61_234`` -> ``"61k"``, ``1_250_000`` -> ``"1.2M"``."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k" if n < 10_000 else f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def _weighted(layers: Iterable[LayerSpec]) -> Iterable[LayerSpec]:
    for spec in layers:
        if spec.type not in LAYERS:
            continue
        kind = LAYERS.get(spec.type)
        if kind.role == LayerRole.WEIGHTED or kind.block is not None:
            yield spec


def _key_setting(spec: LayerSpec) -> str:
    kind = LAYERS.get(spec.type)
    if kind.block is not None or not kind.key_params:
        return ""
    return kind.summary({**defaults(kind.params), **spec.params})


