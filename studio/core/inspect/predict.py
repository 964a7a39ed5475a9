"""Predictions for one input: a sample of the data, a picture drawn on the pad, or an image file.

Every input takes the training data's path: pixels in the dataset's raw range ([0, 1], the scale
:class:`studio.core.data.RawData` gives before preprocessing; digits' 0-16 counts are already
divided by 16 there), laid out like the network's input, then :meth:`Preprocessing.apply` with
the training split's statistics. Image files are resized by area averaging, which is how the
8x8 digits were made from 32x32 bitmaps (counts of 4x4 blocks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from studio.core.errors import DatasetError
from studio.core.inspect.drawing import data_style, fit_drawing
from studio.core.inspect.evaluation import inspect_split
from studio.core.inspect.gallery import top_classes
from studio.core.inspect.snapshot import ModelSnapshot, class_probabilities, model_outputs, raw_values, to_images

BORDER = 2  # pixels along each edge that tell a picture's background colour
DARK = 0.2  # datasets whose pictures have a background darker than this are ink-on-black (digits, MNIST)


@dataclass(frozen=True)
class Prediction:
    """What the network says about one input.

    Classification: ``probabilities`` (classes,), ``predicted`` and ``top``; regression: ``values``.
    ``image`` is the picture the network saw (raw, [0, 1]) when inputs are pictures; ``true`` the
    label or target when the input came from the data.
    """

    class_names: tuple[str, ...]
    probabilities: np.ndarray | None = None
    predicted: int | None = None
    top: tuple[tuple[int, float], ...] = ()
    values: np.ndarray | None = None
    image: np.ndarray | None = None
    true: float | int | None = None

    @property
    def predicted_name(self) -> str:
        return self.class_names[self.predicted] if self.predicted is not None else ""


def pixels_to_input(pixels: np.ndarray, input_shape: tuple[int, ...]) -> Tensor:
    """A raw sample in input layout from an (H, W) or (H, W, 3) picture in [0, 1].

    Grey pictures fill every channel of a colour network; colour pictures are averaged for a grey one.
    """
    picture = np.asarray(pixels, np.float32)
    if len(input_shape) == 1:
        return torch.from_numpy(picture.reshape(-1).copy())
    channels = input_shape[0]
    if picture.ndim == 3 and channels == 1:
        picture = picture.mean(-1)
    planes = np.repeat(picture[None], channels, 0) if picture.ndim == 2 else np.moveaxis(picture, -1, 0)
    return torch.from_numpy(np.ascontiguousarray(planes))


def predict_raw(snapshot: ModelSnapshot, raw: Tensor, true: float | int | None = None) -> Prediction:
    """Preprocess one raw sample like the training data and run the snapshot's network on it."""
    data = snapshot.data
    x = data.preprocessing.apply(raw.reshape(data.input_shape)).unsqueeze(0)
    output = model_outputs(snapshot.model, [x])
    image = None
    if snapshot.image_shape is not None:
        image = to_images(raw.reshape(1, *data.input_shape).numpy(), snapshot.image_shape)[0]
    if not snapshot.classify:
        return Prediction((), values=output[0].numpy(), image=image, true=true)
    probabilities = class_probabilities(output, snapshot.loss_name)[0].numpy()
    predicted = int(snapshot.loss_fn().predict(output)[0])
    return Prediction(data.class_names, probabilities, predicted, top_classes(probabilities), image=image, true=true)


def predict_pixels(snapshot: ModelSnapshot, pixels: np.ndarray) -> Prediction:
    """The prediction for a picture in the dataset's size and raw range (the drawing pad, a loaded file)."""
    return predict_raw(snapshot, pixels_to_input(pixels, snapshot.data.input_shape))


