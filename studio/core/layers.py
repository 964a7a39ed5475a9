"""Layer types as data: a registry of name -> parameters (with defaults, ranges, help) -> ``torch.nn`` module.

Input sizes (``in_features``, ``in_channels``, ``num_features``, ``normalized_shape``) are never
parameters: ``make`` receives the per-sample input shape and infers them, so a learner only
chooses output sizes and the stack stays valid when an earlier layer changes. Block types
(``Residual``, ``Parallel``, ``Repeat``) have a ``block`` rule instead of ``make``: they are built
from their child rows (``studio.core.blocks``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from studio.core import backbone
from studio.core.blocks import PARALLEL, REPEAT, RESIDUAL, BlockRule
from studio.core.errors import ConfigError, ShapeError
from studio.core.params import Param, defaults, resolve
from studio.core.project import LayerSpec
from studio.core.registry import Registry
from studio.core.tree import Path, field_name, path_text
from studio.core.vocab import StrEnum

Shape = tuple[int, ...]
Maker = Callable[[dict[str, Any], Shape], nn.Module]

# Group name -> one-line description, in palette order.
GROUPS: dict[str, str] = {
    "core": "Fully connected layers and reshaping: the basic building blocks.",
    "convolution": "Layers that slide small filters over images to detect local patterns.",
    "pooling": "Shrink images by summarising neighbourhoods (max or average).",
    "normalization": "Rescale activations to keep training stable and fast.",
    "regularization": "Randomly drop values during training to reduce overfitting.",
    "activation": "Non-linear functions applied value by value; without them a stack is just one linear map.",
    "blocks": "Rows that hold rows: shortcuts (residual blocks), parallel branches and repeats.",
    "pretrained": "Networks trained elsewhere on millions of pictures, used as the first row of yours (fine-tuning).",
}

# What a layer needs as its per-sample input; shapes.py turns a mismatch into a clear message.
EXPECTS = ("any", "flat", "image")


class LayerRole(StrEnum):
    """What the lab needs to know a layer is for (most layers have no role)."""

    WEIGHTED = "weighted"  # a weight matrix or filter bank: a hidden block starts here
    BATCH_NORM = "batch_norm"  # normalises with batch statistics: differs between training and evaluation
    DROPOUT = "dropout"  # drops values while training: differs between training and evaluation
    BACKBONE = "backbone"  # a whole network with its own weights and start (studio/core/backbone.py)


@dataclass(frozen=True, eq=False)
class LayerType:
    """One kind of layer the user can add to the stack.

    ``expects`` is ``"flat"`` (a vector of features), ``"image"`` (channels×height×width) or ``"any"``.
    ``check(params, in_shape)`` returns a learner-friendly problem (or None) before the module is built.
    ``describe(params)`` gives the short summary of the stack row; by default the ``key_params`` values.
    A block type has ``make=None`` and a ``block`` rule. Compared by identity (the shape cache keys on it).
    ``role`` tells the lab what the layer is for (see :class:`LayerRole`).
    """

    name: str
    group: str
    description: str
    params: tuple[Param, ...]
    make: Maker | None
    key_params: tuple[str, ...] = ()
    expects: str = "any"
    check: Callable[[dict[str, Any], Shape], str | None] | None = None
    describe: Callable[[dict[str, Any]], str] | None = None
    block: BlockRule | None = None
    role: LayerRole | None = None

    def __post_init__(self) -> None:
        if (self.make is None) == (self.block is None):
            raise ValueError(f"layer {self.name!r}: give either make (a layer) or block (a block), not both")
        if self.group not in GROUPS:
            raise ValueError(f"layer {self.name!r}: unknown group {self.group!r}")
        if self.expects not in EXPECTS:
            raise ValueError(f"layer {self.name!r}: unknown input kind {self.expects!r}")
        names = {p.name for p in self.params}
        missing = [k for k in self.key_params if k not in names]
        if missing:
            raise ValueError(f"layer {self.name!r}: key parameter {missing[0]!r} is not a parameter")

    def summary(self, params: dict[str, Any]) -> str:
        """The short text shown in the stack row (e.g. ``"128"`` or ``"16@3×3"``)."""
        if self.describe is not None:
            return self.describe(params)
        return " ".join(_fmt_value(params.get(k)) for k in self.key_params)


LAYERS: Registry[LayerType] = Registry("layer type")


class LayerSettingError(ShapeError, ConfigError):
    """A layer's setting is invalid: a :class:`ShapeError` for its row and a :class:`ConfigError` for its field."""

    def __init__(self, message: str, index: int | Path, layer_type: str, field: str | None) -> None:
        path = as_path(index)
        super().__init__(message, path[0], layer_type, path)
        self.field = field


