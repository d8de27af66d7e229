"""What a viewer needs to show results faithfully: 8-bit display copies, coloured
difference maps, pixel lookups and line profiles.

Nothing here changes what a method computed; these functions prepare pictures of it and
read values out of it, so a viewer can stay free of pixel arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

import cv2
import numpy as np

from core.common.arrays import as_hwc, data_range
from core.common.cancel import check_cancelled
from core.common.errors import ParameterError
from core.common.vocabulary import DiffKind
from core.methods.taps import (
    apply_taps,
    area_taps,
    cv2_resize,
    opencv_is_exact,
    opencv_is_exact_for,
)
from core.metrics.difference import difference
from core.metrics.measures import band_rows

ColormapName = Literal["magma", "viridis", "diverging"]

#: Anchors of the diverging map (blue, white, red; ColorBrewer RdBu's end and middle
#: colours), interpolated linearly in RGB. Zero difference is white.
_DIVERGING_ANCHORS = np.array(
    [[5, 48, 97], [67, 147, 195], [247, 247, 247], [214, 96, 77], [103, 0, 31]], dtype=np.float64
)
_CV2_MAPS = {"magma": cv2.COLORMAP_MAGMA, "viridis": cv2.COLORMAP_VIRIDIS}


def colormap_lut(name: ColormapName) -> np.ndarray:
    """The 256-entry lookup table of a colormap, ``(256, 3)`` uint8 RGB.

    ``"magma"`` and ``"viridis"`` are perceptually uniform sequential maps (for abs and
    squared differences); ``"diverging"`` runs blue, white, red (for signed ones), white
    at entry 128.
    """
    if name in _CV2_MAPS:
        ramp = np.arange(256, dtype=np.uint8).reshape(256, 1)
        return np.ascontiguousarray(cv2.applyColorMap(ramp, _CV2_MAPS[name])[:, 0, ::-1])
    if name == "diverging":
        positions = np.linspace(0.0, 255.0, len(_DIVERGING_ANCHORS))
        entries = np.arange(256, dtype=np.float64)
        channels = [np.interp(entries, positions, _DIVERGING_ANCHORS[:, c]) for c in range(3)]
        lut = np.rint(np.stack(channels, axis=1)).astype(np.uint8)
        lut[128] = _DIVERGING_ANCHORS[2]
        return lut
    raise ParameterError(f"colormap must be one of magma, viridis, diverging; got {name!r}")


def default_colormap(kind: DiffKind) -> ColormapName:
    """Diverging for signed differences, perceptual (magma) for abs and squared ones."""
    return "diverging" if kind == "signed" else "magma"


#: Transparent pixels are shown over a checkerboard of squares this many image pixels
#: wide, in these two grey levels (the viewer and the exported figures alike).
CHECKER_SIZE = 8
CHECKER_LEVELS = (204, 153)


def to_display(image: np.ndarray, *, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """An 8-bit, C-contiguous copy (or the array itself) a screen can show.

    Returns ``(H, W)`` uint8 for grey (and grey + alpha), ``(H, W, 3)`` uint8 for RGB
    (and RGBA). uint8 input without alpha that is already C-contiguous is returned as it
    is (no copy); uint16 maps ``v -> round(v / 257)``; float32 maps ``[0, 1] -> [0, 255]``,
    clipped. An alpha channel is composited: each pixel is ``a * colour + (1 - a) *
    checkerboard`` (see `checkerboard`), so transparency is visible rather than hidden.
    ``origin`` is the ``(y, x)`` of the first pixel in a larger image when ``image`` is
    a crop of it, so the checkerboard of a crop lines up with the whole image's.
    """
    hwc = as_hwc(image)
    alpha = hwc[:, :, -1] if hwc.shape[2] in (2, 4) else None
    colour = hwc[:, :, 0] if hwc.shape[2] <= 2 else (hwc if hwc.shape[2] == 3 else hwc[:, :, :3])
    if alpha is None and colour.dtype == np.uint8:
        return np.ascontiguousarray(colour)
    if alpha is not None:
        return _over_checkerboard(colour, alpha, origin)
    return np.ascontiguousarray(_to_8bit(colour))


def _to_8bit(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.uint8:
        return values
    scale = 255.0 / data_range(values.dtype)
    if values.dtype == np.uint16:
        return cv2.convertScaleAbs(values, alpha=scale)
    return np.clip(np.rint(values.astype(np.float32) * np.float32(scale)), 0, 255).astype(np.uint8)


def checkerboard(height: int, width: int, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The ``(height, width)`` uint8 grey checkerboard shown behind transparent pixels:
    squares of `CHECKER_SIZE` pixels in the two `CHECKER_LEVELS`, the first one light at
    pixel ``(0, 0)`` of the whole image; ``origin`` places a crop in it."""
    rows = (np.arange(height) + origin[0]) // CHECKER_SIZE
    cols = (np.arange(width) + origin[1]) // CHECKER_SIZE
    dark = (rows[:, None] + cols[None, :]) % 2 == 1
    return np.where(dark, np.uint8(CHECKER_LEVELS[1]), np.uint8(CHECKER_LEVELS[0]))


