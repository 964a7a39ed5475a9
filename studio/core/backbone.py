"""The Backbone layer type: a network trained elsewhere (torchvision's classification models) as one row.

**Models** come from torchvision's own registry (``torchvision.models.list_models`` of the
classification namespace), read the first time the list is needed: importing torchvision's models
takes seconds, which the studio's start should not pay (:class:`LazyNames`).

**Weights** are ``none`` (torchvision's random start, drawn from the project's seed), a torchvision
weights name (``IMAGENET1K_V1``, ``DEFAULT`` or ``ResNet18_Weights.IMAGENET1K_V1``) read from the local
torch hub cache, or a local file (``.pt``/``.pth`` state_dict or ``.safetensors``). Every file goes
through the safe loader (``weights_only``); nothing is fetched while a model is built: :func:`download`
(``studio download-weights``) fetches a named file into the cache, and where there is no network it
says so in one line. A file whose names or shapes do not fit the model says which.

**Normalisation and size** (:func:`expectation`) come from the weights' own transforms (the model's
default weights when none or a file are chosen): the row resizes and normalises its input itself,
so the data's preprocessing must be ``none`` (:func:`check_data`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.core.backbone_net import Backbone
from studio.core.errors import ConfigError, ProjectFileError, StudioError
from studio.core.params import Param, resolve
from studio.core.safeload import load_weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors")
MAX_LAST = 6  # "last N stages" offered up to this N
TRAINABLE = ("all", "none", *(f"last {n}" for n in range(1, MAX_LAST + 1)))
SHOWN = 4  # mismatching names listed in a message


@functools.cache
def model_names() -> tuple[str, ...]:
    """Every classification model in torchvision's registry (not detection, segmentation or video)."""
    import torchvision.models

    return tuple(torchvision.models.list_models(module=torchvision.models))


class LazyNames(Sequence[str]):
    """The model names as a ``choice``'s choices, read from torchvision only when first looked at."""

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(model_names())

    def __getitem__(self, index: Any) -> Any:
        return model_names()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(model_names())

    def __contains__(self, name: object) -> bool:
        return name in model_names()

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return "torchvision.models.list_models()"


PARAMS = (
    Param("model", "choice", "resnet18", "The network from torchvision's model registry; its classifier is "
          "removed, so the row outputs one feature vector per picture.", choices=LazyNames()),  # type: ignore[arg-type]
    Param("weights", "str", "none", "none: a random start; a torchvision weights name (IMAGENET1K_V1, DEFAULT) "
          "from the local torch hub cache (fetch it with `studio download-weights`); or the path of a weights file "
          "(.pt, .pth, .safetensors)."),
    Param("trainable", "choice", "all", "Which stages learn: all, none (a fixed feature extractor) or the last N "
          "stages; the others are frozen.", choices=TRAINABLE),
    Param("early_lr", "float", 0.1, "Learning-rate multiplier of the first stage; later stages rise step by step "
          "to 1 at the last (early layers hold general features and change least).", min=0.0, max=1.0,
          label="early-stage lr"),
)


class WeightsError(ProjectFileError):
    """Backbone weights that cannot be found, fetched or fitted into the model."""


@dataclass(frozen=True)
class Expectation:
    """What a backbone's weights were trained on: square pictures of ``size`` normalised with ``mean``/``std``."""

    size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def text(self) -> str:
        mean = ", ".join(f"{v:.3f}" for v in self.mean)
        std = ", ".join(f"{v:.3f}" for v in self.std)
        return f"{self.size}×{self.size} RGB, normalised with mean ({mean}) and std ({std})"


def trainable_count(value: str) -> int:
    """-1 for all, 0 for none, N for "last N"."""
    return {"all": -1, "none": 0}.get(value, 0) if not value.startswith("last ") else int(value.split()[1])


