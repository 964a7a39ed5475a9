"""Weight initialisation as a choice: named schemes for weight matrices and for biases, per network and per layer.

Schemes apply to layers with a weight matrix or filter bank (Linear, Conv2d); normalisation layers keep
their own start values (scale 1, shift 0). Every draw comes from a ``torch.Generator`` so a project seed
gives identical weights on every run, independent of anything else that used torch's global random state.
``values`` is the exception that draws nothing: one layer's weights (and optionally bias) typed in, so a
learner can start from the numbers of a hand calculation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import nn

from studio.core import backbone
from studio.core.errors import ConfigError
from studio.core.layers import LAYERS, LayerRole, LayerSettingError, as_path, row_name
from studio.core.params import Param, array_shape, resolve
from studio.core.project import LayerSpec, ModelSpec
from studio.core.registry import Registry
from studio.core.tree import Path, field_name, iter_rows, row_at

WeightFn = Callable[[torch.Tensor, dict[str, Any], torch.Generator], Any]
BiasFn = Callable[[torch.Tensor, torch.Tensor, dict[str, Any], torch.Generator], Any]


@dataclass(frozen=True)
class InitScheme:
    """A way to fill a weight tensor (``apply(weight, params, generator)``), shown in the GUI by ``label``.

    ``layer_only`` schemes fit one layer's shape (typed values), so the network cannot use them for every
    layer. ``bias``, when given, fills the bias itself whenever the params hold one (see :meth:`own_bias`).
    """

    name: str
    label: str
    description: str
    params: tuple[Param, ...]
    apply: WeightFn
    layer_only: bool = False
    bias: BiasFn | None = None

    def own_bias(self, params: dict[str, Any]) -> bool:
        """True when this scheme sets the bias from ``params`` instead of the network's bias initialisation."""
        return self.bias is not None and params.get("bias") is not None


@dataclass(frozen=True)
class BiasInit:
    """A way to fill a bias; ``apply(bias, weight, params, generator)`` sees the weight for its fan-in."""

    name: str
    label: str
    description: str
    params: tuple[Param, ...]
    apply: BiasFn


INITS: Registry[InitScheme] = Registry("weight initialisation")
BIAS_INITS: Registry[BiasInit] = Registry("bias initialisation")

_NONLINEARITIES = ("relu", "leaky_relu", "tanh", "sigmoid", "selu", "linear")


def _gain() -> Param:
    return Param("gain", "float", 1.0, "Multiplies the scale; use nn.init.calculate_gain of the activation.",
                 min=0.01, max=10.0)


def _kaiming_params() -> tuple[Param, ...]:
    return (
        Param("nonlinearity", "choice", "relu", "The activation that follows the layer; sets the gain.",
              choices=_NONLINEARITIES),
        Param("mode", "choice", "fan_in", "fan_in keeps forward activations stable, fan_out backward gradients.",
              choices=("fan_in", "fan_out")),
        Param("negative_slope", "float", 0.01, "Slope of leaky_relu (only used for that nonlinearity).",
              min=0.0, max=1.0),
    )


def _kaiming(fill: Callable[..., Any]) -> WeightFn:
    return lambda w, p, g: fill(w, a=p["negative_slope"] if p["nonlinearity"] == "leaky_relu" else 0,
                                mode=p["mode"], nonlinearity=p["nonlinearity"], generator=g)


def _fan_in(weight: torch.Tensor) -> int:
    return weight.shape[1] * math.prod(weight.shape[2:])


def _scheme(name: str, label: str, description: str, apply: WeightFn, params: tuple[Param, ...] = ()) -> None:
    INITS.register(name, InitScheme(name, label, description, params, apply))


def _typed(tensor: torch.Tensor, values: list[Any]) -> None:
    """Copy typed values into ``tensor`` (their shape was checked by :func:`check_values`)."""
    tensor.copy_(torch.tensor(values, dtype=tensor.dtype).reshape(tensor.shape))


# PyTorch's own reset_parameters for Linear and Conv2d, redone with our generator so it is seeded.
_scheme("default", "PyTorch default", "Uniform in ±1/√fan_in (what torch.nn does on its own).",
        lambda w, p, g: nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=g))
_scheme("zeros", "Zeros", "All weights 0: every neuron stays identical, so the network cannot learn (try it).",
        lambda w, p, g: nn.init.zeros_(w))
