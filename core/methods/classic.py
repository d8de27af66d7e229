"""Classic interpolation: nearest, bilinear (three ways), bicubic, Lanczos, area.

Every function takes an ``(H, W, C)`` array and the output size ``(h, w)`` and maps
destination to source by the size ratio ``in / out`` (see docs/METHODS.md#images).
"""

from __future__ import annotations

import cv2
import numpy as np

from core.common.arrays import cast_float
from core.common.cancel import check_cancelled
from core.methods.explain import (
    AxisRule,
    aligned_formula,
    area_formula,
    area_source,
    half_pixel_formula,
    nearest_exact_formula,
    nearest_exact_source,
    nearest_formula,
    nearest_source,
    one_tap,
    separable,
)
from core.methods.registry import Param, register_method
from core.methods.taps import (
    BAND_BYTES,
    OPENCV_CUBIC_A,
    aligned_coords,
    apply_taps,
    area_taps,
    cubic_taps,
    half_pixel_coords,
    lanczos4_taps,
    linear_taps,
    nearest_exact_index,
    nearest_index,
    resize_aligned,
    resize_as_defined,
)

#: How each axis maps output to input, for `core.explain_pixel` and the sampling grid.
NEAREST_AXIS = AxisRule(lambda n, m: one_tap(nearest_index(n, m)), nearest_source, nearest_formula)
NEAREST_EXACT_AXIS = AxisRule(lambda n, m: one_tap(nearest_exact_index(n, m)), nearest_exact_source,
                              nearest_exact_formula)
LINEAR_AXIS = AxisRule(lambda n, m: linear_taps(half_pixel_coords(n, m), n), half_pixel_coords, half_pixel_formula)
ALIGNED_AXIS = AxisRule(lambda n, m: linear_taps(aligned_coords(n, m), n), aligned_coords, aligned_formula)
LANCZOS4_AXIS = AxisRule(lambda n, m: lanczos4_taps(half_pixel_coords(n, m), n), half_pixel_coords, half_pixel_formula)
AREA_AXIS = AxisRule(area_taps, area_source, area_formula, holds_edge=False)


def _cubic_axis(params: dict) -> AxisRule:
    a = params["a"]
    return AxisRule(lambda n, m: cubic_taps(half_pixel_coords(n, m), n, a), half_pixel_coords, half_pixel_formula)


