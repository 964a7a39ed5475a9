"""Resuming a saved run with new optimizer settings: e.g. a lower learning rate for the last epochs.

A checkpoint holds the optimizer's state, learning rates included, so a plain resume restores the old
rate whatever the project now says. :func:`retune_state` rewrites the saved state so that the project's
changed optimizer settings win, while the run's progress stays: each group's rate (and the schedule's
base rates) is scaled by new/old, so a rate a schedule had already lowered keeps its place in the
schedule, and per-layer multipliers keep their ratio. Only settings that leave the saved state
meaningful may change: the optimizer's parameters and the training settings.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from studio.core.callbacks import Callback
from studio.core.checkpoint import Checkpoint
from studio.core.errors import ConfigError
from studio.core.events import FitEnd
from studio.core.optim import OPTIMIZERS
from studio.core.params import resolve
from studio.core.project import Project

# Parts of a project a resumed run may change; anything else would not fit the saved state.
RESUMABLE = ("optimizer.params", "training")
# Optimizer-group and schedule keys that hold learning rates (scaled by new/old rather than replaced).
_GROUP_RATES = ("lr", "initial_lr", "max_lr", "min_lr")
_SCHEDULE_RATES = ("base_lrs", "_last_lr")


def _changed(old: Any, new: Any, path: str) -> list[str]:
    """Paths (``optimizer.params.lr``) at which two JSON-like values differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [p for key in dict.fromkeys([*old, *new]) for p in _changed(old.get(key), new.get(key), f"{path}.{key}")]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [p for i, (a, b) in enumerate(zip(old, new, strict=True)) for p in _changed(a, b, f"{path}[{i}]")]
    return [] if old == new else [path]


def check_resumable(old: Project, new: Project) -> None:
    """A ConfigError naming the first change a resumed run cannot take (its network, data, loss...)."""
    before, after = old.to_dict(), new.to_dict()
    for key in dict.fromkeys([*before, *after]):
        for path in _changed(before.get(key), after.get(key), key):
            if not path.startswith(RESUMABLE):
                raise ConfigError(
                    f"a resumed run cannot change {path}: its saved state belongs to the old setting; only "
                    "optimizer.params.* and training.* can change (start a new run with --init-from instead)",
                    field=path)


def optimizer_changes(old: Project, new: Project) -> list[str]:
    """Readable changes of the optimizer's settings: ``["lr 0.01 (was 0.1)"]``."""
    kind = OPTIMIZERS.get(new.optimizer.name)
    before = resolve(kind.params, old.optimizer.params, f"optimizer {kind.name}")
    after = resolve(kind.params, new.optimizer.params, f"optimizer {kind.name}")
    return [f"{name} {after[name]:g} (was {before[name]:g})" if isinstance(after[name], float)
            else f"{name} {after[name]} (was {before[name]})" for name in after if after[name] != before[name]]


def retune_state(state: dict[str, Any], old_groups: list[dict[str, Any]],
                 new_groups: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of a saved training ``state`` whose optimizer takes the new groups' settings.

    ``old_groups``/``new_groups`` are the ``param_groups`` of fresh optimizers built from the old and
    the new project: a setting that differs between them is the change to apply. Rates are scaled by
    new/old; other settings (momentum, weight decay, betas) are replaced.
    """
    state = copy.deepcopy(state)
    saved_groups = state["optimizer"]["param_groups"]
    if len(saved_groups) != len(old_groups) or len(old_groups) != len(new_groups):
        raise ConfigError("the saved optimizer has other parameter groups than this project builds", field="optimizer")
    ratios = [new["lr"] / old["lr"] for old, new in zip(old_groups, new_groups, strict=True)]
    for saved, old, new, ratio in zip(saved_groups, old_groups, new_groups, ratios, strict=True):
        for key in _GROUP_RATES:
            if key in saved:
                saved[key] *= ratio
        for key, value in new.items():
            if key != "params" and key not in _GROUP_RATES and old.get(key) != value:
                saved[key] = value
    schedule = state.get("schedule") or {}
    for key in _SCHEDULE_RATES:
        if isinstance(schedule.get(key), list):
            schedule[key] = [value * ratio for value, ratio in zip(schedule[key], ratios, strict=True)]
    return state


def resume_changed(checkpoint: Checkpoint, project: Project, callbacks: Iterable[Callback] = (),
                   data: Any = None) -> tuple[Any, FitEnd]:
    """Continue ``checkpoint``'s run under ``project`` (the checkpoint's project with changed settings)."""
    from studio.core.engine import Trainer

    check_resumable(checkpoint.project, project)
    trainer = Trainer(project, data, callbacks)
    return trainer, trainer.fit(resume=retuned_state(checkpoint, trainer))


def retuned_state(checkpoint: Checkpoint, trainer: Any) -> dict[str, Any]:
    """The saved state for ``trainer``, built from the checkpoint's project with changed optimizer settings."""
    from studio.core.engine import Trainer

    check_resumable(checkpoint.project, trainer.project)
    old = Trainer(checkpoint.project, trainer.data)
    return retune_state(checkpoint.state, old.optimizer.state_dict()["param_groups"],
                        trainer.optimizer.state_dict()["param_groups"])
