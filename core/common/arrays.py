"""Checks and conversions shared by every numeric entry point of `core`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from core.common.errors import ParameterError
from core.common.limits import limits

SUPPORTED_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))

ScaleArg = float | Sequence[float] | None
SizeArg = Sequence[int] | None


def as_hwc(image: Any, name: str = "image") -> np.ndarray:
    """Validate an image and return it as ``(H, W, C)`` (a view where possible).

    Accepts ``(H, W)`` or ``(H, W, C)`` arrays with 1 to 4 channels, dtype ``uint8``,
    ``uint16`` or ``float32``, at least 1x1, and (for float32) finite.
    """
    if not isinstance(image, np.ndarray):
        raise ParameterError(f"{name} must be a NumPy array, got {type(image).__name__}")
    if image.ndim not in (2, 3):
        raise ParameterError(f"{name} must have shape (H, W) or (H, W, C); got {image.shape}")
    if image.ndim == 3 and not 1 <= image.shape[2] <= 4:
        raise ParameterError(f"{name} must have 1 to 4 channels; got {image.shape[2]} (shape {image.shape})")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ParameterError(f"{name} is empty (shape {image.shape})")
    if image.dtype not in SUPPORTED_DTYPES:
        raise ParameterError(
            f"{name} has dtype {image.dtype}; Upscope works on uint8, uint16 and float32 "
            "(convert with .astype(np.float32) for other types)"
        )
    if image.dtype == np.float32 and not np.isfinite(image).all():
        raise ParameterError(f"{name} contains NaN or infinite values")
    return image if image.ndim == 3 else image[:, :, None]


def like_input(result: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Cast ``(h, w, C)`` ``result`` to ``original``'s dtype and channel layout.

    Integer dtypes are rounded half to even and clipped to their range; float32 is not
    clipped (see `cast_float`).
    """
    result = cast_float(result, original.dtype)
    if original.ndim == 2:
        result = result[:, :, 0]
    return np.ascontiguousarray(result)


