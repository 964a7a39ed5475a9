"""What each layer sees for one sample (forward hooks), and the first layer's weights as pictures.

Hooks sit on the rows of the learner's layer stack (rows inside blocks too, when the caller passes the
model's units) and are removed as soon as the one forward pass is done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from torch import Tensor, nn

from studio.core.backbone_net import Backbone
from studio.core.inspect.predict import Prediction, predict_raw, sample_raw
from studio.core.inspect.snapshot import ModelSnapshot, evaluating
from studio.core.units import Unit

MAPS, VECTOR = "maps", "vector"
MAX_UNITS = 64  # weight pictures of at most this many units / filters: more are unreadable anyway


@dataclass(frozen=True)
class LayerActivation:
    """One layer's output for the sample: ``maps`` (channels, H, W) or a flat ``vector``."""

    name: str
    kind: str
    values: np.ndarray


def _kind(output: Tensor) -> tuple[str, np.ndarray]:
    values = output.detach().float().cpu()[0]
    if values.dim() == 3:
        return MAPS, values.numpy()
    return VECTOR, values.reshape(-1).numpy()


def layer_activations(model: nn.Module, x: Tensor, names: tuple[str, ...],
                      units: Sequence[Unit] | None = None) -> list[LayerActivation]:
    """Each layer's output for the single preprocessed sample ``x`` (no batch dimension): every unit's (a
    block's sum and each row inside it) when ``units`` are given, else each top-level child's.
    """
    children = [unit.module for unit in units] if units is not None else list(model.children()) or [model]
    captured: list[Tensor | None] = [None] * len(children)

    def hook(i: int) -> Callable[[nn.Module, object, Tensor], None]:
        def keep(_module: nn.Module, _inputs: object, output: Tensor) -> None:
            captured[i] = output

        return keep

    handles = [child.register_forward_hook(hook(i)) for i, child in enumerate(children)]
    try:
        with evaluating(model):
            model(x.unsqueeze(0))
    finally:
        for handle in handles:
            handle.remove()
    return [
        LayerActivation(names[i] if i < len(names) else f"{i + 1}", *_kind(out))
        for i, out in enumerate(captured)
        if isinstance(out, Tensor)
    ]


@dataclass(frozen=True)
class WeightImages:
    """The first weighted layer's units as pictures (K, H, W) or (K, H, W, 3), scaled to [-1, 1].

    ``symmetric`` scaling keeps 0 at 0 so positive and negative weights read as opposite colours.
    For inputs that are not pictures, ``images`` is the plain weight matrix as one (1, units, inputs).
    """

    layer: str
    images: np.ndarray
    units: int


def _weighted(model: nn.Module, names: tuple[str, ...], units: Sequence[Unit] | None) -> tuple[str, Tensor] | None:
    """The first row's weight matrix or filter bank; for a backbone row, its first convolution's."""
    children = [unit.module for unit in units] if units is not None else list(model.children())
    for i, child in enumerate(children):
        for module in child.modules() if isinstance(child, Backbone) else (child,):
            weight = getattr(module, "weight", None)
            if isinstance(weight, Tensor) and weight.dim() >= 2:
                return (names[i] if i < len(names) else type(child).__name__), weight.detach().float().cpu()
    return None


def _scaled(w: np.ndarray) -> np.ndarray:
    peak = float(np.abs(w).max())
    return w / peak if peak > 0 else w


def first_layer_weights(
    model: nn.Module, names: tuple[str, ...], image_shape: tuple[int, ...] | None, units: Sequence[Unit] | None = None
) -> WeightImages | None:
    """The first layer (row, inside blocks too when ``units`` are given) with a weight matrix or kernels, each
    unit as a picture when it can be one.
    """
    found = _weighted(model, names, units)
    if found is None:
        return None
    name, weight = found
    count = weight.shape[0]
    w = weight[:MAX_UNITS]
    if w.dim() == 4:  # convolution kernels (out, in, kh, kw): grey for one channel, colour for three
        channels = w.shape[1]
        pictures = w[:, 0] if channels != 3 else w.permute(0, 2, 3, 1)
        return WeightImages(name, _scaled(pictures.numpy()), count)
    if image_shape is not None and w.dim() == 2 and w.shape[1] == int(np.prod(image_shape)):
        return WeightImages(name, _scaled(_as_pictures(w, image_shape)), count)
    return WeightImages(name, _scaled(weight.reshape(count, -1).numpy()[None]), count)


def _as_pictures(w: Tensor, image_shape: tuple[int, ...]) -> np.ndarray:
    """Rows of a dense layer's weights laid out like the input pictures they multiply."""
    if len(image_shape) == 3:  # flattened from (C, H, W): back to channels last
        height, width, channels = image_shape
        return w.reshape(len(w), channels, height, width).permute(0, 2, 3, 1).numpy()
    return w.reshape(len(w), *image_shape).numpy()



@dataclass(frozen=True)
class SampleLayers:
    """Everything the layer view shows for one sample: the prediction, each layer's output, the weights."""

    index: int
    prediction: Prediction
    activations: list[LayerActivation]
    weights: WeightImages | None


def sample_layers(snapshot: ModelSnapshot, index: int) -> SampleLayers:
    """Run sample ``index`` of the inspected split through the snapshot's network, layer by layer."""
    raw, y = sample_raw(snapshot, index)
    true = int(y) if snapshot.classify else float(y.reshape(-1)[0])
    units = snapshot.units()
    names = tuple(unit.label for unit in units)
    x = snapshot.data.preprocessing.apply(raw)
    return SampleLayers(
        index,
        predict_raw(snapshot, raw, true),
        layer_activations(snapshot.model, x, names, units),
        first_layer_weights(snapshot.model, names, snapshot.image_shape, units),
    )