_scheme("constant", "Constant", "All weights the same value: neurons stay identical (symmetry is never broken).",
        lambda w, p, g: nn.init.constant_(w, p["value"]),
        (Param("value", "float", 0.1, "The value of every weight.", min=-10.0, max=10.0),))
_scheme("small_random", "Small random N(0, 0.01²)", "Tiny random weights: signals shrink layer by layer.",
        lambda w, p, g: nn.init.normal_(w, 0.0, 0.01, generator=g))
_scheme("normal", "Naive N(0, 1)", "Standard normal weights: signals explode in wide or deep networks.",
        lambda w, p, g: nn.init.normal_(w, 0.0, p["std"], generator=g),
        (Param("std", "float", 1.0, "Standard deviation of the weights.", min=1e-6, max=100.0, log=True),))
_scheme("xavier_uniform", "Xavier/Glorot uniform", "Variance 2/(fan_in+fan_out): suits tanh and sigmoid.",
        lambda w, p, g: nn.init.xavier_uniform_(w, gain=p["gain"], generator=g), (_gain(),))
_scheme("xavier_normal", "Xavier/Glorot normal", "Normal with std √(2/(fan_in+fan_out)): suits tanh and sigmoid.",
        lambda w, p, g: nn.init.xavier_normal_(w, gain=p["gain"], generator=g), (_gain(),))
_scheme("kaiming_uniform", "He/Kaiming uniform", "Variance 2/fan_in for ReLU: keeps signals steady in deep ReLU nets.",
        _kaiming(nn.init.kaiming_uniform_), _kaiming_params())
_scheme("kaiming_normal", "He/Kaiming normal", "Normal with std √(2/fan_in) for ReLU networks.",
        _kaiming(nn.init.kaiming_normal_), _kaiming_params())
_scheme("orthogonal", "Orthogonal", "A random rotation: preserves the length of signals exactly (times gain).",
        lambda w, p, g: nn.init.orthogonal_(w, gain=p["gain"], generator=g), (_gain(),))
INITS.register("values", InitScheme(
    "values", "Typed values", "This layer's weights (and bias) exactly as typed, e.g. a hand calculation's start.",
    (Param("weight", "array", None, "One row per output, one number per input (a Linear layer's outputs × inputs)."),
     Param("bias", "array", None, "One number per output; off means the network's bias initialisation.",
           optional=True)),
    lambda w, p, g: _typed(w, p["weight"]), layer_only=True, bias=lambda b, w, p, g: _typed(b, p["bias"]),
))


def _default_bias(bias: torch.Tensor, weight: torch.Tensor, params: dict[str, Any], g: torch.Generator) -> None:
    bound = 1 / math.sqrt(_fan_in(weight))
    nn.init.uniform_(bias, -bound, bound, generator=g)


for _bias in (
    BiasInit("zeros", "Zeros", "All biases start at 0 (the usual choice).", (), lambda b, w, p, g: nn.init.zeros_(b)),
    BiasInit("default", "PyTorch default", "Uniform in ±1/√fan_in (what torch.nn does on its own).", (),
             _default_bias),
    BiasInit("constant", "Constant", "All biases the same small value, e.g. to keep ReLUs active at the start.",
             (Param("value", "float", 0.01, "The value of every bias.", min=-10.0, max=10.0),),
             lambda b, w, p, g: nn.init.constant_(b, p["value"])),
):
    BIAS_INITS.register(_bias.name, _bias)


def _lookup(registry: Registry[Any], name: str, field: str) -> Any:
    """``registry.get`` with the error pointing at the ModelSpec field."""
    try:
        return registry.get(name)
    except ConfigError as exc:
        raise ConfigError(str(exc), field=field) from None