def as_path(where: int | Path) -> Path:
    """A row's path from a top-level index or a path."""
    return (where,) if isinstance(where, int) else tuple(where)


def row_name(where: int | Path, layer_type: str, copy: int = 0) -> str:
    """How messages name a row, counting from 1: ``"Layer 3 (Linear)"`` for index 2 or path ``(2,)``;
    ``"Block 3 › row 2 (Linear)"`` for path ``(2, 1)``; ``copy`` (0-based) names a Repeat's later copies.
    """
    path = as_path(where)
    if len(path) == 1:
        name = f"Layer {path[0] + 1} ({layer_type})"
    else:
        name = " › ".join([f"Block {path[0] + 1}", *(f"block {s + 1}" for s in path[1:-1]), f"row {path[-1] + 1}"])
        name += f" ({layer_type})"
    return name + (f", copy {copy + 1}" if copy else "")


def resolve_layer(spec: LayerSpec, where: int | Path) -> tuple[LayerType, dict[str, Any]]:
    """The layer type and complete, validated parameters of the row at ``where`` (an index or a path),
    or a :class:`LayerSettingError` naming the row and its field (``layers[3].layers[1].kernel_size``).
    """
    # Names and fields are only worded on a problem: the editor resolves every row after every keystroke.
    path = as_path(where)
    if not isinstance(spec.type, str) or spec.type not in LAYERS:
        name = spec.type if isinstance(spec.type, str) else repr(spec.type)
        message = f"{row_name(path, name)}: unknown layer type {name!r}; choose one of: {', '.join(LAYERS.names())}"
        raise LayerSettingError(message, path, name, f"{field_name(path)}.type")
    if not isinstance(spec.params, dict):
        raise LayerSettingError(f"{row_name(path, spec.type)}: the settings must be a JSON object, not "
                                f"{spec.params!r}", path, spec.type, f"{field_name(path)}.params")
    layer_type = LAYERS.get(spec.type)
    try:
        params = resolve(layer_type.params, spec.params, "")
    except ConfigError:
        try:  # again, to word the problem with the row's name
            resolve(layer_type.params, spec.params, row_name(path, spec.type))
        except ConfigError as exc:
            field = f"{field_name(path)}.{exc.field}" if exc.field else None
            raise LayerSettingError(str(exc), path, spec.type, field) from None
        raise
    if layer_type.block is None and spec.layers:
        raise LayerSettingError(f"{row_name(path, spec.type)}: only blocks (Residual, Parallel, Repeat) hold rows; "
                                "move these rows out of it", path, spec.type, f"{field_name(path)}.layers")
    return layer_type, params


def has_role(layer_type: str, role: LayerRole) -> bool:
    """True when ``layer_type`` is registered with ``role``."""
    return layer_type in LAYERS and LAYERS.get(layer_type).role == role


def companion(role: LayerRole, after: str) -> str:
    """The layer type of ``role`` to put after a ``after`` layer: one for the same input kind, else one for any.

    ``BatchNorm1d`` after ``Linear`` (flat), ``BatchNorm2d`` and ``Dropout2d`` after ``Conv2d`` (images),
    ``Dropout`` after ``Linear``.
    """
    kind = LAYERS.get(after).expects
    fitting = [t for _, t in LAYERS.items() if t.role == role and t.expects in (kind, "any")]
    if not fitting:
        raise ConfigError(f"no {role.replace('_', ' ')} layer fits after a {after} layer", field="layers")
    return min(fitting, key=lambda t: t.expects != kind).name


def row_label(path: Path, spec: LayerSpec, layer_type: LayerType, params: dict[str, Any]) -> str:
    """:func:`layer_label` of a row already resolved (no second validation)."""
    return " ".join(part for part in (path_text(path), spec.type, layer_type.summary(params)) if part)


def describe_layer(spec: LayerSpec) -> str:
    """The key parameters of a stack row (``"128"``, ``"16@3×3"``); tolerant of bad values, for display."""
    if not isinstance(spec.type, str) or spec.type not in LAYERS or not isinstance(spec.params, dict):
        return ""
    layer_type = LAYERS.get(spec.type)
    try:
        params = resolve(layer_type.params, spec.params, spec.type)
    except ConfigError:
        params = {**defaults(layer_type.params), **spec.params}
    return layer_type.summary(params)


