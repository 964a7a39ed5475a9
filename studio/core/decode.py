"""Decoding pictures into rows of a memory-mapped cache; the code that decoding processes run.

Only numpy and Pillow are imported here (never torch), so a decoding process starts in a fraction
of a second; that is why this module sits outside ``studio.core.data``, whose package imports torch.
Every picture becomes ``size``×``size`` (stretched to a square, as the image folder promises) in grey
or RGB: grayscale, palette, CMYK and RGBA files are converted by Pillow. A file that cannot be decoded
is reported with its reason and skipped; nothing here raises for a bad file.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np
from PIL import Image

MODES = {1: "L", 3: "RGB"}
# Pillow refuses pictures above this many pixels (a "decompression bomb" can fill the memory).
Image.MAX_IMAGE_PIXELS = 120_000_000

Row = tuple[int, str]  # (row of the cache, path of the picture)


def decode_file(path: str | os.PathLike[str], size: int, channels: int) -> np.ndarray:
    """One picture as a uint8 array (channels, size, size); raises OSError/ValueError for a bad file."""
    mode = MODES[channels]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # palette transparency, EXIF oddities: the pixels are what count
        with Image.open(path) as image:
            image.draft(mode, (size, size))  # JPEG: decode at 1/2, 1/4 or 1/8 scale when that is still large enough
            picture = image.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
    pixels = np.asarray(picture, dtype=np.uint8)
    return pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)


def reason(exc: BaseException) -> str:
    """A short reason for a failed picture (the first line of the error, or its kind)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def decode_rows(pixels: np.ndarray, rows: Sequence[Row], size: int, channels: int) -> list[tuple[int, str]]:
    """Decode each ``(row, path)`` into ``pixels[row]``; the rows that failed, with their reasons."""
    failed = []
    for row, path in rows:
        try:
            pixels[row] = decode_file(path, size, channels)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            failed.append((row, reason(exc)))
    return failed


def decode_into(cache: str, shape: tuple[int, ...], rows: Sequence[Row], size: int,
                channels: int) -> list[tuple[int, str]]:
    """The work of one decoding process: open the cache file, fill ``rows``, flush; the failures."""
    pixels = np.memmap(cache, dtype=np.uint8, mode="r+", shape=shape)
    try:
        return decode_rows(pixels, rows, size, channels)
    finally:
        pixels.flush()
        del pixels