def _settings(values: Any, field: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ConfigError(f"{field} must be a JSON object, not {values!r}", field=field)
    return values


def _resolved(params: tuple[Param, ...], values: dict[str, Any], owner: str, field: str) -> dict[str, Any]:
    """``resolve`` with the error's field under ``field`` (``init_params.value``)."""
    try:
        return resolve(params, values, owner)
    except ConfigError as exc:
        raise ConfigError(str(exc), field=f"{field}.{exc.field}") from None


def _network_scheme(spec: ModelSpec) -> tuple[InitScheme, dict[str, Any], BiasInit, dict[str, Any]]:
    """The network-wide weight scheme and bias init with their resolved parameters (ConfigError if invalid)."""
    for name, value in (("init", spec.init), ("bias_init", spec.bias_init)):
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be the name of a scheme, not {value!r}", field=name)
    scheme = _lookup(INITS, spec.init, "init")
    if scheme.layer_only:
        raise ConfigError(f"{scheme.label} fit one layer's shape: choose '{scheme.name}' as a layer's own "
                          "initialisation, and another scheme for the network", field="init")
    params = _resolved(scheme.params, _settings(spec.init_params, "init_params"), scheme.label, "init_params")
    bias = _lookup(BIAS_INITS, spec.bias_init, "bias_init")
    bias_params = _resolved(bias.params, _settings(spec.bias_init_params, "bias_init_params"), f"{bias.label} bias",
                            "bias_init_params")
    return scheme, params, bias, bias_params


@dataclass(frozen=True)
class RowInit:
    """A row's scheme and complete settings, plus the settings given explicitly along its path (the network's
    ``init_params``, then each block's and the row's own), which a row inside it with another scheme draws on.
    """

    scheme: InitScheme
    params: dict[str, Any]
    given: dict[str, Any]


def _network_init(spec: ModelSpec) -> RowInit:
    scheme, params, _, _ = _network_scheme(spec)
    return RowInit(scheme, params, spec.init_params if isinstance(spec.init_params, dict) else {})


def _layer_scheme(row: LayerSpec, path: Path, inherited: RowInit) -> RowInit:
    """The initialisation of the row at ``path``: its own ``init`` or ``inherited`` (its block's, else the
    network's), with its own ``init_params``.

    The row's ``init_params`` come first; settings it leaves out are taken from those given above it (the
    network's ``init_params``, a block's) when its scheme knows them (e.g. a shared ``nonlinearity``), else
    from the scheme's defaults. Typed ``values`` fit one layer, so a block cannot take them.
    """
    name = row.init
    if (name is None or name == inherited.scheme.name) and isinstance(row.init_params, dict) and not row.init_params:
        return inherited  # the usual case, decided before any message is worded
    where, prefix = row_name(path, row.type), field_name(path)
    own = _settings(row.init_params, f"{prefix}.init_params")
    if name is not None and (not isinstance(name, str) or name not in INITS):
        message = f"{where}: unknown weight initialisation {name!r}; choose one of: {', '.join(INITS.names())}"
        raise LayerSettingError(message, path, row.type, f"{prefix}.init")
    scheme = INITS.get(name) if name is not None else inherited.scheme
    if scheme.layer_only and row.layers:
        raise LayerSettingError(f"{where}: {scheme.label} fit one layer's shape; choose them for a row inside the "
                                "block", path, row.type, f"{prefix}.init")
    known = {p.name for p in scheme.params}
    given = {**{k: v for k, v in inherited.given.items() if k in known}, **own}
    try:
        return RowInit(scheme, resolve(scheme.params, given, where), given)
    except ConfigError as exc:
        raise LayerSettingError(str(exc), path, row.type, f"{prefix}.init_params.{exc.field}") from None


def check_init(spec: ModelSpec) -> None:
    """Validate the network's and every row's initialisation, inside blocks too; raises ConfigError /
    LayerSettingError.
    """
    row_inits(spec)


def row_inits(spec: ModelSpec) -> dict[Path, RowInit]:
    """Every row's initialisation by path (a row inherits its block's); raises like :func:`check_init`."""
    inits: dict[Path, RowInit] = {}
    network = _network_init(spec)
    for path, row in iter_rows(spec.layers):
        inits[path] = _layer_scheme(row, path, inits[path[:-1]] if len(path) > 1 else network)
    return inits


# How the dimensions of a weight are named in messages, by its number of dimensions.
_WEIGHT_AXES = {1: "outputs", 2: "outputs × inputs", 3: "filters × input channels × width",
                4: "filters × input channels × height × width"}


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape) or "a single number"


def layer_init(spec: ModelSpec, where: int | Path) -> tuple[InitScheme, dict[str, Any]]:
    """The scheme and complete settings of the row at ``where`` (an index or a path); ConfigError /
    LayerSettingError when invalid.
    """
    path = as_path(where)
    inherited = _network_init(spec)
    for depth in range(1, len(path) + 1):
        inherited = _layer_scheme(row_at(spec.layers, path[:depth]), path[:depth], inherited)
    return inherited.scheme, inherited.params


def check_values(spec: ModelSpec, where: int | Path, module: nn.Module) -> None:
    """Raise a :class:`LayerSettingError` when the typed values of the row at ``where`` do not fit ``module``'s
    weights. ``module`` may live on the meta device (``shapes.check_model`` checks before anything is built).
    """
    path = as_path(where)
    _check_values(row_at(spec.layers, path), path, module, *layer_init(spec, path))


