"""Optimizers as a registry: each entry exposes the real hyperparameters of a ``torch.optim`` class.

Defaults are PyTorch's own (a test compares them with the signatures) except where a help text
says why a learner is better served by another value. Parameters are grouped one group per
layer (rows inside blocks too) so that a layer can be frozen or given its own learning-rate multiplier.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from studio.core.backbone_net import Backbone
from studio.core.errors import ConfigError
from studio.core.layers import row_name
from studio.core.params import Param, resolve
from studio.core.project import Choice, LayerSpec
from studio.core.registry import Registry
from studio.core.tree import field_name, iter_rows
from studio.core.units import effective, model_units

ParamGroups = Iterable[dict[str, Any]] | Iterable[torch.Tensor]
Check = Callable[[dict[str, Any]], None]

# The optimizer line of the exported train.py; ``{cls}`` is the torch class, ``{args}`` the settings.
TORCH_CODE = "torch.optim.{cls}(groups, {args})"


@dataclass(frozen=True)
class OptimizerType:
    """A registered optimizer: its settings, its torch class and how ``train.py`` writes it.

    The settings are the torch class's keyword arguments, except that ``beta1``/``beta2`` are joined
    into ``betas``. ``check`` rejects combinations torch would refuse with a bare error; ``code`` is
    the template of the exported ``train.py``'s line (a class outside ``torch.optim`` brings its own).
    """

    name: str
    label: str
    description: str
    params: tuple[Param, ...]
    torch_class: type[torch.optim.Optimizer]
    check: Check | None = None
    code: str = TORCH_CODE

    def make(self, groups: ParamGroups, values: dict[str, Any]) -> torch.optim.Optimizer:
        """The optimizer over ``groups`` with validated ``values``."""
        if self.check is not None:
            self.check(values)
        return self.torch_class(groups, **torch_arguments(values))

    def source(self, values: dict[str, Any]) -> str:
        """The Python expression that builds this optimizer over ``groups`` in ``train.py``."""
        args = ", ".join(f"{k}={v!r}" for k, v in torch_arguments(values).items())
        return self.code.format(cls=self.torch_class.__name__, args=args)


def torch_arguments(values: dict[str, Any]) -> dict[str, Any]:
    """The settings as the torch class's keyword arguments (``beta1``/``beta2`` become ``betas``)."""
    kwargs = dict(values)
    if "beta1" in kwargs:
        kwargs["betas"] = (kwargs.pop("beta1"), kwargs.pop("beta2"))
    return kwargs


OPTIMIZERS: Registry[OptimizerType] = Registry("optimizer")


def _lr(default: float, why: str = "") -> Param:
    text = "Step size: how far the weights move against the gradient each batch."
    return Param("lr", "float", default, f"{text} {why}".strip(), min=1e-6, max=10.0, log=True, label="learning rate")


def _weight_decay(default: float = 0.0, help: str = "") -> Param:
    text = help or (
        "L2 penalty: adds weight_decay × w to every gradient, pulling the weights towards zero "
        "(0 switches it off; 1e-4 to 1e-2 are typical)."
    )
    return Param("weight_decay", "float", default, text, min=0.0, max=1.0, label="weight decay (L2)")


def _eps(default: float) -> Param:
    return Param("eps", "float", default, "Small number added to the denominator to avoid dividing by zero.",
                 min=1e-12, max=1.0, log=True)


def _betas() -> tuple[Param, Param]:
    return (
        Param("beta1", "float", 0.9, "Decay of the running mean of gradients (momentum); 0 switches it off.",
              min=0.0, max=0.9999, label="beta 1"),
        Param("beta2", "float", 0.999, "Decay of the running mean of squared gradients (per-weight step size).",
              min=0.0, max=0.99999, label="beta 2"),
    )


def _check_sgd(values: dict[str, Any]) -> None:
    # torch raises a bare ValueError here; a learner gets told which box to change instead.
    if values["nesterov"] and (values["momentum"] <= 0 or values["dampening"] != 0):
        raise ConfigError("optimizer sgd: Nesterov needs momentum above 0 and dampening 0", field="nesterov")


