"""A drawing made to look like the training pictures before the network sees it.

Handwritten-digit datasets were normalised before anyone trained on them: MNIST digits were scaled to fit a
20x20 box and placed in a 28x28 frame by their centre of mass; scikit-learn's 8x8 digits were scaled to fill
their 32x32 bitmap (every digit spans the full height) before the 4x4 blocks were counted. A digit drawn small
in a corner of the pad is none of that, and a network that never saw such a picture answers with confidence and
wrongly (a clear "0" read as "4 (100%)"). So a drawing is cropped to its ink, scaled to the height of the box
that the dataset's own pictures fill (aspect kept unless that makes it wider than the box), placed by its centre
of mass where theirs lies, averaged down to the input size and brightened to the ink of the training pictures
(a large drawing scaled down leaves a thin grey stroke). The box, the centre and the brightness are measured
from the training pictures, not hard-coded per dataset.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from studio.core.data.types import PreparedData
from studio.core.inspect.snapshot import raw_values, to_images

INK = 0.1  # a pixel above this share of the picture's brightest is ink (for boxes and crops)
STYLE_SAMPLES = 1000  # training pictures measured for the style
BOX_PERCENTILE = 90  # the box: how tall and wide the dataset's larger pictures are (a "1" is narrow)
FINE = 8  # fine pixels per input pixel while scaling and placing
MNIST_BOX = 20 / 28  # without pictures to measure (streaming data): MNIST's rule


@dataclass(frozen=True)
class PictureStyle:
    """Where the ink of a training picture lies, in input pixels: the ``box`` (height, width) it fits and the
    ``centre`` (row, column) of its centre of mass, pixel centres at +0.5; and how bright its ink is."""

    box: tuple[float, float]
    centre: tuple[float, float]
    peak: float = 1.0  # the brightest pixel of a typical picture

    @classmethod
    def default(cls, shape: tuple[int, int]) -> PictureStyle:
        h, w = shape
        return cls((h * MNIST_BOX, w * MNIST_BOX), (h / 2, w / 2))


def _extent(ink: np.ndarray) -> np.ndarray:
    """Per picture (N, L) of booleans: the number of positions from the first to the last ink, inclusive."""
    any_ink = ink.any(1)
    first = np.argmax(ink, 1)
    last = ink.shape[1] - 1 - np.argmax(ink[:, ::-1], 1)
    return np.where(any_ink, last - first + 1, 0)


def _centre_of_mass(pictures: np.ndarray) -> np.ndarray:
    """(N, 2) centres of mass (row, column) of (N, H, W) pictures, pixel centres at +0.5."""
    _, h, w = pictures.shape
    mass = pictures.sum((1, 2))
    rows = (pictures.sum(2) * (np.arange(h) + 0.5)).sum(1) / mass
    columns = (pictures.sum(1) * (np.arange(w) + 0.5)).sum(1) / mass
    return np.stack([rows, columns], 1)


def measure_style(pictures: np.ndarray) -> PictureStyle:
    """The style of (N, H, W) grey pictures in [0, 1] with light ink on black (pictures without ink are skipped)."""
    pictures = pictures[pictures.reshape(len(pictures), -1).max(1) > 0]
    if not len(pictures):
        return PictureStyle.default(pictures.shape[1:3])
    ink = pictures > INK * pictures.max((1, 2), keepdims=True)
    heights, widths = _extent(ink.any(2)), _extent(ink.any(1))
    centre = np.median(_centre_of_mass(pictures), 0)
    box = (float(np.percentile(heights, BOX_PERCENTILE)), float(np.percentile(widths, BOX_PERCENTILE)))
    peak = float(np.median(pictures.max((1, 2))))
    return PictureStyle(box, (float(centre[0]), float(centre[1])), peak)


_STYLES: dict[int, PictureStyle] = {}  # by id of a live PreparedData (unhashable: a dataclass with eq)


def data_style(data: PreparedData, image_shape: tuple[int, ...]) -> PictureStyle:
    """The style of ``data``'s training pictures, measured once per prepared data (it follows the pen)."""
    style = _STYLES.get(id(data))
    if style is None:
        if data.streaming or data.x_train is None:
            style = PictureStyle.default((image_shape[0], image_shape[1]))
        else:
            pictures = to_images(raw_values(data.preprocessing, data.x_train[:STYLE_SAMPLES].numpy()), image_shape)
            style = measure_style(pictures.mean(-1) if pictures.ndim == 4 else pictures)
        _STYLES[id(data)] = style
        weakref.finalize(data, _STYLES.pop, id(data), None)
    return style


def _resize(picture: np.ndarray, height: int, width: int) -> np.ndarray:
    from PIL import Image  # imported when used: start-up stays fast

    image = Image.fromarray(np.ascontiguousarray(picture, np.float32), mode="F")
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), np.float32)


def fit_drawing(canvas: np.ndarray, style: PictureStyle, shape: tuple[int, int]) -> np.ndarray:
    """``canvas`` (a grey drawing at any resolution, light ink on black, [0, 1]) as an input picture of ``shape``:
    cropped to its ink, scaled into ``style.box``, centred by mass on ``style.centre``, averaged down, its
    brightest pixel made ``style.peak``."""
    h, w = shape
    top = float(canvas.max()) if canvas.size else 0.0
    if top <= 0:
        return np.zeros(shape, np.float32)
    ink = canvas > INK * top
    rows, columns = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    crop = canvas[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    # Height first, as both datasets fill their box's height; a drawing wider than the box is narrowed to it
    # (a round "0" becomes as slim as the dataset's zeros).
    height = style.box[0] * FINE
    width = min(crop.shape[1] * height / crop.shape[0], style.box[1] * FINE)
    scaled = np.clip(_resize(crop, max(round(height), 1), max(round(width), 1)), 0, 1)
    centre = _centre_of_mass(scaled[None])[0] if scaled.sum() > 0 else np.array(scaled.shape) / 2
    fine = np.zeros((h * FINE, w * FINE), np.float32)
    # By the centre of mass, but never out of the frame: the digits fill their frame's height, so a "7" (heavy at
    # the top) placed by its mass alone would lose its foot.
    r0, c0 = (int(min(max(round(style.centre[k] * FINE - centre[k]), 0), max(fine.shape[k] - scaled.shape[k], 0)))
              for k in (0, 1))
    fr0, fc0 = max(r0, 0), max(c0, 0)
    fr1, fc1 = min(r0 + scaled.shape[0], fine.shape[0]), min(c0 + scaled.shape[1], fine.shape[1])
    if fr0 < fr1 and fc0 < fc1:
        fine[fr0:fr1, fc0:fc1] = scaled[fr0 - r0:fr1 - r0, fc0 - c0:fc1 - c0]
    averaged: np.ndarray = fine.reshape(h, FINE, w, FINE).mean(axis=(1, 3))
    # A stroke thinned by scaling down averages to grey; the training pictures' ink is as bright as ``peak``.
    top = float(averaged.max())
    return averaged * (style.peak / top) if top > 0 else averaged
