"""Downsamplers for degrade-then-restore mode: make the low-resolution input ourselves."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from core.common.arrays import (
    ScaleArg,
    as_hwc,
    check_finite_result,
    like_input,
    number_text,
    parse_scale,
    size_text,
)
from core.common.errors import ParameterError, UnsupportedScaleError
from core.methods.registry import is_whole
from core.methods.taps import (
    antialias_taps,
    apply_taps,
    cv2_resize,
    keys_cubic,
    nearest_index,
)

# Pillow's and PyTorch's anti-aliased bicubic use Catmull-Rom (a = -0.5), support 2.
_AA_CUBIC_A = -0.5


#: Whole-number factors ``(y, x)`` (or the scale asked for, for the resizing downsamplers).
Factors = tuple[float, float]
#: What a downsampler returns: the shrunk image and what it recorded for the methods.
Shrunk = tuple[np.ndarray, dict[str, Any]]


@dataclass(frozen=True)
class DownsamplerSpec:
    """A way to shrink an image by a factor, for degrade-then-restore comparisons."""

    id: str
    label: str
    description: str
    integer_only: bool
    function: Callable[[np.ndarray, tuple[int, int], Factors], Shrunk]


def _area(image: np.ndarray, size: tuple[int, int], factor: Factors) -> Shrunk:
    return cv2_resize(image, size, cv2.INTER_AREA), {}


def _bicubic(image: np.ndarray, size: tuple[int, int], factor: Factors) -> Shrunk:
    return cv2_resize(image, size, cv2.INTER_CUBIC), {}


def _bicubic_aa(image: np.ndarray, size: tuple[int, int], factor: Factors) -> Shrunk:
    kernel = lambda x: keys_cubic(x, _AA_CUBIC_A)  # noqa: E731
    rows = antialias_taps(image.shape[0], size[0], kernel, 2.0)
    cols = antialias_taps(image.shape[1], size[1], kernel, 2.0)
    return apply_taps(image, rows, cols, image.dtype), {}


def _nearest(image: np.ndarray, size: tuple[int, int], factor: Factors) -> Shrunk:
    rows = nearest_index(image.shape[0], size[0])
    cols = nearest_index(image.shape[1], size[1])
    return image.take(rows, axis=0).take(cols, axis=1), {}


def _whole(factor: Factors) -> tuple[int, int]:
    """The whole-number factors of a pooling downsampler (only those reach it)."""
    return round(factor[0]), round(factor[1])


def _windows(image: np.ndarray, factor: tuple[int, int]) -> np.ndarray:
    """``(h, w, C, fy * fx)`` view of the non-overlapping windows, row-major inside."""
    (fy, fx), (h, w, c) = factor, image.shape
    blocks = image.reshape(h // fy, fy, w // fx, fx, c).transpose(0, 2, 4, 1, 3)
    return blocks.reshape(h // fy, w // fx, c, fy * fx)


def _avg_pool(image: np.ndarray, size: tuple[int, int], factor: Factors) -> Shrunk:
    return _windows(image, _whole(factor)).mean(axis=-1, dtype=np.float64), {}


def _max_pool(image: np.ndarray, size: tuple[int, int], factor: Factors) -> Shrunk:
    fy, fx = _whole(factor)
    windows = _windows(image, (fy, fx))
    inner = windows.argmax(axis=-1)  # the first maximum in row-major order, as PyTorch
    low_h, low_w = size
    rows = np.arange(low_h)[:, None, None] * fy + inner // fx
    cols = np.arange(low_w)[None, :, None] * fx + inner % fx
    low = np.take_along_axis(windows, inner[..., None], axis=-1)[..., 0]
    return low, {"indices": rows * image.shape[1] + cols}


_DOWNSAMPLERS = {
    spec.id: spec
    for spec in (
        DownsamplerSpec("area", "Area", "OpenCV INTER_AREA: the mean of the pixels each output covers.", False, _area),
        DownsamplerSpec("bicubic", "Bicubic (aliased)", "Plain OpenCV INTER_CUBIC with no anti-aliasing: "
                        "aliasing stays visible.", False, _bicubic),
        DownsamplerSpec("bicubic-aa", "Bicubic, anti-aliased", "Anti-aliased bicubic (kernel widened by the "
                        "factor), the usual degradation of super-resolution benchmarks; close to MATLAB imresize.",
                        False, _bicubic_aa),
        DownsamplerSpec("nearest", "Nearest (decimate)", "Keeps every s-th pixel: maximal aliasing.", False, _nearest),
        DownsamplerSpec("avg-pool", "Average pooling", "Mean of each s x s window (avg_pool2d).", True, _avg_pool),
        DownsamplerSpec("max-pool", "Max pooling", "Max of each s x s window (max_pool2d); the positions of the "
                        "maxima are kept for max unpooling.", True, _max_pool),
    )
}


def list_downsamplers() -> list[DownsamplerSpec]:
    """Every downsampler, in the order of docs/METHODS.md#degrade."""
    return list(_DOWNSAMPLERS.values())


