"""``train.py`` of the python export: the same training configuration, written out in plain PyTorch.

It trains ``model.py``'s network from the exact initial weights the studio started from
(``initial-weights.pt``, so every initialisation scheme is reproduced without re-implementing
it), on the exact split the studio trained on (``data.npz``, preprocessed), with the same
optimizer, per-layer learning rates, frozen layers, loss, schedule, epochs, batch size and seed.
Optimizers, losses and schedules are written from the ``code`` their registry entries carry.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from studio.core.backbone_net import Backbone
from studio.core.build import build_model
from studio.core.errors import StudioError
from studio.core.export.source import ExportSource
from studio.core.export.verify import ExportError
from studio.core.optim import LOSSES, OPTIMIZERS, SCHEDULES, LossType, ScheduleType, parse_milestones
from studio.core.params import resolve
from studio.core.units import Unit, effective, model_units
from studio.core.vocab import Interval

TRAIN_FILE = "train.py"
INITIAL_WEIGHTS_FILE = "initial-weights.pt"
DATA_FILE = "data.npz"
# Larger training sets are not copied into the export; train.py then says how to supply them.
MAX_DATA_BYTES = 64 * 2**20

def write_training(source: ExportSource, folder: Path) -> list[Path]:
    """Write ``train.py``, the initial weights and (when small enough) the training data into ``folder``."""
    project = source.project
    initial = build_model(project.model, source.info.input_shape, project.training.seed)
    files = [folder / TRAIN_FILE, folder / INITIAL_WEIGHTS_FILE]
    torch.save({k: v.detach().contiguous() for k, v in initial.state_dict().items()}, files[1])
    data = _data_arrays(source)
    if data is not None:
        np.savez_compressed(folder / DATA_FILE, allow_pickle=False, **data)
        files.append(folder / DATA_FILE)
    files[0].write_text(train_source(source), encoding="utf-8")
    return files


def train_source(source: ExportSource) -> str:
    """The text of ``train.py``."""
    project, training = source.project, source.project.training
    optimizer = OPTIMIZERS.get(project.optimizer.name)
    values = resolve(optimizer.params, project.optimizer.params, f"optimizer {optimizer.name}")
    groups, frozen = _groups(source, values["lr"])
    schedule = SCHEDULES.get(project.schedule.name)
    return _TEMPLATE.format(
        name=project.name,
        epochs=training.epochs,
        batch_size=training.batch_size,
        seed=training.seed,
        shuffle=training.shuffle,
        task=source.info.task,
        frozen=frozen,
        groups="\n".join(groups),
        optimizer=optimizer.source(values),
        loss=_code(LOSSES.get(project.loss.name), project.loss.params, "loss"),
        schedule=_code(schedule, project.schedule.params, "schedule", epochs=training.epochs),
        batch_step=_step_line(schedule, Interval.BATCH, "            "),
        epoch_step=_step_line(schedule, Interval.EPOCH, "        "),
    )


def _groups(source: ExportSource, lr: float) -> tuple[list[str], list[str]]:
    """The optimizer's groups (one per trainable row, rows inside blocks too, at lr × its multipliers) and the
    names of the frozen rows' modules. A top-level row is ``model[i]``, a nested one ``model.get_submodule(name)``.
    """
    layers = source.project.model.layers
    units = model_units(source.model, layers)
    module_names = {id(module): name for name, module in source.model.named_modules()}
    lines, frozen = [], []
    for unit, (is_frozen, mult) in zip(units, effective(units, layers), strict=True):
        name = module_names[id(unit.module)]
        if unit.spec is not None and unit.spec.frozen:
            frozen.append(name)
        if is_frozen or not unit.own:
            continue
        if isinstance(unit.module, Backbone):  # one group per stage, early stages slower (Backbone.lr_groups)
            lines.append(f"        *{_module_code(name)}.lr_groups({lr * mult!r}),  # {unit.label}: "
                         f"{unit.module.early_lr:g} × {mult:g} × lr for the first stage, {mult:g} × lr for the last")
            continue
        lines.append(f"        {{'params': {_params_code(source.model, unit, name)}, 'lr': {lr * mult!r}}},"
                     f"  # {unit.label}: {mult:g} × lr")
    return lines, frozen


def _params_code(model: nn.Module, unit: Unit, name: str) -> str:
    """Code for the parameters a row owns: all of its module's, or (a block) those of the sub-module holding them."""
    own = {id(p) for p in unit.own}
    for sub_name, sub in unit.module.named_modules():
        if {id(p) for p in sub.parameters()} == own:
            full = ".".join(part for part in (name, sub_name) if part)
            return f"{_module_code(full)}.parameters()"
    names = [n for n, p in model.named_parameters() if id(p) in own]
    return f"[model.get_parameter(name) for name in {names!r}]"


def _module_code(name: str) -> str:
    """Code for the module called ``name`` in the model: ``model[2]``, or ``model.get_submodule('2.0.1')``."""
    return f"model[{name}]" if name.isdigit() else f"model.get_submodule({name!r})"


def _step_line(schedule: ScheduleType, interval: Interval, indent: str) -> str:
    """The scheduler call for the loop at ``interval`` (batch or epoch), or nothing."""
    if schedule.name == "none" or schedule.interval != interval:
        return ""
    return f"\n{indent}schedule.step({'val_loss' if schedule.needs_metric else ''})"