def layer_label(spec: LayerSpec, where: int | Path) -> str:
    """Short name of a row (an index or a path, 0-based) for plots and statistics: ``"2 Linear 128"``,
    ``"3.2 Conv2d 16@3×3"`` inside block 3 (rows count from 1).
    """
    return " ".join(part for part in (path_text(as_path(where)), spec.type, describe_layer(spec)) if part)


def _fmt_value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _flat(shape: Shape) -> int:
    return math.prod(shape)


def _square(value: int) -> str:
    return f"{value}×{value}"


# --- extra checks (beyond the input kind) -------------------------------------------------------


def _kernel_check(what: str, remedy: str) -> Callable[[dict[str, Any], Shape], str | None]:
    """A check that the (padded) image is at least as large as the kernel."""

    def check(params: dict[str, Any], in_shape: Shape) -> str | None:
        k, pad = params["kernel_size"], params.get("padding", 0)
        h, w = in_shape[1] + 2 * pad, in_shape[2] + 2 * pad
        if h >= k and w >= k:
            return None
        padded = " (after padding)" if pad else ""
        return (f"{what} with kernel {k} needs at least {_square(k)} pixels but receives "
                f"{h}×{w}{padded}; {remedy}")

    return check


def _pool_check(what: str) -> Callable[[dict[str, Any], Shape], str | None]:
    """Pooling's kernel check plus torch's rule that padding is at most half the kernel."""
    kernel = _kernel_check(what, "remove a pooling layer or use a smaller kernel")

    def check(params: dict[str, Any], in_shape: Shape) -> str | None:
        if params["padding"] * 2 > params["kernel_size"]:
            return (f"padding {params['padding']} is too large for kernel {params['kernel_size']}; "
                    "padding can be at most half the kernel size")
        return kernel(params, in_shape)

    return check


# --- Sign: the perceptron's activation -----------------------------------------------------------


