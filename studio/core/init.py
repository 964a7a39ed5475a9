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
from typing import Any

import torch
from torch import nn

from studio.core.errors import ConfigError
from studio.core.layers import LayerSettingError, row_name
from studio.core.params import Param, array_shape, resolve
from studio.core.project import ModelSpec
from studio.core.registry import Registry

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


def _typed(tensor: torch.Tensor, values: list) -> None:
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


def _lookup(registry: Registry, name: str, field: str) -> Any:
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


def _layer_scheme(spec: ModelSpec, index: int, network: tuple[InitScheme, dict[str, Any]]) -> tuple[InitScheme, dict]:
    """Row ``index``'s scheme and settings: its own ``init`` or the network's, with its own ``init_params``.

    The row's ``init_params`` come first; settings it leaves out are taken from the network's ``init_params``
    when its scheme knows them (e.g. a shared ``nonlinearity``), else from the scheme's defaults.
    """
    layer = spec.layers[index]
    name, layer_type = layer.init, layer.type
    where = row_name(index, layer_type)
    own = _settings(layer.init_params, f"layers[{index}].init_params")
    if (name is None or name == spec.init) and not own:
        return network
    if name is not None and (not isinstance(name, str) or name not in INITS):
        message = f"{where}: unknown weight initialisation {name!r}; choose one of: {', '.join(INITS.names())}"
        raise LayerSettingError(message, index, layer_type, f"layers[{index}].init")
    scheme = INITS.get(name) if name is not None else network[0]
    known = {p.name for p in scheme.params}
    shared = {k: v for k, v in spec.init_params.items() if k in known} if isinstance(spec.init_params, dict) else {}
    try:
        return scheme, resolve(scheme.params, {**shared, **own}, where)
    except ConfigError as exc:
        raise LayerSettingError(str(exc), index, layer_type, f"layers[{index}].init_params.{exc.field}") from None


def check_init(spec: ModelSpec) -> None:
    """Validate the network's and every row's initialisation; raises ConfigError / LayerSettingError."""
    scheme, params, _, _ = _network_scheme(spec)
    for index in range(len(spec.layers)):
        _layer_scheme(spec, index, (scheme, params))


# How the dimensions of a weight are named in messages, by its number of dimensions.
_WEIGHT_AXES = {1: "outputs", 2: "outputs × inputs", 3: "filters × input channels × width",
                4: "filters × input channels × height × width"}


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape) or "a single number"


def layer_init(spec: ModelSpec, index: int) -> tuple[InitScheme, dict[str, Any]]:
    """Row ``index``'s scheme and complete settings; ConfigError / LayerSettingError when invalid."""
    scheme, params, _, _ = _network_scheme(spec)
    return _layer_scheme(spec, index, (scheme, params))


def check_values(spec: ModelSpec, index: int, module: nn.Module) -> None:
    """Raise a :class:`LayerSettingError` when row ``index``'s typed values do not fit ``module``'s weights.

    ``module`` may live on the meta device (``shapes.check_model`` checks before anything is built).
    """
    _check_values(spec, index, module, *layer_init(spec, index))


def _check_values(spec: ModelSpec, index: int, module: nn.Module, scheme: InitScheme, params: dict[str, Any]) -> None:
    if not scheme.layer_only:
        return
    layer_type, where = spec.layers[index].type, row_name(index, spec.layers[index].type)
    field = f"layers[{index}].init_params"
    if not _weighted(module):
        raise LayerSettingError(f"{where} has no weights to type in; choose typed values only for a layer with "
                                "weights (Linear, Conv2d)", index, layer_type, f"layers[{index}].init")
    for name, values in (("weight", params["weight"]), ("bias", params.get("bias"))):
        if values is None:
            continue
        tensor = getattr(module, name, None)
        if not isinstance(tensor, nn.Parameter):
            raise LayerSettingError(f"{where} has no {name} (its bias setting is off); remove the typed {name}",
                                    index, layer_type, f"{field}.{name}")
        typed, expected = array_shape(values), tuple(tensor.shape)
        if typed != expected:
            axes = _WEIGHT_AXES.get(len(expected), "") if name == "weight" else "outputs"
            raise LayerSettingError(
                f"{where}: the typed {name} has shape {_dims(typed)}, but this layer's {name} is {_dims(expected)}"
                f" ({axes})", index, layer_type, f"{field}.{name}")


def _weighted(module: nn.Module) -> bool:
    """Layers with a weight matrix or filter bank; 1-d weights (normalisation scales) keep their own start."""
    weight = getattr(module, "weight", None)
    return isinstance(weight, nn.Parameter) and weight.dim() >= 2


def apply_init(model: nn.Sequential, spec: ModelSpec, generator: torch.Generator) -> None:
    """Initialise the weights and biases of ``model`` (one module per row of ``spec.layers``) in place.

    Each row draws from its own generator seeded from ``generator``, so changing one row's scheme
    leaves the other rows' weights unchanged (handy for comparing schemes with the same seed).
    """
    if len(model) != len(spec.layers):
        raise ValueError(f"model has {len(model)} modules but the spec has {len(spec.layers)} layers")
    scheme, params, bias, bias_params = _network_scheme(spec)
    seeds = torch.randint(0, 2**62, (len(model),), generator=generator).tolist()
    with torch.no_grad():
        for index, layer in enumerate(model):
            layer_scheme, layer_params = _layer_scheme(spec, index, (scheme, params))
            _check_values(spec, index, layer, layer_scheme, layer_params)
            row_generator = torch.Generator().manual_seed(seeds[index])
            for module in layer.modules():
                if not _weighted(module):
                    continue
                layer_scheme.apply(module.weight, layer_params, row_generator)
                if not isinstance(getattr(module, "bias", None), nn.Parameter):
                    continue
                if layer_scheme.own_bias(layer_params) and layer_scheme.bias is not None:
                    layer_scheme.bias(module.bias, module.weight, layer_params, row_generator)
                else:
                    bias.apply(module.bias, module.weight, bias_params, row_generator)