def predict_drawing(snapshot: ModelSnapshot, canvas: np.ndarray) -> Prediction:
    """The prediction for a drawing (grey, light ink on black, [0, 1], any resolution: the pad's fine canvas).

    For ink-on-black datasets (digits, MNIST) the drawing is first made to look like their pictures (cropped,
    scaled, centred by mass: :mod:`studio.core.inspect.drawing`); other pictures are only averaged down to the
    input size. ``image`` of the answer is the picture the network saw.
    """
    shape = snapshot.image_shape
    if shape is None:
        raise DatasetError("this dataset's samples are not pictures, so a drawing cannot be fed to the network")
    size = (shape[0], shape[1])
    if dark_background(snapshot):
        picture = fit_drawing(canvas, data_style(snapshot.data, shape), size)
    else:
        from PIL import Image  # imported when used: start-up stays fast

        image = Image.fromarray(np.ascontiguousarray(canvas, np.float32), mode="F")
        picture = np.asarray(image.resize((size[1], size[0]), Image.Resampling.BOX), np.float32)
    if len(shape) == 3:
        picture = np.repeat(picture[..., None], shape[2], -1)
    return predict_pixels(snapshot, picture)


def split_size(snapshot: ModelSnapshot) -> int:
    """How many samples :func:`predict_sample` can pick from."""
    data = snapshot.data
    return data.n_val if inspect_split(data) == "val" else data.n_train


def sample_raw(snapshot: ModelSnapshot, index: int) -> tuple[Tensor, Tensor]:
    """The raw input and the label (or target) of sample ``index`` of the inspected split."""
    data = snapshot.data
    val = inspect_split(data) == "val"
    if data.streaming:
        x, label = data.dataset("val" if val else "train")[index]
        y = torch.as_tensor(label)
    else:
        xs, ys = data.tensors("val" if val else "train")
        x, y = xs[index], ys[index]
    return torch.from_numpy(raw_values(data.preprocessing, x.numpy())), y


def predict_sample(snapshot: ModelSnapshot, index: int) -> Prediction:
    """The prediction for sample ``index`` of the validation split (training split without one)."""
    raw, y = sample_raw(snapshot, index)
    true = int(y) if snapshot.classify else float(y.reshape(-1)[0])
    return predict_raw(snapshot, raw, true)


def dark_background(snapshot: ModelSnapshot, n: int = 256) -> bool:
    """True when the training pictures are light ink on a dark background (digits, MNIST)."""
    shape = snapshot.image_shape
    if shape is None or snapshot.data.streaming or snapshot.data.x_train is None:
        return False
    raw = raw_values(snapshot.data.preprocessing, snapshot.data.x_train[:n].numpy())
    return _border_mean(to_images(raw, shape)) < DARK


def _border_mean(pictures: np.ndarray) -> float:
    """Mean brightness of the outer ``BORDER`` pixels of a batch of pictures (N, H, W[, 3])."""
    b = BORDER
    edges = (pictures[:, :b], pictures[:, -b:], pictures[:, :, :b], pictures[:, :, -b:])
    return float(np.mean([edge.mean() for edge in edges]))


def load_image(path: str | os.PathLike[str], image_shape: tuple[int, ...], dark: bool = False) -> np.ndarray:
    """An image file as a picture of ``image_shape`` in [0, 1], resized by area averaging.

    For ``dark``-background datasets a light-background picture (ink on paper) is inverted, so a
    photo of a digit written on paper looks like the training digits. Transparent areas are paper.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("RGBA")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DatasetError(f"cannot read {os.fspath(path)} as an image ({exc})") from None
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    image = Image.alpha_composite(paper, image).convert("L" if len(image_shape) == 2 else "RGB")
    height, width = image_shape[:2]
    pixels = np.asarray(image.resize((width, height), Image.Resampling.BOX), np.float32) / 255.0
    if dark and _border_mean(pixels[None]) > 0.5:
        pixels = 1.0 - pixels
    return pixels


def predict_file(snapshot: ModelSnapshot, path: str | os.PathLike[str]) -> Prediction:
    """Load an image file the way the training pictures look and predict it (``image`` is what was fed)."""
    if snapshot.image_shape is None:
        raise DatasetError("this dataset's samples are not pictures, so an image file cannot be fed to the network")
    return predict_pixels(snapshot, load_image(path, snapshot.image_shape, dark_background(snapshot)))