def get_downsampler(downsampler_id: str) -> DownsamplerSpec:
    """The spec of ``downsampler_id``; an unknown id raises `ParameterError`."""
    try:
        return _DOWNSAMPLERS[downsampler_id]
    except (KeyError, TypeError):
        raise ParameterError(
            f"unknown downsampler {downsampler_id!r}; known: {', '.join(_DOWNSAMPLERS)}"
        ) from None


def crop_to_multiple(image: np.ndarray, factor: ScaleArg) -> np.ndarray:
    """Crop the bottom and right of ``image`` to a multiple of a whole-number ``factor``.

    Non-integer factors return ``image`` unchanged. This is the ground truth that
    `downsample` shrinks, so restored images line up with it pixel for pixel.
    """
    fy, fx = parse_scale(factor, "factor")
    if not (is_whole(fy) and is_whole(fx)):
        return image
    fy, fx = round(fy), round(fx)
    return image[: image.shape[0] // fy * fy, : image.shape[1] // fx * fx]


def downsample(image: np.ndarray, factor: ScaleArg, method: str = "bicubic-aa") -> tuple[np.ndarray, dict[str, Any]]:
    """Shrink ``image`` by ``factor`` with the downsampler ``method``.

    Parameters
    ----------
    image:
        ``(H, W)`` or ``(H, W, C)``, ``uint8``, ``uint16`` or ``float32``.
    factor:
        At least 1; a number or a ``(y, x)`` pair. With whole-number factors the image is
        first cropped at the bottom/right to a multiple of the factor (`crop_to_multiple`),
        so the low-resolution size is exactly ``H // factor``. Other factors give
        ``floor(H / factor + 0.5)`` and are refused by the pooling downsamplers.
    method:
        ``area``, ``bicubic``, ``bicubic-aa``, ``nearest``, ``avg-pool`` or ``max-pool``.

    Returns
    -------
    (low, extras)
        ``low`` has the input's dtype and channel layout. ``extras`` holds keyword
        arguments for ``upsample(low, "max-unpool", scale=factor, **extras)``:
        ``output_size`` (the cropped original's size) and, after ``max-pool``,
        ``indices`` (flat positions of each maximum in that size, shaped like ``low``).
    """
    spec = get_downsampler(method)
    hwc = as_hwc(image)
    fy, fx = parse_scale(factor, "factor")
    if fy < 1 or fx < 1:
        raise ParameterError(f"downsampling factor must be at least 1; got {_factor_text(fy, fx)}")
    whole = is_whole(fy) and is_whole(fx)
    if spec.integer_only and not whole:
        given = fy if not is_whole(fy) else fx
        raise UnsupportedScaleError(f"{spec.label} takes whole-number factors only (x2, x3, ...), not x{number_text(given)}")
    factors: Factors = (fy, fx)
    if whole:
        steps = (round(fy), round(fx))
        factors = steps
        hwc = crop_to_multiple(hwc, steps)
        low_size = (hwc.shape[0] // steps[0], hwc.shape[1] // steps[1])
    else:
        low_size = (math.floor(hwc.shape[0] / fy + 0.5), math.floor(hwc.shape[1] / fx + 0.5))
    if min(low_size) < 1:
        raise ParameterError(
            f"a {size_text(*image.shape[:2])} image is too small to shrink by {_factor_text(fy, fx)}"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused by name below
        low, extras = spec.function(hwc, low_size, factors)
    return like_input(check_finite_result(low, hwc, spec.label), image), unpool_extras(extras, image.ndim, hwc.shape[:2])


def _factor_text(fy: float, fx: float) -> str:
    return number_text(fy) if fy == fx else f"{number_text(fy)}x{number_text(fx)}"


def unpool_extras(extras: dict[str, Any], ndim: int, output_size: tuple[int, int]) -> dict[str, Any]:
    """A downsampler's extras as ``upsample(low, "max-unpool", ...)`` takes them: with the
    cropped original's ``output_size``, and ``indices`` shaped like a 2-D image (``ndim``
    2) when the image was."""
    extras = dict(extras, output_size=output_size)
    if ndim == 2 and "indices" in extras:
        extras["indices"] = extras["indices"][:, :, 0]
    return extras