def _check_values(row: LayerSpec, path: Path, module: nn.Module, scheme: InitScheme, params: dict[str, Any]) -> None:
    if not scheme.layer_only:
        return
    layer_type, where, prefix = row.type, row_name(path, row.type), field_name(path)
    field = f"{prefix}.init_params"
    if not _weighted(module):
        raise LayerSettingError(f"{where} has no weights to type in; choose typed values only for a layer with "
                                "weights (Linear, Conv2d)", path, layer_type, f"{prefix}.init")
    for name, values in (("weight", params["weight"]), ("bias", params.get("bias"))):
        if values is None:
            continue
        tensor = getattr(module, name, None)
        if not isinstance(tensor, nn.Parameter):
            raise LayerSettingError(f"{where} has no {name} (its bias setting is off); remove the typed {name}",
                                    path, layer_type, f"{field}.{name}")
        typed, expected = array_shape(values), tuple(tensor.shape)
        if typed != expected:
            axes = _WEIGHT_AXES.get(len(expected), "") if name == "weight" else "outputs"
            raise LayerSettingError(
                f"{where}: the typed {name} has shape {_dims(typed)}, but this layer's {name} is {_dims(expected)}"
                f" ({axes})", path, layer_type, f"{field}.{name}")


def _weighted(module: nn.Module) -> bool:
    """Layers with a weight matrix or filter bank; 1-d weights (normalisation scales) keep their own start."""
    weight = getattr(module, "weight", None)
    return isinstance(weight, nn.Parameter) and weight.dim() >= 2


@dataclass(frozen=True)
class _Bias:
    """The network's bias initialisation, for every row that does not type its own."""

    init: BiasInit
    params: dict[str, Any]


def apply_init(model: nn.Sequential, spec: ModelSpec, generator: torch.Generator) -> None:
    """Initialise the weights and biases of ``model`` (one module per row of ``spec.layers``) in place.

    Each row draws from its own generator seeded from ``generator``, so changing one row's scheme
    leaves the other rows' weights unchanged (handy for comparing schemes with the same seed). A block's
    generator seeds one generator per row inside it (per copy of a Repeat), then fills its own layer
    (a projection); a row inside a block takes the block's scheme unless it has its own.
    """
    if len(model) != len(spec.layers):
        raise ValueError(f"model has {len(model)} modules but the spec has {len(spec.layers)} layers")
    _, _, bias, bias_params = _network_scheme(spec)
    network = _network_init(spec)
    seeds = torch.randint(0, 2**62, (len(model),), generator=generator).tolist()
    with torch.no_grad():
        for index, (layer, row) in enumerate(zip(model, spec.layers, strict=True)):
            _init_row(layer, row, (index,), seeds[index], network, _Bias(bias, bias_params))


def _init_row(module: nn.Module, row: LayerSpec, path: Path, seed: int, inherited: RowInit, bias: _Bias) -> None:
    if LAYERS.get(row.type).role == LayerRole.BACKBONE:  # loaded weights stay; else torchvision's own start
        backbone.initialise(module, seed)
        return
    init = _layer_scheme(row, path, inherited)
    generator = torch.Generator().manual_seed(seed)
    rule = LAYERS.get(row.type).block
    copies = rule.rows(module) if rule is not None else []
    inner: set[int] = set()
    if copies:
        child_seeds = iter(torch.randint(0, 2**62, (sum(len(rows) for rows in copies),), generator=generator).tolist())
        for rows in copies:
            for j, (child, child_row) in enumerate(zip(rows, row.layers, strict=True)):
                _init_row(child, child_row, (*path, j), next(child_seeds), init, bias)
                inner.update(id(m) for m in child.modules())
    else:
        _check_values(row, path, module, init.scheme, init.params)
    for sub in module.modules():
        if id(sub) in inner or not _weighted(sub):
            continue
        weight, sub_bias = cast(nn.Parameter, sub.weight), getattr(sub, "bias", None)
        init.scheme.apply(weight, init.params, generator)
        if not isinstance(sub_bias, nn.Parameter):
            continue
        if init.scheme.own_bias(init.params) and init.scheme.bias is not None:
            init.scheme.bias(sub_bias, weight, init.params, generator)
        else:
            bias.init.apply(sub_bias, weight, bias.params, generator)