def register(kind: OptimizerType) -> OptimizerType:
    """Add an optimizer; everything else (GUI form, command line, schema, train.py) follows from the entry."""
    return OPTIMIZERS.register(kind.name, kind)


def _register(name: str, label: str, description: str, params: Sequence[Param],
              torch_class: type[torch.optim.Optimizer], check: Check | None = None) -> None:
    register(OptimizerType(name, label, description, tuple(params), torch_class, check))


_register(
    "sgd", "SGD",
    "Stochastic gradient descent: w ← w − lr·g. With momentum it keeps a running velocity of past "
    "gradients (heavy ball), which speeds it up along consistent directions and damps zig-zags.",
    (
        _lr(0.01, "Default 0.01 instead of PyTorch's 1e-3, which makes plain SGD crawl on small networks."),
        Param("momentum", "float", 0.0, "Fraction of the previous step kept each batch (0.9 is classic; "
              "0 = plain SGD).", min=0.0, max=0.999),
        Param("dampening", "float", 0.0, "Shrinks the current gradient's share of the velocity (usually 0).",
              min=0.0, max=1.0),
        _weight_decay(),
        Param("nesterov", "bool", False, "Nesterov momentum: evaluates the gradient after the momentum step "
              "(look-ahead). Needs momentum > 0 and dampening 0."),
    ),
    torch.optim.SGD, _check_sgd,
)
_register(
    "rmsprop", "RMSprop",
    "Divides each weight's gradient by a running root-mean-square of its recent gradients, so every "
    "weight gets its own step size.",
    (
        _lr(0.01),
        Param("alpha", "float", 0.99, "Smoothing of the running mean of squared gradients.", min=0.0, max=0.9999),
        _eps(1e-8),
        _weight_decay(),
        Param("momentum", "float", 0.0, "Momentum on the scaled steps (0 switches it off).", min=0.0, max=0.999),
        Param("centered", "bool", False, "Divide by the gradient's variance instead of its raw second moment."),
    ),
    torch.optim.RMSprop,
)
_register(
    "adam", "Adam",
    "Momentum (running mean of gradients) plus RMSprop-style per-weight step sizes, with bias correction "
    "for the first steps. A robust default.",
    (
        _lr(1e-3), *_betas(), _eps(1e-8),
        _weight_decay(help="L2 penalty added to the gradient before Adam's scaling (for decoupled decay use AdamW)."),
        Param("amsgrad", "bool", False, "Use the maximum of past squared-gradient averages (AMSGrad variant)."),
    ),
    torch.optim.Adam,
)
_register(
    "adamw", "AdamW",
    "Adam with decoupled weight decay: the weights shrink by lr × weight_decay directly, instead of the "
    "penalty being rescaled with the gradient. Usually regularises better than Adam + L2.",
    (
        _lr(1e-3), *_betas(), _eps(1e-8),
        _weight_decay(0.01, "Decoupled weight decay: each step multiplies the weights by (1 − lr × weight_decay)."),
        Param("amsgrad", "bool", False, "Use the maximum of past squared-gradient averages (AMSGrad variant)."),
    ),
    torch.optim.AdamW,
)
_register(
    "adagrad", "Adagrad",
    "Divides each weight's step by the root of the sum of all its past squared gradients: rarely "
    "updated weights keep large steps, the step size only ever shrinks.",
    (
        _lr(0.01),
        Param("lr_decay", "float", 0.0, "Learning-rate decay per step: lr / (1 + steps × lr_decay).", min=0.0, max=1.0),
        _weight_decay(),
        Param("initial_accumulator_value", "float", 0.0, "Starting value of the sum of squared gradients.",
              min=0.0, max=10.0, label="initial accumulator"),
        _eps(1e-10),
    ),
    torch.optim.Adagrad,
)
_register(
    "adadelta", "Adadelta",
    "Like RMSprop, but scales each step by a running RMS of past updates too, so it needs almost no "
    "learning-rate tuning (lr 1.0 is the intended value).",
    (
        _lr(1.0),
        Param("rho", "float", 0.9, "Smoothing of the running averages of squared gradients and updates.",
              min=0.0, max=1.0),
        _eps(1e-6),
        _weight_decay(),
    ),
    torch.optim.Adadelta,
)
_register(
    "adamax", "Adamax",
    "Adam with the infinity norm: divides by the running maximum of gradient sizes instead of their RMS.",
    (_lr(2e-3), *_betas(), _eps(1e-8), _weight_decay()),
    torch.optim.Adamax,
)
_register(
    "nadam", "NAdam",
    "Adam with Nesterov momentum: the momentum part looks one step ahead.",
    (
        _lr(2e-3), *_betas(), _eps(1e-8), _weight_decay(),
        Param("momentum_decay", "float", 4e-3, "How fast the Nesterov momentum schedule warms up.",
              min=0.0, max=1.0, label="momentum decay"),
        Param("decoupled_weight_decay", "bool", False, "Apply weight decay AdamW-style (decoupled) instead of as L2.",
              label="decoupled decay"),
    ),
    torch.optim.NAdam,
)
_register(
    "radam", "RAdam",
    "Rectified Adam: behaves like SGD with momentum for the first steps, while the variance estimate is "
    "still unreliable, then like Adam. A built-in warm-up.",
    (
        _lr(1e-3), *_betas(), _eps(1e-8), _weight_decay(),
        Param("decoupled_weight_decay", "bool", False, "Apply weight decay AdamW-style (decoupled) instead of as L2.",
              label="decoupled decay"),
    ),
    torch.optim.RAdam,
)