def _weights_enum(model: str) -> Any:
    import torchvision.models

    if model not in model_names():
        raise ConfigError(f"{model!r} is not a torchvision classification model; choose one of "
                          f"{', '.join(model_names()[:12])}...", field="model")
    return torchvision.models.get_model_weights(model)


def weights_names(model: str) -> tuple[str, ...]:
    """The torchvision weights names of ``model`` (``IMAGENET1K_V1``...)."""
    return tuple(entry.name for entry in _weights_enum(model))


def is_file(weights: str) -> bool:
    """Whether the weights setting names a file (a path, or a name with a weights file's suffix)."""
    return os.sep in weights or "/" in weights or weights.lower().endswith(WEIGHT_SUFFIXES)


def weights_entry(model: str, weights: str) -> Any:
    """The torchvision weights entry named ``weights`` (``DEFAULT``, ``IMAGENET1K_V1``, ``X_Weights.Y``)."""
    enum = _weights_enum(model)
    name = weights.split(".")[-1]
    if name == "DEFAULT":
        return enum.DEFAULT
    try:
        return enum[name]
    except KeyError:
        known = ", ".join(["none", "DEFAULT", *weights_names(model)])
        raise ConfigError(f"{model} has no weights called {weights!r}; choose one of {known}, or a weights file",
                          field="weights") from None


def expectation(model: str, weights: str) -> Expectation:
    """Size and normalisation of the chosen weights (the model's default weights for none or a file)."""
    entry = _weights_enum(model).DEFAULT if weights == "none" or is_file(weights) else weights_entry(model, weights)
    transform = entry.transforms()
    size = transform.crop_size[0] if isinstance(transform.crop_size, Sequence) else transform.crop_size
    return Expectation(int(size), tuple(float(v) for v in transform.mean), tuple(float(v) for v in transform.std))


def hub_file(model: str, weights: str) -> Path:
    """Where torchvision keeps the named weights: the torch hub cache's ``checkpoints`` folder."""
    url = weights_entry(model, weights).url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(str(url))


def download(model: str, weights: str) -> Path:
    """Fetch the named weights into the torch hub cache (checked against the hash in their name); the file."""
    target = hub_file(model, weights)
    if target.is_file():
        return target
    url = weights_entry(model, weights).url
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(target), hash_prefix=None, progress=False)
    except OSError as exc:  # URLError is an OSError: no network, a refused connection, a full disk
        reason = getattr(exc, "reason", None) or exc.strerror or exc
        raise WeightsError(f"cannot download {model} {weights}: no connection to {url.split('/')[2]} ({reason}); "
                           f"copy the file to {target} or choose a local weights file") from None
    return target


def load_state(model: str, weights: str) -> dict[str, torch.Tensor] | None:
    """The chosen weights as tensors (None for ``none``), read with the safe loader only."""
    if weights == "none":
        return None
    if is_file(weights):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsError(f"the weights file {path} does not exist; choose another file or weights none")
        return load_weights(path)
    path = hub_file(model, weights)
    if not path.is_file():
        raise WeightsError(f"the {model} weights {weights} are not in the local torchvision cache ({path}); fetch "
                           f"them with `studio download-weights {model} {weights}` or choose a local file")
    return load_weights(path)


def _strip_prefix(state: Mapping[str, torch.Tensor], net: nn.Module) -> dict[str, torch.Tensor]:
    """Names as the torchvision model has them: a Backbone's ``net.`` or DataParallel's ``module.`` removed."""
    own = set(net.state_dict())
    for prefix in ("net.", "module.", "0.net."):
        if not own & state.keys() and all(k.startswith(prefix) for k in state):
            return {k[len(prefix):]: v for k, v in state.items()}
    return dict(state)