class _SignSTE(torch.autograd.Function):
    """sign(x) forward with ``zero`` at exactly 0, identity gradient backward (straight-through estimator)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, zero: float) -> torch.Tensor:
        return torch.where(x == 0, torch.full_like(x, zero), torch.sign(x))

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


class Sign(nn.Module):
    """Outputs -1 or +1, and ``zero`` at exactly 0: +1 is the textbook's sgn(0) (a zero-initialised
    perceptron then calls every point +1 and learns from the first mistake); 0 is ``torch.sign``'s.

    The true derivative of sign is zero almost everywhere, so no gradient would reach the weights; the
    classic perceptron preset trains a Linear + Sign with the perceptron criterion, whose update is exactly
    what the straight-through (identity) gradient gives, so backward passes it through.
    """

    def __init__(self, zero: int = 1) -> None:
        super().__init__()
        self.zero = zero

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = _SignSTE.apply(x, float(self.zero))
        return out

    def extra_repr(self) -> str:
        return f"zero={self.zero}"


# --- the registry --------------------------------------------------------------------------------


def _bias(help_text: str = "Learn an additive offset per output.") -> Param:
    return Param("bias", "bool", True, help_text)


def _eps() -> Param:
    return Param("eps", "float", 1e-5, "Small number added to the variance to avoid dividing by zero.",
                 min=1e-12, max=1.0, log=True)


def _dropout_p() -> Param:
    return Param("p", "float", 0.5, "Probability that a value is set to zero during training (the drop "
                 "probability; notes that call the keep probability p mean 1 - p here).", min=0.0, max=0.99)


def register(layer_type: LayerType) -> LayerType:
    """Add a layer type; the palette, forms, shapes, schema and model.py export follow from the entry."""
    return LAYERS.register(layer_type.name, layer_type)


def _make_conv(p: dict[str, Any], s: Shape) -> nn.Module:
    return nn.Conv2d(s[0], p["out_channels"], p["kernel_size"], stride=p["stride"], padding=p["padding"],
                     bias=p["bias"])


def _pool_params() -> tuple[Param, ...]:
    return (
        Param("kernel_size", "int", 2, "Side of the square window that is summarised.", min=1, max=16),
        Param("stride", "int", None, "Step between windows; off means the same as the kernel size.",
              min=1, max=16, optional=True),
        Param("padding", "int", 0, "Pixels added around the border (at most half the kernel).", min=0, max=8),
    )


def _describe_pool(p: dict[str, Any]) -> str:
    stride = p.get("stride")
    return _square(p["kernel_size"]) + (f" /{stride}" if stride and stride != p["kernel_size"] else "")


def _describe_conv(p: dict[str, Any]) -> str:
    text = f"{p['out_channels']}@{_square(p['kernel_size'])}"
    return text + (f" /{p['stride']}" if p.get("stride", 1) != 1 else "")


register(LayerType(
    "Linear", "core", "Fully connected: every output is a weighted sum of all inputs plus a bias.",
    (Param("out_features", "int", 64, "Number of outputs (neurons) of this layer.", min=1, max=65536), _bias()),
    lambda p, s: nn.Linear(s[0], p["out_features"], bias=p["bias"]),
    key_params=("out_features",), expects="flat", role=LayerRole.WEIGHTED,
))
register(LayerType(
    "Flatten", "core", "Turns an image (channels×height×width) into one flat vector of features.",
    (), lambda p, s: nn.Flatten(),
))
register(LayerType(
    "Identity", "core", "Passes its input through unchanged (a placeholder).",
    (), lambda p, s: nn.Identity(),
))
register(LayerType(
    "Conv2d", "convolution", "Slides learnable filters over the image; each filter makes one output channel.",
    (
        Param("out_channels", "int", 16, "Number of filters, i.e. output channels.", min=1, max=4096),
        Param("kernel_size", "int", 3, "Side of each square filter in pixels.", min=1, max=31),
        Param("stride", "int", 1, "Step between filter positions; 2 halves the image size.", min=1, max=16),
        Param("padding", "int", 0, "Zero pixels added around the border; kernel_size // 2 keeps the size.",
              min=0, max=16),
        _bias("Learn an additive offset per filter."),
    ),
    _make_conv, key_params=("out_channels", "kernel_size"), expects="image",
    check=_kernel_check("Conv2d", "remove a pooling layer, add padding or use a smaller kernel"),
    describe=_describe_conv, role=LayerRole.WEIGHTED,
))
register(LayerType(
    "MaxPool2d", "pooling", "Keeps the largest value in each window: smaller image, strongest responses.",
    _pool_params(), lambda p, s: nn.MaxPool2d(p["kernel_size"], stride=p["stride"], padding=p["padding"]),
    key_params=("kernel_size",), expects="image",
    check=_pool_check("MaxPool2d"),
    describe=_describe_pool,
))
register(LayerType(
    "AvgPool2d", "pooling", "Averages each window: a smaller, smoother image.",
    _pool_params(), lambda p, s: nn.AvgPool2d(p["kernel_size"], stride=p["stride"], padding=p["padding"]),
    key_params=("kernel_size",), expects="image",
    check=_pool_check("AvgPool2d"),
    describe=_describe_pool,
))
register(LayerType(
    "AdaptiveAvgPool2d", "pooling", "Averages each channel down to a fixed output size, whatever the input size.",
    (Param("output_size", "int", 1, "Side of the output image (1 = one average per channel).", min=1, max=64),),
    lambda p, s: nn.AdaptiveAvgPool2d(p["output_size"]),
    key_params=("output_size",), expects="image", describe=lambda p: _square(p["output_size"]),
))
register(LayerType(
    "BatchNorm1d", "normalization", "Normalises each feature over the batch, then rescales it with learned values.",
    (_eps(), Param("momentum", "float", 0.1, "How fast the running averages used for evaluation follow the batches.",
                   min=0.0, max=1.0), Param("affine", "bool", True, "Learn a scale and shift per feature.")),
    lambda p, s: nn.BatchNorm1d(s[0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"]),
    expects="flat", role=LayerRole.BATCH_NORM,
))
register(LayerType(
    "BatchNorm2d", "normalization", "Normalises each channel over the batch and the image, then rescales it.",
    (_eps(), Param("momentum", "float", 0.1, "How fast the running averages used for evaluation follow the batches.",
                   min=0.0, max=1.0), Param("affine", "bool", True, "Learn a scale and shift per channel.")),
    lambda p, s: nn.BatchNorm2d(s[0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"]),
    expects="image", role=LayerRole.BATCH_NORM,
))
register(LayerType(
    "LayerNorm", "normalization", "Normalises all values of each sample on its own (no batch statistics).",
    (_eps(), Param("elementwise_affine", "bool", True, "Learn a scale and shift per value.", label="learn scale")),
    lambda p, s: nn.LayerNorm(list(s), eps=p["eps"], elementwise_affine=p["elementwise_affine"]),
))
register(LayerType(
    "Dropout", "regularization", "During training, zeroes random values and scales up the rest.",
    (_dropout_p(),), lambda p, s: nn.Dropout(p["p"]), key_params=("p",), role=LayerRole.DROPOUT,
))
register(LayerType(
    "Dropout2d", "regularization", "During training, zeroes whole random channels of an image.",
    (_dropout_p(),), lambda p, s: nn.Dropout2d(p["p"]), key_params=("p",), expects="image",
    role=LayerRole.DROPOUT,
))


def _activation(name: str, description: str, make: Maker, params: tuple[Param, ...] = (),
                key_params: tuple[str, ...] = ()) -> None:
    register(LayerType(name, "activation", description, params, make, key_params=key_params))


_activation("ReLU", "max(0, x): passes positives, zeroes negatives. The usual default.", lambda p, s: nn.ReLU())
_activation(
    "LeakyReLU", "Like ReLU but negatives are scaled by a small slope instead of zeroed.",
    lambda p, s: nn.LeakyReLU(p["negative_slope"]),
    (Param("negative_slope", "float", 0.01, "Slope for negative inputs.", min=0.0, max=1.0),), ("negative_slope",),
)
_activation(
    "ELU", "Like ReLU for positives; negatives curve smoothly towards -alpha.",
    lambda p, s: nn.ELU(p["alpha"]),
    (Param("alpha", "float", 1.0, "Value that large negative inputs approach (as -alpha).", min=0.0, max=10.0),),
)
_activation("SELU", "Scaled ELU that keeps activations normalised in deep plain networks.", lambda p, s: nn.SELU())
_activation(
    "GELU", "Smooth ReLU used in transformers: x weighted by how likely it is to be positive.",
    lambda p, s: nn.GELU(approximate=p["approximate"]),
    (Param("approximate", "choice", "none", "Exact formula, or the faster tanh approximation.",
           choices=("none", "tanh")),),
)
_activation("SiLU", "x · sigmoid(x) (also called swish): smooth and slightly negative below zero.",
            lambda p, s: nn.SiLU())
_activation("Tanh", "Squashes values into (-1, 1), centred on zero.", lambda p, s: nn.Tanh())
_activation("Sigmoid", "Squashes values into (0, 1); saturates (tiny gradients) for large inputs.",
            lambda p, s: nn.Sigmoid())
_activation(
    "Softplus", "A smooth version of ReLU: log(1 + exp(beta·x)) / beta.",
    lambda p, s: nn.Softplus(beta=p["beta"], threshold=p["threshold"]),
    (Param("beta", "float", 1.0, "Sharpness: larger values look more like ReLU.", min=0.01, max=100.0, log=True),
     Param("threshold", "float", 20.0, "Above beta·x > threshold the output is just x (for stability).",
           min=1.0, max=100.0)),
)
_activation(
    "Sign", "Outputs -1 or +1 (at exactly 0: the zero setting); the classic perceptron's step. Gradients pass "
    "straight through.",
    lambda p, s: Sign(p["zero"]),
    (Param("zero", "int", 1, "The output at exactly 0: +1 (the textbook's sgn(0) = +1), 0 or -1.", min=-1, max=1,
           label="sign of 0"),),
)

# --- blocks: rows that hold rows (studio/core/blocks.py) -----------------------------------------

register(LayerType(
    "Residual", "blocks", "Adds the block's input to what its rows make of it: a shortcut that keeps gradients alive.",
    (Param("projection", "choice", "auto", "auto: a 1×1 convolution or Linear on the shortcut only when the rows "
           "change the shape; always: even when they keep it; never: the input is always added unchanged.",
           choices=("auto", "always", "never")),),
    None, describe=lambda p: "" if p["projection"] == "auto" else f"projection {p['projection']}", block=RESIDUAL,
))
register(LayerType(
    "Parallel", "blocks", "Each row is a branch that sees the block's input; the branches' outputs are joined.",
    (Param("join", "choice", "concat", "concat: stack the branches' channels (or values); sum: add them (same "
           "shapes needed).", choices=("concat", "sum")),),
    None, key_params=("join",), block=PARALLEL,
))
register(LayerType(
    "Repeat", "blocks", "Its rows several times one after another; every copy learns weights of its own.",
    (Param("times", "int", 2, "How many copies of the rows follow each other.", min=1, max=1000),),
    None, describe=lambda p: f"×{p['times']}", block=REPEAT,
))

# --- a network trained elsewhere (studio/core/backbone.py) ----------------------------------------

register(LayerType(
    "Backbone", "pretrained", "A torchvision classification network without its classifier: pictures in, one "
    "feature vector out. Put a Linear after it for your classes.",
    backbone.PARAMS, backbone.make, key_params=("model",), expects="image", check=backbone.check,
    describe=backbone.describe, role=LayerRole.BACKBONE,
))
