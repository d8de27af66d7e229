"""Pictures a screen can show of an image, faithfully: 8-bit copies (transparency over a
checkerboard) and, for zoomed-out views, copies reduced by area to exactly their size on
screen.

Nothing here changes what a method computed; a viewer (or a figure) shows these copies
instead of doing pixel arithmetic itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from core.common.arrays import as_hwc, data_range
from core.common.errors import ParameterError
from core.methods.taps import (
    apply_taps,
    area_taps,
    cv2_resize,
    opencv_is_exact,
    opencv_is_exact_for,
)

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
    unit = np.clip(values.astype(np.float32), 0.0, 1.0)  # first: a value near float32's limit times 255 overflows
    return np.rint(unit * np.float32(scale)).astype(np.uint8)


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
    back = checkerboard(colour.shape[0], colour.shape[1], origin=origin).astype(np.float32)
    if front.ndim == 3:
        weight, back = weight[:, :, None], back[:, :, None]
    mixed = front * weight + back * (1.0 - weight)
    return np.ascontiguousarray(np.clip(np.rint(mixed), 0, 255).astype(np.uint8))


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
    shown = (display_size(rows[1] - rows[0], zoom[0]), display_size(cols[1] - cols[0], zoom[1]))
    return DisplayWindow(rows[0], cols[0], rows[1], cols[1], *shown)


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
    part = display[window.top : window.bottom, window.left : window.right]
    if (window.rows, window.cols) == part.shape[:2]:
        return np.ascontiguousarray(part)
    hwc = part if part.ndim == 3 else part[:, :, None]
    size = (window.rows, window.cols)
    if opencv_is_exact_for(hwc, size, cv2.INTER_AREA):
        out = cv2_resize(hwc, size, cv2.INTER_AREA)
    else:
        out = apply_taps(hwc, area_taps(window.height, window.rows), area_taps(window.width, window.cols), np.uint8)
    return np.ascontiguousarray(out if display.ndim == 3 else out[:, :, 0])
