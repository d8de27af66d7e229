"""Values read out of images for people: the pixel under the cursor with its errors,
the input pixel it came from, and the pixels along a line."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.common.arrays import as_hwc


def source_pixel(
    y: int, x: int, output_size: Sequence[int], input_size: Sequence[int]
) -> tuple[int, int]:
    """The input pixel whose area holds the centre of output pixel ``(y, x)``.

    Uses the half-pixel mapping of every method (docs/METHODS.md#images):
    ``src = floor((dst + 0.5) * in / out)``, clipped to the input.
    """
    sy = min(int(math.floor((y + 0.5) * input_size[0] / output_size[0])), input_size[0] - 1)
    sx = min(int(math.floor((x + 0.5) * input_size[1] / output_size[1])), input_size[1] - 1)
    return max(sy, 0), max(sx, 0)


@dataclass(frozen=True)
class PixelReport:
    """Values at one pixel: the reference's and each image's, with its error.

    Values are tuples over channels in the images' own units; ``errors[name]`` is
    ``value - reference`` per channel, or None without a reference or when shapes differ.
    """

    y: int
    x: int
    reference: tuple[float, ...] | None
    values: Mapping[str, tuple[float, ...] | None]
    errors: Mapping[str, tuple[float, ...] | None]


def pixel_values(image: np.ndarray, y: int, x: int) -> tuple[float, ...] | None:
    """The channel values of ``image`` at ``(y, x)``, or None outside it."""
    if not (0 <= y < image.shape[0] and 0 <= x < image.shape[1]):
        return None
    value = image[y, x]
    return tuple(float(v) for v in np.atleast_1d(value))


def pixel_report(
    images: Mapping[str, np.ndarray], y: int, x: int, reference: np.ndarray | None = None
) -> PixelReport:
    """Read every image at ``(y, x)`` and its error against ``reference``."""
    ref = pixel_values(reference, y, x) if reference is not None else None
    values: dict[str, tuple[float, ...] | None] = {}
    errors: dict[str, tuple[float, ...] | None] = {}
    for name, image in images.items():
        value = values[name] = pixel_values(image, y, x)
        same = reference is not None and image.shape == reference.shape
        if value is not None and ref is not None and same:
            errors[name] = tuple(v - r for v, r in zip(value, ref))
        else:
            errors[name] = None
    return PixelReport(y=y, x=x, reference=ref, values=values, errors=errors)


@dataclass(frozen=True)
class LineSamples:
    """Pixel positions along a line and their indices, for reading profiles.

    ``distance`` is in pixels from the start, float64 ``(n,)``; ``rows`` and ``cols`` are
    the int64 ``(n,)`` indices of the pixel holding each sample.
    """

    distance: np.ndarray
    rows: np.ndarray
    cols: np.ndarray


def line_samples(start: Sequence[float], end: Sequence[float], shape: Sequence[int]) -> LineSamples:
    """One sample per pixel of length along the segment ``start -> end``.

    ``start`` and ``end`` are ``(x, y)`` in image coordinates (pixel ``(r, c)`` covers
    ``[c, c+1) x [r, r+1)``); samples are evenly spaced, ``ceil(length) + 1`` of them,
    and each reads the pixel it falls in (no interpolation, so a profile shows the
    pixels exactly as they are). Samples outside the image are dropped.
    """
    (x0, y0), (x1, y1) = (tuple(map(float, start)), tuple(map(float, end)))
    length = math.hypot(x1 - x0, y1 - y0)
    count = int(math.ceil(length)) + 1
    t = np.linspace(0.0, 1.0, count)
    xs, ys = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    cols, rows = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    return LineSamples(distance=(t * length)[inside], rows=rows[inside], cols=cols[inside])


def line_profile(image: np.ndarray, samples: LineSamples) -> np.ndarray:
    """The values of ``image`` at ``samples``: float64 ``(n,)`` for grey, else the mean
    over colour channels (alpha excluded), in the image's own units."""
    hwc = as_hwc(image)
    channels = hwc[:, :, :3] if hwc.shape[2] >= 3 else hwc[:, :, :1]
    picked = channels[samples.rows, samples.cols].astype(np.float64)
    return picked.mean(axis=1)
