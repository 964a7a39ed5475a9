"""A trained model frozen for inspection, and the small conversions every view needs.

:class:`ModelSnapshot` is made inside the worker thread (from the trainer at the end of a fit,
or from a run folder); the GUI only carries it back into worker jobs and never calls it. The
model is a CPU copy in eval mode, so inspecting never disturbs (or waits for) a later fit.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from studio.core.build import build_model
from studio.core.callbacks import FitContext
from studio.core.data import PreparedData, Preprocessing, preview
from studio.core.optim import LossFn, build_loss
from studio.core.project import DataSpec, Project
from studio.core.registry import Registry
from studio.core.units import Unit, model_units
from studio.core.vocab import Task

BATCH = 512

# ---- outputs -> class probabilities, by loss ------------------------------------------------------


def _softmax(output: Tensor) -> Tensor:
    return torch.softmax(output, dim=-1)


def _sigmoid(output: Tensor) -> Tensor:
    """One output: [1 - σ, σ] (its sign decides the class); several: σ per class, normalised to sum 1."""
    p = torch.sigmoid(output)
    if output.shape[-1] == 1:
        return torch.cat([1 - p, p], dim=-1)
    return p / p.sum(-1, keepdim=True).clamp_min(1e-12)


def _perceptron(output: Tensor) -> Tensor:
    """One output: its sign decides, with certainty ([1, 0] or [0, 1]); several: the softmax of the scores."""
    if output.shape[-1] == 1:
        positive = (output > 0).to(output.dtype)
        return torch.cat([1 - positive, positive], dim=-1)
    return _softmax(output)


# What a loss trains the outputs to mean decides how to read them as probabilities: softmax for
# cross-entropy, sigmoid for binary cross-entropy, the hard sign of a single-output perceptron (a
# sigmoid of its ±1 output would be a constant 0.73). Losses that do not model probabilities (hinge,
# squared or absolute error on one-hot targets, a several-output perceptron) get the softmax of their
# scores: a confidence rather than a calibrated probability, but, like every reading here, it ranks
# the classes exactly as the loss's own prediction does.
PROBABILITIES: Registry[Callable[[Tensor], Tensor]] = Registry("probability reading")
for _name, _fn in (
    ("cross_entropy", _softmax),
    ("multi_margin", _softmax),
    ("bce_with_logits", _sigmoid),
    ("perceptron", _perceptron),
    ("mse", _softmax),
    ("l1", _softmax),
    ("huber", _softmax),
):
    PROBABILITIES.register(_name, _fn)


def class_probabilities(output: Tensor, loss_name: str) -> Tensor:
    """(N, classes) probabilities from (N, outputs) network outputs; unknown losses use the softmax."""
    reading = PROBABILITIES.get(loss_name) if loss_name in PROBABILITIES else _softmax
    return reading(output.float())


# ---- raw values and images ------------------------------------------------------------------------


def raw_values(preprocessing: Preprocessing, x: np.ndarray) -> np.ndarray:
    """Undo ``preprocessing`` on preprocessed ``x`` (numpy): back to the dataset's natural scale."""
    out = np.asarray(x, dtype=np.float32)
    if preprocessing.std is not None:
        out = out * preprocessing.std
    if preprocessing.mean is not None:
        out = out + preprocessing.mean
    return out


def image_shape_of(spec: DataSpec, input_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """How one sample looks as a picture: (H, W) or (H, W, 3); None for points and tables.

    Pictures given as flat rows (digits: 64 features) are recognised from the dataset's preview.
    """
    if len(input_shape) == 3:
        channels, height, width = input_shape
        return (height, width) if channels == 1 else (height, width, channels) if channels == 3 else None
    if len(input_shape) == 1 and input_shape[0] >= 16:
        sample = preview(spec, 1)
        if sample.kind == "images":
            return tuple(sample.data.shape[1:])
    return None


def to_images(raw: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """(N, *image_shape) pictures from raw samples in input layout (flat rows or (N, C, H, W))."""
    if raw.ndim == 2:
        return raw.reshape(len(raw), *image_shape)
    images = np.moveaxis(raw, 1, -1)
    return images[..., 0] if images.shape[-1] == 1 else images


def images_u8(images: np.ndarray) -> np.ndarray:
    """Pictures in [0, 1] as uint8, four times smaller to keep and ship to the GUI."""
    return np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)


def layer_names(project: Project, model: nn.Module) -> tuple[str, ...]:
    """The labels the rest of the app uses ("1 Linear 128", "3.2 Conv2d 16@3×3" inside a block); module class
    names for foreign models. One per unit (``studio.core.units``).
    """
    return tuple(unit.label for unit in model_units(model, project.model.layers))


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode without autograd; the train/eval mode is restored after, so it is safe mid-fit.

    Eval mode makes the pass side-effect free: dropout draws no random numbers and batch norm
    does not update its running statistics, so watching a fit never changes its result.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield model
    finally:
        model.train(was_training)


def model_outputs(model: nn.Module, batches: Iterable[Tensor]) -> Tensor:
    """Outputs for all ``batches`` (on the model's device), float32 and concatenated on the CPU."""
    with evaluating(model):
        outs = [model(x).float().cpu() for x in batches]
    return torch.cat(outs) if outs else torch.zeros(0)


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters(), torch.empty(0)).device


def batched(x: Tensor, device: torch.device, size: int = BATCH) -> Iterable[Tensor]:
    return (x[i : i + size].to(device) for i in range(0, len(x), size))


# ---- the snapshot ---------------------------------------------------------------------------------


@dataclass
class ModelSnapshot:
    """A trained network (CPU copy, eval mode) with the project and the prepared data it was trained on.

    ``image_shape`` is looked up once in the worker (see :func:`image_shape_of`), so the GUI can read
    it, like ``class_names`` and ``task``, without running anything.
    """

    project: Project
    model: nn.Module
    data: PreparedData
    epoch: int = 0
    image_shape: tuple[int, ...] | None = None

    @classmethod
    def from_trainer(cls, trainer: FitContext) -> ModelSnapshot:
        """Copy ``trainer``'s model (call in the training thread, between batches or at the fit's end)."""
        model = copy.deepcopy(trainer.model).cpu().eval()
        project, data = trainer.project.copy(), trainer.data
        return cls(project, model, data, trainer.position.epoch, image_shape_of(project.data, data.input_shape))

    @classmethod
    def from_state(cls, project: Project, state_dict: dict[str, Tensor], data: PreparedData) -> ModelSnapshot:
        """Rebuild the project's network and load weights (a run folder's ``state_dict``)."""
        model = build_model(project.model, data.input_shape, project.training.seed)
        model.load_state_dict(state_dict)
        return cls(project.copy(), model.eval(), data, image_shape=image_shape_of(project.data, data.input_shape))

    @property
    def classify(self) -> bool:
        return self.data.task == Task.CLASSIFICATION

    @property
    def loss_name(self) -> str:
        return self.project.loss.name

    def loss_fn(self) -> LossFn:
        return build_loss(self.project.loss, self.data.task, self.data.num_classes or None)

    def layer_names(self) -> tuple[str, ...]:
        return layer_names(self.project, self.model)

    def units(self) -> list[Unit]:
        """The network row by row, rows inside blocks too."""
        return model_units(self.model, self.project.model.layers)
