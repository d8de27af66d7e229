"""Building blocks of separable resampling: coordinate maps, tap tables, their application.

A *tap table* for one axis is a pair ``(index, weight)`` of ``(out, T)`` arrays: output
sample ``i`` is ``sum_t weight[i, t] * input[index[i, t]]``. Nearest, linear, cubic,
Lanczos, area and anti-aliased filters all reduce to such tables, so one function applies
them all. OpenCV stands in for a table only where a cached probe of its own weights shows
it within the tolerance of the image's dtype (`resize_as_defined`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

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


def lanczos4_taps(coords: np.ndarray, n_in: int) -> Taps:
    """Eight-tap Lanczos-4 interpolation at ``coords`` (docs/METHODS.md#lanczos4): input
    pixels ``floor(src) - 3 ... floor(src) + 4`` weighted by ``sinc(x) sinc(x / 4)`` of
    their distance ``x``, normalised to sum to one, indices clamped to the edge."""
    base = np.floor(coords)
    offsets = np.arange(-3, 5)
    index = np.clip(base[:, None].astype(np.int64) + offsets, 0, n_in - 1)
    distance = coords[:, None] - (base[:, None] + offsets)
    weight = np.sinc(distance) * np.sinc(distance / 4)
    weight /= weight.sum(axis=1, keepdims=True)
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


def tolerance_fraction(dtype: np.dtype | type) -> float:
    """The tolerance of docs/METHODS.md#tolerances as a fraction of the data range: one
    level of an integer dtype (1/255 for uint8, 1/65535 for uint16), 1e-4 for float32."""
    dtype = np.dtype(dtype)
    return 1.0 / int(np.iinfo(dtype).max) if dtype.kind in "iu" else 1e-4


# Output rows per band aim at this many bytes of the accumulator, so the temporaries of
# a tap-based resample stay a few megabytes whatever the image size.
BAND_BYTES = 8 * 2**20


def accumulator_dtype(taps_per_output: int, dtype: np.dtype | type) -> np.dtype:
    """The float type `apply_taps` sums in for results of ``dtype`` that each add up
    ``taps_per_output`` products (the taps of both axes together).

    Every float32 product and partial sum may round by 2**-24 of its value, so a result
    can drift by about ``2 * taps * 2**-24`` of the data range. float32 is kept where that
    stays within a quarter of the tolerance of ``dtype`` (the 2 to 16 taps of linear, cubic
    and Lanczos-4 in every dtype); float64 is used beyond, as for an area average over a
    long reduced axis of uint16 (more than 32 taps) or float32 data (more than 200).
    """
    drift = 2 * taps_per_output * 2.0**-24
    return np.dtype(np.float32) if drift <= 0.25 * tolerance_fraction(dtype) else np.dtype(np.float64)


def apply_taps(image: np.ndarray, rows: Taps, cols: Taps, dtype: np.dtype | type = np.float32) -> np.ndarray:
    """Resample ``(H, W, C)`` ``image`` with per-axis tap tables into ``(h, w, C)`` of ``dtype``.

    Sums are taken in float32 where that is within the tolerance of ``dtype``, in float64
    otherwise (`accumulator_dtype`). For an integer ``dtype`` each value is rounded half
    to even and clipped to the dtype's range (as `like_input` does). The work runs in
    bands of output rows, each holding about ``BAND_BYTES`` of accumulator (and its source
    rows converted a chunk of ``BAND_BYTES`` at a time), so memory beyond the result stays
    bounded: a 4096x4096x3 uint8 result needs its 48 MiB and a few megabytes more, not
    the 400 MiB of whole-image float temporaries. A cancelled comparison stops between
    bands (`core._cancel`).

    Each axis runs as small matrix products with dense blocks of its tap table
    (`dense_blocks`): a few dozen multiply-adds per value, in cache, cost less than the
    gather, multiply and add per tap, through memory, of element-wise NumPy. Columns go
    first, on the band's source rows (fewer than its output rows when enlarging) laid out
    as channel planes; rows then run on whole interleaved rows, straight into the result.
    """
    (height, width, c), h, w = image.shape, rows[0].shape[0], cols[0].shape[0]
    accumulator = accumulator_dtype(rows[0].shape[1] + cols[0].shape[1], dtype)
    col_blocks, row_blocks = dense_blocks(cols, accumulator), dense_blocks(rows, accumulator)
    out = np.empty((h, w, c), dtype=dtype)
    # An output row costs its own accumulator row and its share of resampled source rows.
    row_bytes = w * c * accumulator.itemsize * (1 + height / h)
    blocks_per_band = max(1, int(BAND_BYTES // row_bytes) // row_blocks.rows)
    source_rows = max(1, BAND_BYTES // (width * c * accumulator.itemsize))
    n_blocks = len(row_blocks.starts)
    for first_block in range(0, n_blocks, blocks_per_band):
        check_cancelled()
        band = range(first_block, min(first_block + blocks_per_band, n_blocks))
        top, bottom = band.start * row_blocks.rows, min(band.stop * row_blocks.rows, h)
        first = int(row_blocks.starts[band].min())
        last = min(height, int(row_blocks.starts[band].max()) + row_blocks.matrices.shape[2])
        across = np.empty((last - first, w * c), accumulator)  # the band's source rows, resampled across
        for chunk in range(first, last, source_rows):
            stop = min(chunk + source_rows, last)
            planes = np.ascontiguousarray(image[chunk:stop].transpose(0, 2, 1), dtype=accumulator)  # (rows, C, W)
            resampled = _resample_columns(planes.reshape((stop - chunk) * c, width), col_blocks, w)
            interleaved = across[chunk - first:stop - first].reshape(stop - chunk, w, c)
            interleaved[...] = resampled.reshape(stop - chunk, c, w).transpose(0, 2, 1)
        down = _resample_rows(across, first, row_blocks, band, bottom - top)
        out[top:bottom] = cast_float(down, out.dtype).reshape(bottom - top, w, c)
    return out


def _apply_axis(image: np.ndarray, taps: Taps, axis: int) -> np.ndarray:
    """``(H, W, C)`` ``image`` resampled along ``axis`` (0: rows, 1: columns) alone, as
    float32: one pass of `apply_taps`, for emulating a library that rounds between
    passes."""
    n = image.shape[1 - axis]
    unchanged = (np.arange(n)[:, None], np.ones((n, 1)))
    rows, cols = (taps, unchanged) if axis == 0 else (unchanged, taps)
    return apply_taps(image, rows, cols, np.float32)


class DenseBlocks(NamedTuple):
    """A tap table as dense blocks: output ``i`` is row ``i % rows`` of block ``i // rows``,
    whose columns are the input samples ``starts[block] + 0, 1, ...``."""

    rows: int
    starts: np.ndarray  # (blocks,) int64: the first input sample of each block
    matrices: np.ndarray  # (blocks, rows, span) of the accumulator dtype


# Blocks span about this many input samples (or one output's taps, when more).
BLOCK_SPAN = 16
# Matrix products are split to stay below this many multiply-adds: OpenBLAS runs such
# products on the calling thread. Larger ones are shared out to its threads, and on a
# busy machine the hand-offs stall (a 1536x32 by 32x60 product: 8 ms with its threads on
# a loaded 2-core machine, 0.08 ms on one).
PRODUCT_SIZE = 2**17


def dense_blocks(taps: Taps, accumulator: np.dtype) -> DenseBlocks:
    """``taps`` regrouped into dense blocks of consecutive outputs, each block spanning
    about `BLOCK_SPAN` input samples: up to 64 outputs per block when enlarging, one per
    block when each output has that many taps (a strong area reduction). Taps on the
    same input sample (clamped at the edges) are summed, in float64."""
    index, weight = taps
    n_out, n_taps = index.shape
    step = (int(index[-1].min()) - int(index[0].min())) / max(n_out - 1, 1)  # input samples per output
    rows = int(min(64, max(1, (BLOCK_SPAN - n_taps) // max(step, 1 / 64))))
    block_starts = np.arange(0, n_out, rows)
    block = np.arange(n_out) // rows
    starts = np.minimum.reduceat(index.min(axis=1), block_starts)
    offsets = index - starts[block][:, None]
    span = int(offsets.max()) + 1
    cells = ((block * rows + np.arange(n_out) % rows)[:, None] * span + offsets).ravel()
    summed = np.bincount(cells, weights=weight.ravel(), minlength=len(block_starts) * rows * span)
    return DenseBlocks(rows, starts, summed.reshape(len(block_starts), rows, span).astype(accumulator))


def _resample_columns(source: np.ndarray, blocks: DenseBlocks, n_out: int) -> np.ndarray:
    """``(M, n_in)`` ``source`` resampled along its columns into ``(M, n_out)``."""
    out = np.empty((source.shape[0], n_out), source.dtype)
    n_in, span = source.shape[1], blocks.matrices.shape[2]
    for b, start in enumerate(blocks.starts.tolist()):
        lo, hi = b * blocks.rows, min((b + 1) * blocks.rows, n_out)
        width = min(span, n_in - start)
        matrix = blocks.matrices[b, : hi - lo, :width].T
        step = max(1, PRODUCT_SIZE // matrix.size)
        for top in range(0, source.shape[0], step):
            np.matmul(source[top:top + step, start:start + width], matrix, out=out[top:top + step, lo:hi])
    return out


def _resample_rows(source: np.ndarray, first: int, blocks: DenseBlocks, band: range, n_rows: int) -> np.ndarray:
    """The ``n_rows`` output rows of ``band``'s blocks, ``(n_rows, M)``, from the ``(R, M)``
    ``source`` rows ``first ...``."""
    out = np.empty((n_rows, source.shape[1]), source.dtype)
    top, span = band.start * blocks.rows, blocks.matrices.shape[2]
    for b in band:
        lo = b * blocks.rows - top
        hi = min(lo + blocks.rows, n_rows)
        start = int(blocks.starts[b]) - first
        width = min(span, source.shape[0] - start)
        matrix = blocks.matrices[b, : hi - lo, :width]
        step = max(1, PRODUCT_SIZE // matrix.size)
        for left in range(0, source.shape[1], step):
            right = left + step
            np.matmul(matrix, source[start:start + width, left:right], out=out[lo:hi, left:right])
    return out


def gather(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``image[rows][:, cols]`` for ``(H, W, C)``, columns first (see `apply_taps`)."""
    return image.take(cols, axis=1).take(rows, axis=0)


# Where OpenCV may stand in for a definition ------------------------------------------

# OpenCV's INTER_CUBIC is Keys' kernel with this parameter.
OPENCV_CUBIC_A = -0.75

# The tap tables docs/METHODS.md defines for the methods OpenCV runs, per OpenCV flag.
_DEFINITIONS: dict[int, Callable[[int, int], Taps]] = {
    cv2.INTER_LINEAR: lambda n_in, n_out: linear_taps(half_pixel_coords(n_in, n_out), n_in),
    cv2.INTER_CUBIC: lambda n_in, n_out: cubic_taps(half_pixel_coords(n_in, n_out), n_in, OPENCV_CUBIC_A),
    cv2.INTER_LANCZOS4: lambda n_in, n_out: lanczos4_taps(half_pixel_coords(n_in, n_out), n_in),
    cv2.INTER_AREA: area_taps,
}
_NEAREST_INDEX = {cv2.INTER_NEAREST: nearest_index, cv2.INTER_NEAREST_EXACT: nearest_exact_index}

# OpenCV runs a method where the error of its weights moves a result by at most this
# share of the tolerance; the rest is left for its own rounding (and, on uint8, its 11-bit
# weights).
OPENCV_SHARE = 0.5
# Exact, for a display copy that must be exactly rounded: OpenCV's float32 weights alone
# are about 1e-7 of the data range off; an error above this is a coordinate or boundary
# that slipped.
EXACT_ERROR = 2.0**-16
# The comb probe's period: longer than the reach of any kernel probed (8 taps for
# Lanczos-4) plus a pixel of shift either way.
PROBE_PERIOD = 16
# Axes longer than this are not probed; they take the exact path. Beyond it OpenCV's
# float32 coordinates are too coarse even for uint8 (linear is 2 levels off at 150,000
# pixels), and a probe would need tens of megabytes.
LONGEST_COMB_PROBE = 2**18
# A nearest probe is a float32 ramp: whole numbers are exact up to 2**24.
LONGEST_NEAREST_PROBE = 2**22


@functools.lru_cache(maxsize=1024)
def opencv_axis_error(n_in: int, n_out: int, flag: int) -> tuple[float, float]:
    """How far ``cv2.resize`` with ``flag``, mapping one axis of ``n_in`` pixels to
    ``n_out``, is from the definition of docs/METHODS.md (nearest, nearest-exact,
    bilinear, bicubic with a = -0.75, lanczos4, area).

    Returns ``(error, gain)``. ``error`` is the largest change OpenCV's weights can make
    to an output pixel against the exact weights, for any input with values in [0, 1]: a
    fraction of the data range, 0 where they agree, infinity where a nearest mapping picks
    a wrong pixel or the axis is too long to probe. ``gain`` is the largest sum of
    absolute exact weights of one output (1 for non-negative kernels, 1.375 for bicubic):
    it scales an error made along the other axis.

    OpenCV computes source coordinates in float32 and drops area pieces thinner than a
    thousandth of a pixel, so on long axes its weights drift from the definition; rather
    than model its arithmetic, this asks it. For the nearest modes it resizes a ramp
    ``0, 1, ..., n_in - 1`` and compares the indices exactly. For the others it resizes
    combs: channel ``k`` is 1 on the input pixels ``k, k + 16, k + 32, ...`` and 0
    elsewhere, so each output returns OpenCV's own float32 weights, summed by input pixel
    modulo 16 (no two taps of one output are 16 apart), to compare with the exact
    weights summed the same way. The mapping depends only on the sizes, so the answer is
    cached.
    """
    if n_in == n_out:
        return 0.0, 1.0
    if flag in _NEAREST_INDEX:
        if max(n_in, n_out) > LONGEST_NEAREST_PROBE:
            return math.inf, 1.0
        ramp = np.arange(n_in, dtype=np.float32)[None]
        got = cv2.resize(ramp, (n_out, 1), interpolation=flag)[0]
        return (0.0 if np.array_equal(got, _NEAREST_INDEX[flag](n_in, n_out)) else math.inf), 1.0
    index, weight = _DEFINITIONS[flag](n_in, n_out)
    gain = float(np.abs(weight).sum(axis=1).max())
    if max(n_in, n_out) > LONGEST_COMB_PROBE:
        return math.inf, gain
    got = _weights_folded(n_in, n_out, lambda comb: cv2.resize(comb, (n_out, 1), interpolation=flag))
    return _weight_error(got, index, weight), gain


def _weight_error(got: np.ndarray, index: np.ndarray, weight: np.ndarray) -> float:
    """The largest change the folded weights ``got`` can make to an output against the
    exact tap table, for inputs in [0, 1] (see `opencv_axis_error`)."""
    deviation = got - _folded(index, weight)
    raised = np.maximum(deviation, 0.0).sum(axis=1).max()  # worst input: 1 where OpenCV weighs more
    lowered = np.maximum(-deviation, 0.0).sum(axis=1).max()  # and where it weighs less
    return float(max(raised, lowered))


def _weights_folded(n_in: int, n_out: int, resize_line: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``(n_out, PROBE_PERIOD)``: the weight ``resize_line`` (``(1, n_in, 4)`` float32 to
    ``(1, n_out, 4)``) gives each output on the input pixels ``k mod PROBE_PERIOD``, read
    from four-channel float32 combs."""
    folded = np.empty((n_out, PROBE_PERIOD))
    for first in range(0, PROBE_PERIOD, 4):
        comb = np.zeros((1, n_in, 4), np.float32)
        for channel in range(4):
            comb[0, first + channel :: PROBE_PERIOD, channel] = 1.0
        folded[:, first:first + 4] = resize_line(comb)[0]
    return folded


def _folded(index: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The exact weights of a tap table summed like `_weights_folded`'s."""
    n_out = index.shape[0]
    bins = np.arange(n_out)[:, None] * PROBE_PERIOD + index % PROBE_PERIOD
    summed = np.bincount(bins.ravel(), weights=weight.ravel(), minlength=n_out * PROBE_PERIOD)
    return summed.reshape(n_out, PROBE_PERIOD)


def opencv_is_exact(n_in: int, n_out: int, flag: int) -> bool:
    """Whether ``cv2.resize`` with ``flag`` maps one axis of ``n_in`` pixels to ``n_out``
    exactly as docs/METHODS.md defines it, up to its float32 weights: an error
    (`opencv_axis_error`) of at most `EXACT_ERROR` of the data range. An exactly rounded
    display copy needs this; a method needs only `opencv_within_tolerance_for`."""
    return opencv_axis_error(n_in, n_out, flag)[0] <= EXACT_ERROR


def opencv_is_exact_for(image: np.ndarray, size: tuple[int, int], flag: int) -> bool:
    """`opencv_is_exact` along both axes of resizing ``(H, W, C)`` ``image`` to ``size``.
    An area resize that enlarges one axis and reduces the other is never exact: OpenCV
    then runs its two-tap enlarging mode on both axes, which is not an area average on
    the reduced one."""
    (height, width), (rows, cols) = image.shape[:2], size
    if flag == cv2.INTER_AREA and (rows - height) * (cols - width) < 0:
        return False
    return opencv_is_exact(height, rows, flag) and opencv_is_exact(width, cols, flag)


def opencv_within_tolerance_for(image: np.ndarray, size: tuple[int, int], flag: int) -> bool:
    """Whether ``cv2.resize`` with ``flag`` takes ``(H, W, C)`` ``image`` to ``size`` within
    the tolerance of the image's dtype (docs/METHODS.md#tolerances): its error can move
    no result by more than `OPENCV_SHARE` of the tolerance. The errors of the two axes
    (`opencv_axis_error`) add, each scaled by the other axis's gain. Area resizes that
    enlarge one axis and reduce the other never qualify (see `opencv_is_exact_for`)."""
    (height, width), (rows, cols) = image.shape[:2], size
    if flag == cv2.INTER_AREA and (rows - height) * (cols - width) < 0:
        return False
    row_error, row_gain = opencv_axis_error(height, rows, flag)
    col_error, col_gain = opencv_axis_error(width, cols, flag)
    return row_error * col_gain + col_error * row_gain <= OPENCV_SHARE * tolerance_fraction(image.dtype)


def resize_as_defined(image: np.ndarray, size: tuple[int, int], flag: int) -> np.ndarray:
    """Resize ``(H, W, C)`` ``image`` to ``(h, w)`` by the definition docs/METHODS.md gives
    the method OpenCV runs as ``flag`` (``INTER_NEAREST``, ``INTER_NEAREST_EXACT``,
    ``INTER_LINEAR``, ``INTER_CUBIC``, ``INTER_LANCZOS4`` or ``INTER_AREA``).

    ``cv2.resize`` runs where it is within the tolerance of the image's dtype for these
    sizes (`opencv_within_tolerance_for`); elsewhere the nearest modes gather their exact
    integer indices and the others apply the exact tap tables, from float64 coordinates.
    Same dtype as ``image``.
    """
    if opencv_within_tolerance_for(image, size, flag):
        return cv2_resize(image, size, flag)
    if flag in _NEAREST_INDEX:
        index = _NEAREST_INDEX[flag]
        return gather(image, index(image.shape[0], size[0]), index(image.shape[1], size[1]))
    taps = _DEFINITIONS[flag]
    return apply_taps(image, taps(image.shape[0], size[0]), taps(image.shape[1], size[1]), image.dtype)


def resize_nearest(image: np.ndarray, size: tuple[int, int], flag: int) -> np.ndarray:
    """Nearest-neighbour resize of ``(H, W, C)`` to ``(h, w)`` with the exact mapping of
    docs/METHODS.md#nearest: ``flag`` is ``cv2.INTER_NEAREST`` (``src = floor(dst *
    in/out)``) or ``cv2.INTER_NEAREST_EXACT`` (pixel centres). See `resize_as_defined`."""
    if flag not in _NEAREST_INDEX:
        raise ValueError(f"resize_nearest takes INTER_NEAREST or INTER_NEAREST_EXACT, not flag {flag}")
    return resize_as_defined(image, size, flag)


def cv2_resize(image: np.ndarray, size: tuple[int, int], flag: int) -> np.ndarray:
    """``cv2.resize`` to ``(h, w)`` that keeps the ``(H, W, C)`` layout for one channel."""
    out = cv2.resize(image, (size[1], size[0]), interpolation=flag)
    return out if out.ndim == 3 else out[:, :, None]


# Corner-aligned linear interpolation by OpenCV ----------------------------------------

class AlignedSplit(NamedTuple):
    """How OpenCV's half-pixel ``INTER_LINEAR`` reproduces the corner-aligned mapping
    along one axis (`aligned_split`): resized by ``scale`` from input sample ``first_in``
    on, its output ``j`` is the aligned output ``first_out + j``, for ``j >= clamped``."""

    first_in: int
    first_out: int
    scale: float  # output samples per input sample, (n_out - 1) / (n_in - 1)
    clamped: int  # OpenCV's first outputs that fall before the crop and are clamped to it


@functools.lru_cache(maxsize=1024)
def aligned_split(n_in: int, n_out: int) -> AlignedSplit | None:
    """Where the aligned mapping ``src = dst * m / k`` (``m = n_in - 1``, ``k = n_out - 1``)
    meets OpenCV's ``src = c + (j + 0.5) * m / k - 0.5`` on the input cropped at ``c``.

    With the scale ``k / m`` passed to ``cv2.resize`` directly, OpenCV's output ``j`` of
    the crop is the aligned output ``o + j`` for every ``j`` exactly when
    ``(2c - 1) k = (2o - 1) m``. With ``g = gcd(m, k)`` the solutions are
    ``2o - 1 = t k / g`` and ``2c - 1 = t m / g`` for odd ``t``; they exist when ``m / g``
    and ``k / g`` are both odd (an even input at an integer scale, for one). The largest
    ``t`` with ``o`` at most about the middle is chosen: the outputs from ``o`` on come
    from this crop, those before it, by symmetry, from the mirrored input's crop. When
    enlarging, OpenCV clamps its first ``clamped`` outputs (coordinate below 0) to the
    crop's first sample; `resize_aligned_opencv` makes those from exact taps.

    None where no solution exists or an axis has a single sample; an axis whose size is
    unchanged is copied as it is.
    """
    if n_in == n_out:
        return AlignedSplit(0, 0, 1.0, 0)
    m, k = n_in - 1, n_out - 1
    if m < 1 or k < 1:
        return None
    g = math.gcd(m, k)
    if (m // g) % 2 == 0 or (k // g) % 2 == 0:
        return None
    t = g if g % 2 else g - 1
    clamped = -(-(k - m) // (2 * m)) if k > m else 0  # j with (2j + 1) m < k
    return AlignedSplit((t * m // g + 1) // 2, (t * k // g + 1) // 2, k / m, clamped)


def _aligned_part(
    image: np.ndarray, rows: AlignedSplit, cols: AlignedSplit, size: tuple[int, int], code: int | None
) -> np.ndarray:
    """The aligned outputs from ``first_out + clamped`` on along both axes of
    ``(H, W, C)`` ``image`` resized to ``size``, mirrored by cv2.flip's ``code`` first
    (None: not mirrored), from one ``cv2.resize`` of its crop. One sample is replicated
    past each resized edge so that OpenCV's rounded output size is never short; the last
    output sits on the last input sample and weighs it 1."""
    height, width = image.shape[:2]
    if code is None:
        crop = image[rows.first_in:, cols.first_in:]
    else:  # the mirrored image's crop is the mirror of this corner
        corner = image[: height - rows.first_in if code != 1 else height, : width - cols.first_in if code != 0 else width]
        crop = _with_channels(cv2.flip(corner, code))
        crop = crop[rows.first_in if code == 1 else 0:, cols.first_in if code == 0 else 0:]
    bottom, right = int(rows.scale != 1.0), int(cols.scale != 1.0)
    if bottom or right:
        crop = _with_channels(cv2.copyMakeBorder(crop, 0, bottom, 0, right, cv2.BORDER_REPLICATE))
    resized = _with_channels(cv2.resize(crop, None, fx=cols.scale, fy=rows.scale, interpolation=cv2.INTER_LINEAR))
    return resized[rows.clamped:size[0] - rows.first_out, cols.clamped:size[1] - cols.first_out]


def resize_aligned_opencv(image: np.ndarray, size: tuple[int, int], rows: AlignedSplit, cols: AlignedSplit) -> np.ndarray:
    """Corner-aligned bilinear resize of ``(H, W, C)`` ``image`` to ``(h, w)`` with
    OpenCV's ``INTER_LINEAR``, by the splits of `aligned_split` for both axes.

    The outputs after both splits come from one ``cv2.resize`` of the input's crop;
    those before a split come the same way from the mirrored input, mirrored back (the
    aligned mapping is symmetric). So the output is made in up to four quadrants, with
    the work of about one resize and one copy. The few rows and columns between the
    halves that OpenCV clamps (`AlignedSplit.clamped`) are made from exact taps. Same
    dtype; as exact as OpenCV's weights (`opencv_aligned_axis_error`)."""
    (height, width), (h, w) = image.shape[:2], size
    out = np.empty((h, w, image.shape[2]), image.dtype)
    row_parts, row_gap = _aligned_halves(rows, h)
    col_parts, col_gap = _aligned_halves(cols, w)
    for flip_rows, target_rows in row_parts:
        for flip_cols, target_cols in col_parts:
            check_cancelled()
            code = _FLIP_CODES[flip_rows, flip_cols]
            part = _aligned_part(image, rows, cols, size, code)
            target = out[target_rows, target_cols]
            if code is None:
                target[...] = part
            else:
                cv2.flip(part, code, dst=target[:, :, 0] if target.shape[2] == 1 else target)
    row_taps = linear_taps(aligned_coords(height, h), height)
    col_taps = linear_taps(aligned_coords(width, w), width)
    if row_gap.stop > row_gap.start:
        index, weight = row_taps[0][row_gap], row_taps[1][row_gap]
        used, local = np.unique(index, return_inverse=True)
        out[row_gap] = apply_taps(image[used], (local.reshape(index.shape), weight), col_taps, image.dtype)
    if col_gap.stop > col_gap.start:
        index, weight = col_taps[0][col_gap], col_taps[1][col_gap]
        used, local = np.unique(index, return_inverse=True)
        out[:, col_gap] = apply_taps(image[:, used], row_taps, (local.reshape(index.shape), weight), image.dtype)
    return out


def _aligned_halves(split: AlignedSplit, n_out: int) -> tuple[list[tuple[bool, slice]], slice]:
    """The output ranges the crop (not mirrored) and the mirrored crop fill along one
    axis, and the range between them left to exact taps (empty where they meet)."""
    start = split.first_out + split.clamped
    if split.first_out == 0:
        return [(False, slice(start, n_out))], slice(0, start)
    end_mirrored = n_out - start
    return [(False, slice(start, n_out)), (True, slice(0, end_mirrored))], slice(end_mirrored, start)


# cv2.flip's code for mirroring (rows, columns); None: nothing to mirror.
_FLIP_CODES = {(False, False): None, (True, False): 0, (False, True): 1, (True, True): -1}


def _with_channels(array: np.ndarray) -> np.ndarray:
    """OpenCV's result with the channel axis it drops for one channel put back."""
    return array if array.ndim == 3 else array[:, :, None]


@functools.lru_cache(maxsize=1024)
def opencv_aligned_axis_error(n_in: int, n_out: int) -> float:
    """How far `resize_aligned_opencv` is from the corner-aligned definition of
    docs/METHODS.md#bilinear-aligned along one axis of ``n_in`` to ``n_out`` samples: the
    largest change its weights can make to an output, as a fraction of the data range
    (see `opencv_axis_error`, whose combs it resizes); infinity where the axis has no
    split (`aligned_split`) or is too long to probe. Cached per size pair."""
    split = aligned_split(n_in, n_out)
    if split is None or max(n_in, n_out) > LONGEST_COMB_PROBE:
        return math.inf
    unchanged = aligned_split(1, 1)
    assert unchanged is not None  # an unchanged axis always has its (trivial) split
    got = _weights_folded(n_in, n_out, lambda comb: resize_aligned_opencv(comb, (1, n_out), unchanged, split))
    return _weight_error(got, *linear_taps(aligned_coords(n_in, n_out), n_in))


def resize_aligned(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Corner-aligned bilinear resize of ``(H, W, C)`` ``image`` to ``(h, w)`` by the
    definition of docs/METHODS.md#bilinear-aligned. OpenCV runs it (`resize_aligned_opencv`)
    where both axes have a split and its weights keep the result within `OPENCV_SHARE`
    of the dtype's tolerance; elsewhere exact taps from float64 coordinates. Same dtype,
    integer results rounded (half to even on the exact path)."""
    (height, width), (h, w) = image.shape[:2], size
    row_error, col_error = opencv_aligned_axis_error(height, h), opencv_aligned_axis_error(width, w)
    if row_error + col_error <= OPENCV_SHARE * tolerance_fraction(image.dtype):
        rows, cols = aligned_split(height, h), aligned_split(width, w)
        if rows is not None and cols is not None:
            return resize_aligned_opencv(image, size, rows, cols)
    rows_taps = linear_taps(aligned_coords(height, h), height)
    return apply_taps(image, rows_taps, linear_taps(aligned_coords(width, w), width), image.dtype)