def _listed(names: Sequence[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def fit_state(backbone: Backbone, state: Mapping[str, torch.Tensor], where: str) -> None:
    """Copy ``state`` into the backbone's network; names or shapes that do not fit raise one :class:`WeightsError`.

    The removed classifier's weights may be present or absent; every other name must match in both directions.
    """
    net = backbone.net
    own = net.state_dict()
    state = _strip_prefix(state, net)
    removed = {k for k in state if k not in own and _is_head(backbone, k)}
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own and k not in removed]
    shapes = [f"{k} is {tuple(state[k].shape)} in the file but {tuple(own[k].shape)} in {backbone.model}"
              for k in own if k in state and state[k].shape != own[k].shape]
    problems = []
    if missing:
        problems.append(f"missing {_listed(missing)}")
    if extra:
        problems.append(f"unknown {_listed(extra)}")
    if shapes:
        problems.append(_listed(shapes))
    if problems:
        raise WeightsError(f"{where} does not fit {backbone.model}: " + "; ".join(problems)
                           + " (is it a file of another model?)")
    with torch.no_grad():
        for key, tensor in own.items():
            tensor.copy_(state[key])


def _is_head(backbone: Backbone, key: str) -> bool:
    return key.rsplit(".", 1)[0] == backbone.head


def make(params: dict[str, Any], in_shape: tuple[int, ...]) -> nn.Module:
    """The row's module; its weights are read unless built on ``meta`` (shape checks never touch the disk)."""
    model, weights = params["model"], params["weights"].strip() or "none"
    try:
        need = expectation(model, weights)
        module = Backbone(model, need.size, need.mean, need.std, trainable_count(params["trainable"]),
                          params["early_lr"])
    except ValueError as exc:
        raise ConfigError(f"{model} cannot be a backbone: {exc}", field="model") from None
    if torch.get_default_device().type != "meta":
        state = load_state(model, weights)
        if state is not None:
            fit_state(module, state, weights if is_file(weights) else f"the {model} weights {weights}")
            module.pretrained = True
    return module


def check(params: dict[str, Any], in_shape: tuple[int, ...]) -> str | None:
    """Pictures of 1 or 3 channels only (a grey picture is repeated to RGB)."""
    if in_shape[0] not in (1, 3):
        return f"takes grey or RGB pictures (1 or 3 channels) but receives {in_shape[0]} channels"
    weights = params["weights"].strip() or "none"
    if weights != "none" and not is_file(weights):
        weights_entry(params["model"], weights)
    return None


def describe(params: dict[str, Any]) -> str:
    weights = params["weights"].strip() or "none"
    shown = "" if weights == "none" else f" · {Path(weights).name if is_file(weights) else weights}"
    return f"{params['model']}{shown}"


def initialise(module: nn.Module, seed: int) -> None:
    """A backbone without loaded weights starts from torchvision's own initialisation, drawn from ``seed``."""
    assert isinstance(module, Backbone)
    if module.pretrained:
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fresh = Backbone(module.model, module.size, *module.normalisation, module.trainable, module.early_lr)
    with torch.no_grad():
        for mine, theirs in zip(module.net.state_dict().values(), fresh.net.state_dict().values(), strict=True):
            mine.copy_(theirs)


def check_data(layers: Sequence[Any], preprocessing: str) -> None:
    """A backbone first in the stack normalises pictures itself: the data must arrive as raw pixels in [0, 1]."""
    if layers and getattr(layers[0], "type", None) == "Backbone" and preprocessing != "none":
        raise ConfigError("Layer 1 (Backbone) normalises its pictures itself, as its weights expect; set the data's "
                          f"preprocessing to none (it is {preprocessing})", field="data.preprocessing")



def input_note(layers: Sequence[Any]) -> str:
    """What a backbone first in the stack does to the pictures, for the data panel ("" without one)."""
    if not layers or getattr(layers[0], "type", None) != "Backbone" or not isinstance(layers[0].params, dict):
        return ""
    try:
        params = resolve(PARAMS, layers[0].params, "Backbone")
        need = expectation(params["model"], params["weights"].strip() or "none")
    except StudioError:
        return ""
    return (f"Layer 1 (Backbone {params['model']}) expects {need.text()}; it resizes and normalises the pictures "
            "itself, so the preprocessing here should be None.")