def cast_float(result: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """``result`` as ``dtype``: integer dtypes rounded half to even and clipped to their
    range, float32 unclipped. A writeable float ``result`` is rounded in place (it may be
    hundreds of megabytes), so callers must not reuse it; no copy when the dtype matches."""
    dtype = np.dtype(dtype)
    if result.dtype == dtype:
        return result
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not result.flags.writeable or result.dtype.kind != "f":
            result = result.astype(np.float32)
        np.rint(result, out=result)
        np.clip(result, info.min, info.max, out=result)
    return result.astype(dtype)


#: The largest finite float32, about 3.4e38.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_finite_result(result: np.ndarray, source: np.ndarray, what: str) -> np.ndarray:
    """``result`` itself when it is finite. A method's float result holding NaN or an
    infinity, computed from a ``source`` that `as_hwc` found finite, means the method's
    values (its overshoot past the input, or a sum on the way) left float32's range:
    `ParameterError` names ``what`` (the method), the largest input value and the reason,
    instead of a silent NaN. Integer results are clipped to their range and pass.

    One pass over ``result`` (OpenCV's per-channel sums in float64, which no finite
    float32 image can overflow and which NaN and infinity reach: half the time of NumPy's
    min and max); the input is read again only to word the message."""
    if result.dtype.kind != "f" or result.size == 0:
        return result
    if all(math.isfinite(total) for total in cv2.sumElems(result)):
        return result
    largest = float(np.abs(source).max()) if source.size else 0.0
    raise ParameterError(
        f"{what}: the result leaves float32's range (largest {FLOAT32_MAX:.3g}): the input reaches "
        f"{largest:.3g}, too close to that limit for the overshoot and sums of this method; "
        "scale the image into a smaller range first"
    )


def as_real(where: str, value: Any) -> float:
    """``value`` as a finite float; bools, strings and NaN/inf raise `ParameterError`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{where} must be a number; got {value!r}")
    number = float(value)
    if math.isnan(number):
        raise ParameterError(f"{where} is NaN; give a finite number")
    if not math.isfinite(number):
        raise ParameterError(f"{where} must be finite; got {value!r}")
    return number


def parse_scale(scale: Any, name: str = "scale") -> tuple[float, float]:
    """Return a validated ``(scale_y, scale_x)`` from a number or a ``(y, x)`` pair."""
    if isinstance(scale, (str, bytes)) or scale is None:
        raise ParameterError(f"{name} must be a number or a (y, x) pair; got {scale!r}")
    if np.ndim(scale) == 0:
        pair = (scale, scale)
    else:
        pair = tuple(scale)
        if len(pair) != 2:
            raise ParameterError(f"{name} must be a number or a (y, x) pair; got {scale!r}")
    values = []
    for value in pair:
        if isinstance(value, (float, np.floating)) and math.isnan(value):
            raise ParameterError(f"{name} is NaN; give a positive number such as 2 or 3.5")
        if isinstance(value, (float, np.floating)) and math.isinf(value):
            raise ParameterError(f"{name} must be a positive finite number; got {value:g}")
        value = as_real(name, value)
        if value <= 0:
            raise ParameterError(f"{name} must be a positive finite number; got {number_text(value)}")
        values.append(value)
    return values[0], values[1]


def scaled_size(in_size: tuple[int, int], scale: tuple[float, float]) -> tuple[int, int]:
    """``floor(in * s + 0.5)`` per axis, as docs/METHODS.md#images defines the output size."""
    return tuple(int(math.floor(n * s + 0.5)) for n, s in zip(in_size, scale))  # type: ignore[return-value]


def resolve_size(
    in_size: tuple[int, int], scale: ScaleArg, size: SizeArg
) -> tuple[tuple[int, int], tuple[float, float]]:
    """Output size ``(h, w)`` and the scale ``(y, x)`` it stands for.

    Exactly one of ``scale`` and ``size`` must be given. The size is checked against
    ``core.limits.max_output_pixels`` before anything is allocated.
    """
    if (scale is None) == (size is None):
        raise ParameterError("give exactly one of scale= and size=")
    if size is not None:
        if isinstance(size, (str, bytes)) or np.ndim(size) != 1 or len(size) != 2:
            raise ParameterError(f"size must be (height, width); got {size!r}")
        out = []
        for value in size:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"size must be two positive whole numbers (height, width); got {tuple(size)!r}")
            out.append(int(value))
        out_size = (out[0], out[1])
        factors = (out_size[0] / in_size[0], out_size[1] / in_size[1])
    else:
        factors = parse_scale(scale)
        out_size = scaled_size(in_size, factors)
        if min(out_size) < 1:
            raise ParameterError(
                f"scale {_fmt_scale(factors)} turns {size_text(*in_size)} into an empty image"
            )
    check_output_size(out_size, factors)
    return out_size, factors


def check_output_size(out_size: tuple[int, int], factors: tuple[float, float] | None = None) -> None:
    """Refuse outputs over ``core.limits.max_output_pixels``."""
    pixels = out_size[0] * out_size[1]
    if pixels > limits.max_output_pixels:
        what = f"scale {_fmt_scale(factors)} gives" if factors else "the output would be"
        raise ParameterError(
            f"{what} {size_text(*out_size)} pixels ({pixels / 1e6:,.0f} megapixels), over the "
            f"limit of {limits.max_output_pixels / 1e6:,.0f} megapixels "
            "(core.limits.max_output_pixels)"
        )


def number_text(value: float) -> str:
    """A number as a message shows it: short (``2``, ``2.5``, ``1e+09``) when that reads
    back as the same number, else with every digit it needs (``2.0000001``, never a
    rounded ``2`` that would contradict the refusal it explains)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def size_text(height: int, width: int) -> str:
    """An image size as people write it, width first: ``size_text(300, 448) == "448x300"``.
    Every message and title uses this order."""
    return f"{width}x{height}"


def data_range(dtype: np.dtype) -> float:
    """Peak value R of docs/METHODS.md#metrics: 255 for uint8, 65535 for uint16, 1.0 for float."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    return 1.0


def _fmt_scale(factors: tuple[float, float] | None) -> str:
    if factors is None:
        return ""
    y, x = factors
    return number_text(y) if y == x else f"{number_text(y)}x{number_text(x)} (y, x)"
