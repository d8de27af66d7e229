"""Building blocks of separable resampling: coordinate maps, tap tables, their application.

A *tap table* for one axis is a pair ``(index, weight)`` of ``(out, T)`` arrays: output
sample ``i`` is ``sum_t weight[i, t] * input[index[i, t]]``. Nearest, linear, cubic and
anti-aliased filters all reduce to such tables, so one function applies them all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

from core.common.arrays import cast_float
from core.common.cancel import check_cancelled

Taps = tuple[np.ndarray, np.ndarray]


def nearest_index(n_in: int, n_out: int) -> np.ndarray:
    """``min(floor(dst * in / out), in - 1)``, computed exactly in integers."""
    dst = np.arange(n_out, dtype=np.int64)
    return np.minimum((dst * n_in) // n_out, n_in - 1)


def nearest_exact_index(n_in: int, n_out: int) -> np.ndarray:
    """``min(floor((dst + 0.5) * in / out), in - 1)`` (pixel centres), exactly in integers."""
    dst = np.arange(n_out, dtype=np.int64)
    return np.minimum(((2 * dst + 1) * n_in) // (2 * n_out), n_in - 1)


def half_pixel_coords(n_in: int, n_out: int) -> np.ndarray:
    """Source coordinate of each output pixel centre: ``(dst + 0.5) * in / out - 0.5``."""
    return (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5


def aligned_coords(n_in: int, n_out: int) -> np.ndarray:
    """Corner-aligned source coordinates: ``dst * (in - 1) / (out - 1)`` (0 when out is 1)."""
    if n_out == 1:
        return np.zeros(1)
    return np.arange(n_out, dtype=np.float64) * ((n_in - 1) / (n_out - 1))


def linear_taps(coords: np.ndarray, n_in: int) -> Taps:
    """Two-tap linear interpolation at ``coords``, clamped at 0 and replicated at the end."""
    coords = np.maximum(coords, 0.0)
    i0 = np.minimum(np.floor(coords).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = coords - i0
    return np.stack([i0, i1], axis=1), np.stack([1.0 - frac, frac], axis=1)


def keys_cubic(x: np.ndarray, a: float) -> np.ndarray:
    """Keys (1981) cubic convolution kernel with parameter ``a``; support [-2, 2]."""
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def cubic_taps(coords: np.ndarray, n_in: int, a: float) -> Taps:
    """Four-tap cubic interpolation at ``coords``, source indices clamped to the edge."""
    base = np.floor(coords)
    offsets = np.arange(-1, 3)
    index = np.clip(base[:, None].astype(np.int64) + offsets, 0, n_in - 1)
    weight = keys_cubic(coords[:, None] - (base[:, None] + offsets), a)
    return index, weight


def antialias_taps(n_in: int, n_out: int, kernel: Callable[[np.ndarray], np.ndarray], support: float) -> Taps:
    """Taps of a filter stretched by the downscale factor (Pillow's and PyTorch's antialias).

    For a reduction by ``scale = in / out > 1`` the kernel is widened by ``scale`` so each
    output averages every input it covers; taps falling outside the image are dropped and
    the rest renormalised to sum to one (no edge replication).
    """
    scale = n_in / n_out
    stretch = max(scale, 1.0)
    reach = support * stretch
    centres = (np.arange(n_out) + 0.5) * scale
    lo = np.maximum((centres - reach + 0.5).astype(np.int64), 0)
    hi = np.minimum((centres + reach + 0.5).astype(np.int64), n_in)
    width = int((hi - lo).max())
    index = lo[:, None] + np.arange(width)
    weight = kernel((index - centres[:, None] + 0.5) / stretch)
    weight[index >= hi[:, None]] = 0.0
    weight /= weight.sum(axis=1, keepdims=True)
    return np.minimum(index, n_in - 1), weight


def area_taps(n_in: int, n_out: int) -> Taps:
    """Pixel-area weights: output pixel ``d`` covers ``[d r, (d + 1) r)`` of the input,
    ``r = in / out``, and averages the input pixels by their overlap with it.

    Computed in integers (boundaries in units of ``1 / out``), so a boundary that falls
    exactly on a pixel edge is never rounded to the wrong side.
    """
    dst = np.arange(n_out, dtype=np.int64)[:, None]
    first = (dst * n_in) // n_out  # the input pixel holding the left boundary
    width = -(-n_in // n_out) + 1  # ceil(r) + 1 pixels can overlap one output
    index = first + np.arange(width)
    lo = np.maximum(dst * n_in, index * n_out)
    hi = np.minimum((dst + 1) * n_in, (index + 1) * n_out)
    weight = np.maximum(hi - lo, 0) / n_in
    return np.minimum(index, n_in - 1), weight


# Output rows per band aim at this many bytes of float32, so the temporaries of a
# tap-based resample stay a few megabytes whatever the image size.
BAND_BYTES = 8 * 2**20


def apply_taps(image: np.ndarray, rows: Taps, cols: Taps, dtype: np.dtype | type = np.float32) -> np.ndarray:
    """Resample ``(H, W, C)`` ``image`` with per-axis tap tables into ``(h, w, C)`` of ``dtype``.

    Sums are taken in float32. For an integer ``dtype`` each value is rounded half to even
    and clipped to the dtype's range (as `like_input` does). The work runs in bands of
    output rows (about ``BAND_BYTES`` of float32 each), so memory beyond the result stays
    bounded: a 4096x4096x3 uint8 result needs its 48 MiB and a few megabytes more, not
    the 400 MiB of whole-image float temporaries. A cancelled comparison stops between
    bands (`core._cancel`).

    Within a band, columns go first: gathering along axis 1 is the slow, element-wise
    gather, so it runs on the smaller array (the band's source rows); gathering whole rows
    afterwards is a plain memory copy.
    """
    row_index, row_weight = rows
    h, w, c = row_index.shape[0], cols[0].shape[0], image.shape[2]
    out = np.empty((h, w, c), dtype=dtype)
    band = max(1, BAND_BYTES // (w * c * 4))
    for top in range(0, h, band):
        check_cancelled()
        index = row_index[top:top + band]
        first, last = int(index.min()), int(index.max()) + 1
        across = _apply_axis(image[first:last], cols, axis=1)
        out[top:top + band] = cast_float(_apply_axis(across, (index - first, row_weight[top:top + band]), axis=0), out.dtype)
    return out


def _apply_axis(image: np.ndarray, taps: Taps, axis: int) -> np.ndarray:
    index, weight = taps
    weight = weight.astype(np.float32)
    shape = [1, 1, 1]
    shape[axis] = -1
    out = image.take(index[:, 0], axis=axis).astype(np.float32, copy=False)
    np.multiply(out, weight[:, 0].reshape(shape), out=out)
    for t in range(1, index.shape[1]):
        term = image.take(index[:, t], axis=axis).astype(np.float32, copy=False)
        np.multiply(term, weight[:, t].reshape(shape), out=term)
        np.add(out, term, out=out)
    return out


def gather(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``image[rows][:, cols]`` for ``(H, W, C)``, columns first (see `apply_taps`)."""
    return image.take(cols, axis=1).take(rows, axis=0)


@functools.lru_cache(maxsize=512)
def opencv_is_exact(n_in: int, n_out: int, flag: int) -> bool:
    """Whether ``cv2.resize`` with ``flag`` maps ``n_in`` to ``n_out`` pixels exactly as
    docs/METHODS.md defines it (nearest, nearest-exact or area).

    OpenCV finds its source coordinates in floating point and, for some size pairs, lands
    on the wrong side of an exact tie. Rather than model its arithmetic, this asks it:
    resizing a ramp ``0, 1, ..., n_in - 1`` (and its square) returns, per output pixel, the
    first two moments of the source positions it used. The mapping depends only on the
    sizes, so the answer is cached.
    """
    ramp = np.arange(n_in, dtype=np.float64)
    probe = np.stack([ramp, ramp * ramp], axis=1)[None]  # (1, n_in, 2)
    got = cv2.resize(probe, (n_out, 1), interpolation=flag)[0]
    if flag == cv2.INTER_AREA:
        index, weight = area_taps(n_in, n_out)
    else:
        index, weight = _NEAREST_INDEX[flag](n_in, n_out)[:, None], np.ones((n_out, 1))
    expected = np.stack([(index * weight).sum(1), (index * index * weight).sum(1)], axis=1)
    # OpenCV's weights are float32 (about 1e-7 relative); a wrong tie is off by a whole pixel.
    return bool(np.allclose(got, expected, rtol=1e-5, atol=1e-4))


def opencv_is_exact_for(image: np.ndarray, size: tuple[int, int], flag: int) -> bool:
    """`opencv_is_exact` along both axes of resizing ``(H, W, C)`` ``image`` to ``size``."""
    return opencv_is_exact(image.shape[0], size[0], flag) and opencv_is_exact(image.shape[1], size[1], flag)


_NEAREST_INDEX = {cv2.INTER_NEAREST: nearest_index, cv2.INTER_NEAREST_EXACT: nearest_exact_index}


def resize_nearest(image: np.ndarray, size: tuple[int, int], flag: int) -> np.ndarray:
    """Nearest-neighbour resize of ``(H, W, C)`` to ``(h, w)`` with the exact mapping of
    docs/METHODS.md#nearest.

    ``flag`` is ``cv2.INTER_NEAREST`` (``src = floor(dst * in/out)``) or
    ``cv2.INTER_NEAREST_EXACT`` (pixel centres). OpenCV runs it where its mapping is exact
    for these sizes (`opencv_is_exact`); elsewhere the exact indices are gathered.
    """
    if opencv_is_exact_for(image, size, flag):
        return cv2_resize(image, size, flag)
    index = _NEAREST_INDEX[flag]
    return gather(image, index(image.shape[0], size[0]), index(image.shape[1], size[1]))


def cv2_resize(image: np.ndarray, size: tuple[int, int], flag: int) -> np.ndarray:
    """``cv2.resize`` to ``(h, w)`` that keeps the ``(H, W, C)`` layout for one channel."""
    out = cv2.resize(image, (size[1], size[0]), interpolation=flag)
    return out if out.ndim == 3 else out[:, :, None]