def _over_checkerboard(colour: np.ndarray, alpha: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """``colour`` (H, W) or (H, W, 3) composited over the checkerboard by ``alpha``
    (same dtype, its full range meaning opaque); 8-bit result of ``colour``'s layout."""
    peak = np.float32(data_range(alpha.dtype))
    weight = np.clip(alpha.astype(np.float32) / peak, 0.0, 1.0)
    front = colour.astype(np.float32) * np.float32(255.0 / data_range(colour.dtype))
    back = checkerboard(*colour.shape[:2], origin=origin).astype(np.float32)
    if front.ndim == 3:
        weight, back = weight[:, :, None], back[:, :, None]
    mixed = front * weight + back * (1.0 - weight)
    return np.ascontiguousarray(np.clip(np.rint(mixed), 0, 255).astype(np.uint8))


@dataclass(frozen=True)
class DifferenceDisplay:
    """A coloured difference map and the scale it was drawn with.

    ``rgb`` is ``(H, W, 3)`` uint8. The colormap's first entry stands for ``low`` and its
    last for ``high``, in the difference's own units (gain already applied), which is
    what a colour bar beside the map shows.
    """

    rgb: np.ndarray
    low: float
    high: float
    colormap: ColormapName


def difference_range(kind: DiffKind, dtype: np.dtype) -> tuple[float, float]:
    """The full span of a difference map of images of ``dtype``, before any gain.

    abs: ``(0, R)``; signed: ``(-R, R)``; squared: ``(0, R^2)``, with ``R`` the dtype's
    range (255, 65535 or 1.0).
    """
    peak = data_range(np.dtype(dtype))
    if kind == "abs":
        return 0.0, peak
    if kind == "signed":
        return -peak, peak
    if kind == "squared":
        return 0.0, peak * peak
    raise ParameterError(f"difference kind must be 'signed', 'abs' or 'squared'; got {kind!r}")


def colorize_difference(
    diff: np.ndarray,
    kind: DiffKind,
    dtype: np.dtype,
    *,
    gain: float = 1.0,
    colormap: ColormapName | None = None,
) -> DifferenceDisplay:
    """Colour a ``(H, W)`` difference map for display.

    The map's full span (`difference_range` of ``kind`` and the images' ``dtype``) is
    divided by ``gain`` (1 to 64) and stretched over the colormap; values beyond it take
    the end colours. The default colormap follows `default_colormap`.
    """
    if not (isinstance(gain, (int, float)) and math.isfinite(gain) and 1 <= gain <= 1024):
        raise ParameterError(f"gain must be a number from 1 to 1024; got {gain!r}")
    if diff.ndim != 2:
        raise ParameterError(f"difference map must have shape (H, W); got {diff.shape}")
    colormap = colormap or default_colormap(kind)
    low, high = (bound / gain for bound in difference_range(kind, dtype))
    lut = colormap_lut(colormap)
    rgb = np.empty(diff.shape + (3,), np.uint8)
    # In bands of rows: whole-image temporaries would cost several times the picture.
    step = band_rows(diff.shape[1] * 4)
    for top in range(0, diff.shape[0], step):
        check_cancelled()
        band = slice(top, top + step)
        if kind == "signed":
            # Zero sits at the middle entry; the sign must survive, so no absolute value.
            shifted = diff[band].astype(np.float32) * np.float32(255.0 / (high - low)) + np.float32(128.0)
            index = np.clip(np.rint(shifted), 0, 255).astype(np.uint8)
        else:
            # Non-negative maps: OpenCV scales, rounds and saturates in one pass.
            index = cv2.convertScaleAbs(diff[band], alpha=255.0 / high)
        rgb[band] = lut[index]
    return DifferenceDisplay(rgb=rgb, low=low, high=high, colormap=colormap)


def difference_picture(
    reference: np.ndarray,
    test: np.ndarray,
    kind: DiffKind,
    *,
    gain: float = 1.0,
    colormap: ColormapName | None = None,
) -> tuple[np.ndarray, DifferenceDisplay]:
    """What a viewer or a figure shows of ``test`` against ``reference``: the unscaled
    difference averaged over channels, ``(H, W)`` float32 in image units, and its
    coloured picture (`colorize_difference` with ``gain`` and ``colormap``).

    Both are made in bands of rows: beyond the 7 bytes per pixel they hold, a few
    megabytes."""
    values = difference(reference, test, kind=kind, per_channel=False)
    return values, colorize_difference(values, kind, reference.dtype, gain=gain, colormap=colormap)


def source_pixel(
    y: int, x: int, output_size: Sequence[int], input_size: Sequence[int]
) -> tuple[int, int]:
    """The input pixel whose area holds the centre of output pixel ``(y, x)``.

    Uses the half-pixel mapping of every method in METHODS.md:
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
        values[name] = pixel_values(image, y, x)
        same = reference is not None and image.shape == reference.shape
        if values[name] is not None and ref is not None and same:
            errors[name] = tuple(v - r for v, r in zip(values[name], ref))
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


@dataclass(frozen=True)
class DisplayWindow:
    """A part of an array and the screen size it is shown at when zoomed out.

    ``top, left, bottom, right`` bound the part in whole pixels of the array (rows
    ``top:bottom``, columns ``left:right``); ``rows x cols`` is the number of screen pixels
    it covers, at most its own size on each axis.
    """

    top: int
    left: int
    bottom: int
    right: int
    rows: int
    cols: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    def fits(self, zoom: tuple[float, float]) -> bool:
        """Whether this window's screen size is the one `display_window` gives its part
        at ``zoom`` (screen pixels per array pixel, vertically and horizontally)."""
        return self.rows == display_size(self.height, zoom[0]) and self.cols == display_size(self.width, zoom[1])

    def covers(self, visible: tuple[float, float, float, float], shape: Sequence[int]) -> bool:
        """Whether the part holds all of ``visible`` (top, left, bottom, right in array
        pixels) that lies inside an array of ``shape`` ``(H, W, ...)``."""
        top, left, bottom, right = _clip_region(visible, shape)
        return self.top <= top and self.left <= left and bottom <= self.bottom and right <= self.right


def display_size(extent: int, zoom: float) -> int:
    """Screen pixels that ``extent`` array pixels cover at ``zoom`` screen pixels per array
    pixel, rounded to the nearest whole pixel, at least 1 and at most ``extent``."""
    return min(extent, max(1, int(math.floor(extent * zoom + 0.5))))


def _clip_region(visible: tuple[float, float, float, float], shape: Sequence[int]) -> tuple[float, float, float, float]:
    top, left, bottom, right = (float(v) for v in visible)
    height, width = shape[0], shape[1]
    top, bottom = min(max(top, 0.0), height), min(max(bottom, 0.0), height)
    left, right = min(max(left, 0.0), width), min(max(right, 0.0), width)
    return top, left, max(top, bottom), max(left, right)


#: How far a window reaches beyond the visible part on each side, as a fraction of the
#: visible size: panning that far needs no new reduction, and a window holds at most
#: (1 + 2 * margin)^2 times the pixels on screen.
WINDOW_MARGIN = 0.5
#: How many pixels a window may grow by to reach a size OpenCV reduces exactly.
_EXACT_SEARCH = 8


def display_window(
    shape: Sequence[int], zoom: tuple[float, float], visible: tuple[float, float, float, float] | None = None
) -> DisplayWindow | None:
    """The part of an array of ``shape`` ``(H, W, ...)`` to reduce, and the size to reduce
    it to, for a view at ``zoom`` (screen pixels per array pixel, vertically and
    horizontally) that shows ``visible`` (top, left, bottom, right in array pixels; None:
    the whole array).

    None when nothing needs reducing (a zoom of 1 or more on either axis: the pixels are
    drawn as they are). Otherwise the part is the visible region grown by `WINDOW_MARGIN`
    of its size on each side, in whole pixels, clipped to the array (so the whole array
    when it is all in view), and its screen size is `display_size` of each side. A part
    that does not reach the array's edge may grow by a few pixels to a size whose OpenCV
    area reduction is exact, so the fast path of `reduce_for_display` applies.
    """
    if len(zoom) != 2 or not all(isinstance(z, (int, float)) and math.isfinite(z) and z > 0 for z in zoom):
        raise ParameterError(f"zoom must be two positive numbers (vertical, horizontal); got {zoom!r}")
    height, width = int(shape[0]), int(shape[1])
    if height < 1 or width < 1:
        raise ParameterError(f"cannot show an empty array (shape {tuple(shape)})")
    if zoom[0] >= 1 or zoom[1] >= 1:
        return None
    top, left, bottom, right = _clip_region(visible or (0, 0, height, width), shape)
    rows = _window_axis(top, bottom, height, zoom[0])
    cols = _window_axis(left, right, width, zoom[1])
    return DisplayWindow(rows[0], cols[0], rows[1], cols[1], display_size(rows[1] - rows[0], zoom[0]), display_size(cols[1] - cols[0], zoom[1]))


def _window_axis(start: float, end: float, extent: int, zoom: float) -> tuple[int, int]:
    margin = (end - start) * WINDOW_MARGIN
    lo = max(0, int(math.floor(start - margin)))
    hi = min(extent, max(int(math.ceil(end + margin)), lo + 1))
    lo = min(lo, hi - 1)
    for grow in range(_EXACT_SEARCH + 1):
        if lo == 0 and hi == extent:
            break  # the whole axis: nothing to choose
        a, b = (lo, hi + grow) if hi + grow <= extent else (max(0, lo - grow), hi)
        if opencv_is_exact(b - a, display_size(b - a, zoom), cv2.INTER_AREA):
            return a, b
    return lo, hi


def reduce_for_display(display: np.ndarray, window: DisplayWindow) -> np.ndarray:
    """The part of ``display`` that ``window`` names, reduced by area averaging to
    ``window.rows x window.cols``: each output pixel is the area-weighted mean of the
    pixels its footprint covers (``height / rows`` by ``width / cols`` array pixels),
    rounded to the nearest integer.

    ``display`` is uint8 ``(H, W)`` or ``(H, W, C)`` (an 8-bit display copy, see
    `to_display`); the result has the same dtype and channel layout, C-contiguous, and is
    within half a level (plus float32 rounding, about 0.01) of the exact mean. OpenCV's
    INTER_AREA runs where its boundaries are exact for these sizes (`opencv_is_exact`);
    elsewhere core's own area taps do the same sums. A window of the part's own size gives
    the part as it is (a view of ``display`` when the part is C-contiguous).
    """
    if display.dtype != np.uint8 or display.ndim not in (2, 3):
        raise ParameterError(f"display arrays are uint8 (H, W) or (H, W, C); got {display.dtype} {display.shape}")
    height, width = display.shape[:2]
    if not (0 <= window.top < window.bottom <= height and 0 <= window.left < window.right <= width):
        raise ParameterError(f"display window {window} does not lie inside an array of {height}x{width} pixels")
    if not (1 <= window.rows <= window.height and 1 <= window.cols <= window.width):
        raise ParameterError(f"display window {window} must reduce its part to between 1 pixel and its own size")
    part = display[window.top:window.bottom, window.left:window.right]
    if (window.rows, window.cols) == part.shape[:2]:
        return np.ascontiguousarray(part)
    hwc = part if part.ndim == 3 else part[:, :, None]
    size = (window.rows, window.cols)
    if opencv_is_exact_for(hwc, size, cv2.INTER_AREA):
        out = cv2_resize(hwc, size, cv2.INTER_AREA)
    else:
        out = apply_taps(hwc, area_taps(window.height, window.rows), area_taps(window.width, window.cols), np.uint8)
    return np.ascontiguousarray(out if display.ndim == 3 else out[:, :, 0])