def _code(entry: LossType | ScheduleType, params: dict[str, Any], what: str, epochs: int = 0) -> str:
    """The entry's ``code`` filled with its validated settings."""
    if entry.code is None:
        raise ExportError(f"train.py cannot be written: the {what} {entry.name!r} has no PyTorch equivalent listed")
    values = resolve(entry.params, params, f"{what} {entry.name}")
    extra = {"values": values, "cycle": values.get("cycle_epochs") or epochs}
    if "milestones" in values:
        extra["milestone_list"] = parse_milestones(values["milestones"])
    return entry.code.format(**values, **extra)


def _data_arrays(source: ExportSource) -> dict[str, np.ndarray] | None:
    """The preprocessed train/validation split as numpy arrays, or None (with a warning) when not shipped."""
    data = source.data
    if data is None:
        from studio.core.data import prepare_data

        try:
            data = prepare_data(source.project.data)
        except StudioError as exc:
            warnings.warn(f"train.py will need your data: it could not be prepared here ({exc})", stacklevel=2)
            return None
    if getattr(data, "streaming", False) or data.x_train is None:
        warnings.warn("train.py will need your data: streamed image folders are not copied into exports", stacklevel=2)
        return None
    arrays = {name: getattr(data, name).numpy() for name in ("x_train", "y_train", "x_val", "y_val")}
    if sum(a.nbytes for a in arrays.values()) > MAX_DATA_BYTES:
        warnings.warn("train.py will need your data: the dataset is too large to copy into the export", stacklevel=2)
        return None
    return arrays


_TEMPLATE = '''"""Train "{name}" again in plain PyTorch, with the settings it had in Training Studio.

Starts from the same initial weights (initial-weights.pt) and the same preprocessed split (data.npz),
then writes retrained-weights.pt. Usage: python train.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F
from torch.optim import lr_scheduler

from model import build_model

HERE = Path(__file__).resolve().parent
EPOCHS = {epochs}
BATCH_SIZE = {batch_size}
SEED = {seed}
SHUFFLE = {shuffle}
TASK = "{task}"
FROZEN_LAYERS = {frozen}


def load_data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """x_train, y_train, x_val, y_val, already preprocessed as in the studio."""
    path = HERE / "data.npz"
    if not path.is_file():
        raise SystemExit("data.npz is missing: load your data here as preprocessed tensors (see model.preprocess)")
    data = np.load(path)
    return tuple(torch.from_numpy(data[name]) for name in ("x_train", "y_train", "x_val", "y_val"))


def targets_like(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Regression targets as they are; class labels as a 0/1 column (one output) or one-hot rows."""
    if y.is_floating_point():
        return y.to(output.dtype)
    if output.shape[1] == 1:
        return y.to(output.dtype).unsqueeze(1)
    return F.one_hot(y, output.shape[1]).to(output.dtype)


def perceptron_loss(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """mean(max(0, -y·f(x))) with y = ±1 for one output (y·f(x) <= 0 is a mistake); mean(max_j f_j - f_y) else."""
    if output.shape[1] == 1:
        margin = (y.to(output.dtype) * 2 - 1) * output[:, 0]
        return ((margin <= 0).to(output.dtype) * -margin).mean()
    return (output.max(dim=1).values - output.gather(1, y.unsqueeze(1))[:, 0]).mean()


def loss_fn(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return {loss}


def make_optimizer(model: torch.nn.Sequential) -> torch.optim.Optimizer:
    """One parameter group per trainable layer (rows inside blocks too), with its learning-rate multiplier;
    frozen layers (and the rows of frozen blocks) left out."""
    for name in FROZEN_LAYERS:
        model.get_submodule(name).requires_grad_(False)
    groups = [
{groups}
    ]
    return {optimizer}


def make_schedule(optimizer: torch.optim.Optimizer, steps_per_epoch: int):
    return {schedule}


def evaluate(model: torch.nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float | None]:
    model.eval()
    with torch.no_grad():
        output = model(x)
        accuracy = None
        if TASK == "classification":
            predicted = (output[:, 0] > 0).long() if output.shape[1] == 1 else output.argmax(1)
            accuracy = (predicted == y).float().mean().item()
        return loss_fn(output, y).item(), accuracy


def epoch_order(n: int, epoch: int) -> torch.Tensor:
    """The sample order of ``epoch`` (from 0), the same as Training Studio's, so the run can be repeated exactly."""
    if not SHUFFLE:
        return torch.arange(n)
    state = np.random.SeedSequence([SEED & 0xFFFFFFFF, epoch]).generate_state(2, dtype=np.uint32)
    return torch.randperm(n, generator=torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1])))


def main() -> None:
    x_train, y_train, x_val, y_val = load_data()
    model = build_model()
    model.load_state_dict(torch.load(HERE / "initial-weights.pt", weights_only=True))
    optimizer = make_optimizer(model)
    steps_per_epoch = -(-len(x_train) // BATCH_SIZE)
    schedule = make_schedule(optimizer, steps_per_epoch)
    torch.manual_seed(SEED)  # dropout draws the same random numbers as in the studio
    for epoch in range(EPOCHS):
        model.train()
        order = epoch_order(len(x_train), epoch)
        for start in range(0, len(x_train), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step(){batch_step}
        val_loss, val_acc = evaluate(model, x_val, y_val) if len(x_val) else (loss.item(), None){epoch_step}
        accuracy = "" if val_acc is None else f", val accuracy {{val_acc:.3f}}"
        print(f"epoch {{epoch + 1}}/{{EPOCHS}}: loss {{loss.item():.4f}}, val loss {{val_loss:.4f}}{{accuracy}}")
    torch.save(model.state_dict(), HERE / "retrained-weights.pt")


if __name__ == "__main__":
    main()
'''