@register_method(
    "nearest",
    label="Nearest",
    family="classic",
    description="Nearest neighbour, src = floor(dst * in/out): each output pixel copies one input "
    "pixel; blocky, never blurs, aliases at non-integer scales.",
    also_called=("nearest neighbour", "point sampling", "INTER_NEAREST"),
    reference="torch interpolate(mode='nearest'); cv2.INTER_NEAREST",
    explain=separable(NEAREST_AXIS),
)
def nearest(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest neighbour by ``src = min(floor(dst * in/out), in - 1)``, computed exactly
    (docs/METHODS.md#nearest): OpenCV's ``INTER_NEAREST`` where a ramp probe shows its
    indices equal these for both axes, the integer indices gathered elsewhere.
    ``(H, W, C)`` to ``(h, w, C)`` of the same dtype."""
    return resize_as_defined(image, size, cv2.INTER_NEAREST)


@register_method(
    "nearest-exact",
    label="Nearest (pixel centres)",
    family="classic",
    description="Nearest neighbour by pixel centres, src = floor((dst + 0.5) * in/out); differs from "
    "'nearest' only at non-integer scales, where it is better centred.",
    also_called=("nearest-exact", "INTER_NEAREST_EXACT", "Pillow NEAREST"),
    reference="torch interpolate(mode='nearest-exact')",
    explain=separable(NEAREST_EXACT_AXIS),
)
def nearest_exact(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest neighbour by pixel centres, ``src = min(floor((dst + 0.5) * in/out), in - 1)``,
    computed exactly (docs/METHODS.md#nearest-exact): OpenCV's ``INTER_NEAREST_EXACT``
    where a ramp probe shows its indices equal these (it is off by one in places on axes
    of about 100,000 pixels and more), the integer indices gathered elsewhere. Same dtype."""
    return resize_as_defined(image, size, cv2.INTER_NEAREST_EXACT)


@register_method(
    "bilinear",
    label="Bilinear",
    family="classic",
    description="Bilinear interpolation with half-pixel centres (OpenCV INTER_LINEAR, PyTorch "
    "align_corners=False): smooth, slightly blurry, no overshoot.",
    also_called=("linear", "INTER_LINEAR", "align_corners=False"),
    reference="torch interpolate(mode='bilinear', align_corners=False); cv2.INTER_LINEAR",
    explain=separable(LINEAR_AXIS),
)
def bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation with half-pixel centres (docs/METHODS.md#bilinear). OpenCV's
    ``INTER_LINEAR`` where its float32 coordinates keep it within the tolerance of the
    dtype for these sizes (`opencv_within_tolerance_for`), exact taps from float64 coordinates
    elsewhere (long axes, most of all in uint16 and float32). Same dtype."""
    return resize_as_defined(image, size, cv2.INTER_LINEAR)


@register_method(
    "bilinear-aligned",
    label="Bilinear (corners aligned)",
    family="classic",
    description="Bilinear interpolation with the corner pixels aligned, src = dst * (in-1)/(out-1) "
    "(PyTorch align_corners=True, nn.UpsamplingBilinear2d); shifts the image slightly.",
    also_called=("align_corners=True", "UpsamplingBilinear2d"),
    reference="torch interpolate(mode='bilinear', align_corners=True)",
    explain=separable(ALIGNED_AXIS),
)
def bilinear_aligned(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation with the corners aligned, ``src = dst * (in-1)/(out-1)``
    (docs/METHODS.md#bilinear-aligned). OpenCV has no such mode, but its half-pixel
    ``INTER_LINEAR`` on a crop of the input meets the aligned mapping exactly for most
    sizes (an even input at an integer scale among them): it runs where a probe of its
    weights keeps the result within the tolerance (`resize_aligned`), exact taps from
    float64 coordinates elsewhere. Same dtype."""
    return resize_aligned(image, size)


@register_method(
    "bilinear-numpy",
    label="Bilinear (NumPy formula)",
    family="classic",
    description="The textbook bilinear formula f = w11 Q11 + w21 Q21 + w12 Q12 + w22 Q22 written "
    "in vectorised NumPy, same mapping as 'bilinear'; a teaching twin of the OpenCV kernel.",
    also_called=("bilinear", "four-neighbour interpolation"),
    reference="equals 'bilinear'",
    explain=separable(LINEAR_AXIS),
)
def bilinear_numpy(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The four-neighbour bilinear formula written out in NumPy, with ``bilinear``'s
    mapping and clamping (docs/METHODS.md#bilinear-numpy): float64 coordinates, float32
    arithmetic, no OpenCV. ``(h, w, C)`` of the input's dtype, rounded half to even."""
    (ys, wy), (xs, wx) = (
        linear_taps(half_pixel_coords(image.shape[0], size[0]), image.shape[0]),
        linear_taps(half_pixel_coords(image.shape[1], size[1]), image.shape[1]),
    )
    x0, x1 = xs[None, :, 0], xs[None, :, 1]  # (1, w)
    dx = wx[None, :, 1, None].astype(np.float32)  # (1, w, 1): fractional column offset
    out = np.empty((size[0], size[1], image.shape[2]), image.dtype)
    # Bands of output rows keep the formula's float32 temporaries to a few megabytes.
    step = max(1, BAND_BYTES // (size[1] * image.shape[2] * 4))
    for top in range(0, size[0], step):
        check_cancelled()
        rows = slice(top, top + step)
        y0, y1 = ys[rows, 0, None], ys[rows, 1, None]  # (band, 1): broadcast against columns
        dy = wy[rows, 1, None, None].astype(np.float32)  # (band, 1, 1): fractional row offset
        q11 = image[y0, x0].astype(np.float32)  # (y0, x0)
        q21 = image[y0, x1].astype(np.float32)  # (y0, x1)
        q12 = image[y1, x0].astype(np.float32)  # (y1, x0)
        q22 = image[y1, x1].astype(np.float32)  # (y1, x1)
        f = (1 - dy) * ((1 - dx) * q11 + dx * q21) + dy * ((1 - dx) * q12 + dx * q22)
        out[rows] = cast_float(f, image.dtype)
    return out



@register_method(
    "bicubic",
    label="Bicubic",
    family="classic",
    description="Keys cubic convolution over 4x4 neighbours, half-pixel centres, a = -0.75 "
    "(OpenCV, PyTorch); a = -0.5 is Catmull-Rom (Pillow, MATLAB). Sharper than bilinear, "
    "with slight overshoot (halo) at edges.",
    params=(
        Param("a", "float", OPENCV_CUBIC_A, "Keys kernel parameter: -0.75 OpenCV/PyTorch, -0.5 Catmull-Rom",
              minimum=-1.0, maximum=0.0),
    ),
    also_called=("cubic convolution", "INTER_CUBIC", "Catmull-Rom (a=-0.5)"),
    reference="torch interpolate(mode='bicubic', align_corners=False) for a=-0.75; cv2.INTER_CUBIC",
    explain=separable(_cubic_axis),
)
def bicubic(image: np.ndarray, size: tuple[int, int], *, a: float) -> np.ndarray:
    """Keys cubic convolution with parameter ``a`` over 4x4 neighbours, half-pixel
    centres, indices clamped to the edge (docs/METHODS.md#bicubic). For ``a = -0.75``
    OpenCV's ``INTER_CUBIC`` where its float32 coordinates keep it within the tolerance of
    the dtype for these sizes (`opencv_within_tolerance_for`); exact taps from float64
    coordinates otherwise, so nearby values of ``a`` give results within the tolerance of
    each other. Same dtype."""
    if a == OPENCV_CUBIC_A:
        return resize_as_defined(image, size, cv2.INTER_CUBIC)
    rows = cubic_taps(half_pixel_coords(image.shape[0], size[0]), image.shape[0], a)
    cols = cubic_taps(half_pixel_coords(image.shape[1], size[1]), image.shape[1], a)
    return apply_taps(image, rows, cols, image.dtype)


@register_method(
    "lanczos4",
    label="Lanczos-4",
    family="classic",
    description="Lanczos windowed sinc over 8x8 neighbours (OpenCV INTER_LANCZOS4): the sharpest "
    "classic kernel, with visible ringing next to hard edges.",
    also_called=("windowed sinc", "INTER_LANCZOS4"),
    reference="cv2.INTER_LANCZOS4",
    explain=separable(LANCZOS4_AXIS),
)
def lanczos4(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Lanczos windowed sinc over 8x8 neighbours (docs/METHODS.md#lanczos4). OpenCV's
    ``INTER_LANCZOS4`` where its float32 coordinates keep it within the tolerance of the
    dtype for these sizes (`opencv_within_tolerance_for`), exact eight-tap weights from float64
    coordinates elsewhere. Same dtype."""
    return resize_as_defined(image, size, cv2.INTER_LANCZOS4)


@register_method(
    "area",
    label="Area",
    family="classic",
    description="Pixel-area relation (OpenCV INTER_AREA): each output pixel is the area-weighted "
    "mean of the input pixels it overlaps; nearest at integer upscales.",
    also_called=("box filter", "pixel mixing", "INTER_AREA"),
    reference="cv2.INTER_AREA",
    explain=separable(AREA_AXIS),
)
def area(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pixel-area relation: each output pixel is the overlap-weighted mean of the input
    pixels it covers (docs/METHODS.md#area). OpenCV's ``INTER_AREA`` where it is within
    the tolerance of the dtype for these sizes, exact overlap weights elsewhere: where
    OpenCV's enlarging mode drops a pixel at an exact boundary (about 3% of fractional
    size pairs), where its reduction drops slivers thinner than a thousandth of a pixel
    (long axes in uint16 and float32), and always when one axis grows while the other
    shrinks (OpenCV then interpolates both axes with two taps). Same dtype."""
    return resize_as_defined(image, size, cv2.INTER_AREA)