def param_groups(model: nn.Sequential, layers: Sequence[LayerSpec], base_lr: float) -> list[dict[str, Any]]:
    """One optimizer group per row that has trainable weights, rows inside blocks included (``units``):
    lr = base_lr × its lr_mult × those of the blocks around it; frozen rows (and rows in frozen blocks) left out.

    Each group also carries ``"layer"`` (the row's index among ``model_units``, the trainer's layer names)
    so plots can name it.
    """
    if len(model) != len(layers):
        raise ValueError(f"the model has {len(model)} modules but the project lists {len(layers)} layers")
    for path, spec in iter_rows(layers):
        mult = spec.lr_mult
        if isinstance(mult, bool) or not isinstance(mult, (int, float)) or not math.isfinite(mult) or mult < 0:
            raise ConfigError(f"{row_name(path, spec.type)}: the learning-rate multiplier must be 0 or more; got "
                              f"{mult!r}", field=f"{field_name(path)}.lr_mult")
    units = model_units(model, layers)
    groups = []
    for index, (unit, (frozen, mult)) in enumerate(zip(units, effective(units, layers), strict=True)):
        params = [p for p in unit.own if p.requires_grad]
        if not params or frozen:
            continue
        if isinstance(unit.module, Backbone):  # one group per stage: early stages learn more slowly
            groups += [{**group, "layer": index} for group in unit.module.lr_groups(base_lr * mult)]
        else:
            groups.append({"params": params, "lr": base_lr * mult, "layer": index})
    if not groups:
        raise ConfigError("nothing to train: no layer has trainable weights (are they all frozen?)", field="layers")
    return groups


def build_optimizer(choice: Choice, groups: ParamGroups) -> torch.optim.Optimizer:
    """Validate the choice's settings and build the optimizer over ``groups`` (groups keep their own lr)."""
    kind = OPTIMIZERS.get(choice.name)
    values = resolve(kind.params, choice.params, f"optimizer {kind.name}")
    return kind.make(groups, values)


def optimizer_lr(choice: Choice) -> float:
    """The choice's validated learning rate (its default when unset): the ``base_lr`` of :func:`param_groups`."""
    kind = OPTIMIZERS.get(choice.name)
    return float(resolve(kind.params, choice.params, f"optimizer {kind.name}")["lr"])


def build_model_optimizer(choice: Choice, model: nn.Sequential, layers: Sequence[LayerSpec]) -> torch.optim.Optimizer:
    """The usual path: per-layer groups at the choice's learning rate, then :func:`build_optimizer`."""
    return build_optimizer(choice, param_groups(model, layers, optimizer_lr(choice)))


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """The first group's learning rate, for plots and logs."""
    return float(optimizer.param_groups[0]["lr"])
