"""Weight initialisation as a choice: named schemes for weight matrices and for biases, per network and per layer.

Schemes apply to layers with a weight matrix or filter bank (Linear, Conv2d); normalisation layers keep
their own start values (scale 1, shift 0). Every draw comes from a ``torch.Generator`` so a project seed
gives identical weights on every run, independent of anything else that used torch's global random state.
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
from studio.core.params import Param, resolve
from studio.core.project import ModelSpec
from studio.core.registry import Registry

WeightFn = Callable[[torch.Tensor, dict[str, Any], torch.Generator], Any]
BiasFn = Callable[[torch.Tensor, torch.Tensor, dict[str, Any], torch.Generator], Any]


@dataclass(frozen=True)
class InitScheme:
    """A way to fill a weight tensor (``apply(weight, params, generator)``), shown in the GUI by ``label``."""

    name: str
    label: str
    description: str
    params: tuple[Param, ...]
    apply: WeightFn


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


def _network_scheme(spec: ModelSpec) -> tuple[InitScheme, dict[str, Any], BiasInit, dict[str, Any]]:
    """The network-wide weight scheme and bias init with their resolved parameters (ConfigError if invalid)."""
    for name, value in (("init", spec.init), ("bias_init", spec.bias_init)):
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be the name of a scheme, not {value!r}", field=name)
    if not isinstance(spec.init_params, dict):
        raise ConfigError(f"init_params must be a JSON object, not {spec.init_params!r}", field="init_params")
    scheme = _lookup(INITS, spec.init, "init")
    try:
        params = resolve(scheme.params, spec.init_params, scheme.label)
    except ConfigError as exc:
        raise ConfigError(str(exc), field=f"init_params.{exc.field}") from None
    bias = _lookup(BIAS_INITS, spec.bias_init, "bias_init")
    return scheme, params, bias, resolve(bias.params, {}, bias.label)


def _layer_scheme(spec: ModelSpec, index: int, network: tuple[InitScheme, dict[str, Any]]) -> tuple[InitScheme, dict]:
    """Row ``index``'s scheme: its own override or the network's.

    LayerSpec has no parameters of its own for the init, so an override takes the network's ``init_params``
    that its scheme knows (e.g. a shared ``nonlinearity``) and defaults for the rest.
    """
    name = spec.layers[index].init
    if name is None or name == spec.init:
        return network
    layer_type = spec.layers[index].type
    if not isinstance(name, str) or name not in INITS:
        message = (f"{row_name(index, layer_type)}: unknown weight initialisation {name!r}; "
                   f"choose one of: {', '.join(INITS.names())}")
        raise LayerSettingError(message, index, layer_type, f"layers[{index}].init")
    scheme = INITS.get(name)
    known = {p.name for p in scheme.params}
    shared = {k: v for k, v in spec.init_params.items() if k in known}
    try:
        return scheme, resolve(scheme.params, shared, row_name(index, layer_type))
    except ConfigError as exc:
        raise LayerSettingError(str(exc), index, layer_type, f"init_params.{exc.field}") from None


def check_init(spec: ModelSpec) -> None:
    """Validate the network's and every row's initialisation; raises ConfigError / LayerSettingError."""
    scheme, params, _, _ = _network_scheme(spec)
    for index in range(len(spec.layers)):
        _layer_scheme(spec, index, (scheme, params))


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
            row_generator = torch.Generator().manual_seed(seeds[index])
            for module in layer.modules():
                if not _weighted(module):
                    continue
                layer_scheme.apply(module.weight, layer_params, row_generator)
                if isinstance(getattr(module, "bias", None), nn.Parameter):
                    bias.apply(module.bias, module.weight, bias_params, row_generator)
