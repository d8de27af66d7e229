"""Looking closer at an image's values: histograms per channel, one channel shown alone,
and exposure and offset (as tev does) for images whose values a plain 8-bit copy hides.

All of these are display only: the image is never changed, and what a viewer reads off a
pixel stays the image's own value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.common.arrays import as_hwc, data_range
from core.common.cancel import check_cancelled
from core.common.errors import ParameterError
from core.display.screen import to_display

ChannelView = Literal["rgb", "R", "G", "B", "A", "luma"]
#: The channel views, in the order a viewer offers them: every channel, one of them, luma.
CHANNEL_VIEWS: tuple[ChannelView, ...] = ("rgb", "R", "G", "B", "A", "luma")
#: Full-range BT.601 weights of R, G and B in the luma view (the spectrum's luma too).
DISPLAY_LUMA_WEIGHTS = (0.299, 0.587, 0.114)
#: Rows per step of the per-pixel work here, so a large image is not copied whole at once.
_BAND_ROWS = 256


@dataclass(frozen=True)
class Histogram:
    """Counts of an image's values per channel.

    ``edges`` is float64 ``(bins + 1,)``, the bin edges in the image's own units from 0
    to the dtype's range (256 for uint8, 65536 for uint16: one past the last value, so
    every integer value falls in one bin); for float32 from 0 to 1, widened to the
    image's lowest and highest finite values when they lie beyond (HDR and signed data);
    ``counts`` is int64 ``(C, bins)``, one row per channel named in ``channels`` ("R",
    "G", "B", "A"; "L" for grey), plus a last row "luma" for colour images (see
    `channel_view`).
    """

    edges: np.ndarray
    counts: np.ndarray
    channels: tuple[str, ...]
    floating: bool = False

    def span_text(self) -> str:
        """The values counted, as a person reads them: ``"0 to 255"``, ``"-0.5 to 4"``."""
        if self.floating:
            return f"{self.edges[0]:g} to {self.edges[-1]:g}"
        return f"0 to {int(self.edges[-1]) - 1}"

    def of(self, channel: str) -> np.ndarray:
        """The counts of one channel by name (int64 ``(bins,)``)."""
        if channel not in self.channels:
            raise ParameterError(f"this histogram has channels {', '.join(self.channels)}; got {channel!r}")
        return self.counts[self.channels.index(channel)]


def histogram_range(dtype: np.dtype) -> tuple[float, float]:
    """The span `histogram` counts over: ``(0, 256)``, ``(0, 65536)`` or ``(0, 1)``."""
    dtype = np.dtype(dtype)
    return 0.0, (data_range(dtype) + 1.0 if dtype.kind in "ui" else 1.0)


def histogram(image: np.ndarray, bins: int = 256) -> Histogram:
    """Count ``image``'s values per channel in ``bins`` equal bins over the dtype's range
    (`histogram_range`), as ``numpy.histogram(channel, bins, range)`` counts them (the
    last bin includes its right edge). A float image's span widens to its own lowest and
    highest values when they lie beyond 0 and 1, so every value is counted. Colour
    images get one more row, their luma (`channel_view` "luma", in the same units).

    ``image`` is ``(H, W)`` or ``(H, W, C)``, uint8, uint16 or float32; ``bins`` from 1 to
    65536. Integer images are counted exactly with one pass per channel.
    """
    if not (isinstance(bins, int) and 1 <= bins <= 65536):
        raise ParameterError(f"histogram bins must be a whole number from 1 to 65536; got {bins!r}")
    hwc = as_hwc(image)
    names = _channel_names(hwc.shape[2])
    low, high = histogram_range(hwc.dtype)
    if hwc.dtype.kind == "f":  # as_hwc has refused NaN and infinities
        for top in range(0, hwc.shape[0], _BAND_ROWS):
            band = hwc[top : top + _BAND_ROWS]
            low, high = min(low, float(band.min())), max(high, float(band.max()))
    edges = np.linspace(low, high, bins + 1)
    rows = [hwc[:, :, c] for c in range(hwc.shape[2])]
    if hwc.shape[2] >= 3:
        rows.append(channel_view(hwc[:, :, :3], "luma"))
        names = names + ("luma",)
    counts = np.zeros((len(rows), bins), np.int64)
    for index, plane in enumerate(rows):
        for top in range(0, plane.shape[0], _BAND_ROWS):
            check_cancelled()
            band = plane[top : top + _BAND_ROWS]
            counts[index] += _count(band, bins, low, high)
    return Histogram(edges=edges, counts=counts, channels=names, floating=hwc.dtype.kind == "f")


def _count(band: np.ndarray, bins: int, low: float, high: float) -> np.ndarray:
    if band.dtype.kind in "ui":
        values = band.ravel()
        if bins == int(high):
            return np.bincount(values, minlength=bins)[:bins]
        # Bin of an integer v: floor(v * bins / high), exact in int64.
        return np.bincount(values.astype(np.int64) * bins // int(high), minlength=bins)[:bins]
    return np.histogram(band, bins=bins, range=(low, high))[0]


def _channel_names(channels: int) -> tuple[str, ...]:
    return {1: ("L",), 2: ("L", "A"), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}[channels]


def channel_view(image: np.ndarray, channel: ChannelView) -> np.ndarray:
    """One channel of ``image`` as a grey image of the same dtype and units.

    "rgb" returns ``image`` itself. "R", "G", "B" pick that channel (a grey image's only
    channel stands for all three); "luma" is ``0.299 R + 0.587 G + 0.114 B``
    (`DISPLAY_LUMA_WEIGHTS`; rounded for integer dtypes; a grey image's own values);
    "A" is the alpha channel (the dtype's full range, opaque, for an image without one).
    The result is ``(H, W)``, or ``(H, W, 2)`` grey with the image's alpha kept for the
    colour views, so transparency still shows over the checkerboard; "A" itself has no
    alpha.
    """
    if channel not in CHANNEL_VIEWS:
        raise ParameterError(f"channel view must be one of {', '.join(CHANNEL_VIEWS)}; got {channel!r}")
    hwc = as_hwc(image)
    if channel == "rgb":
        return image
    channels = hwc.shape[2]
    alpha = hwc[:, :, -1] if channels in (2, 4) else None
    if channel == "A":
        if alpha is not None:
            return np.ascontiguousarray(alpha)
        return np.full(hwc.shape[:2], data_range(hwc.dtype), hwc.dtype)
    if channels <= 2:
        grey = hwc[:, :, 0]
    elif channel == "luma":
        grey = _luma(hwc)
    else:
        grey = hwc[:, :, "RGB".index(channel)]
    if alpha is None:
        return np.ascontiguousarray(grey)
    return np.ascontiguousarray(np.stack([grey, alpha], axis=2))


def _luma(hwc: np.ndarray) -> np.ndarray:
    out = np.empty(hwc.shape[:2], hwc.dtype)
    weights = np.array(DISPLAY_LUMA_WEIGHTS, np.float32)
    for top in range(0, hwc.shape[0], _BAND_ROWS):
        check_cancelled()
        band = slice(top, top + _BAND_ROWS)
        mixed = hwc[band, :, :3].astype(np.float32) @ weights
        if hwc.dtype.kind in "ui":
            mixed = np.clip(np.rint(mixed), 0, data_range(hwc.dtype))
        out[band] = mixed
    return out


def check_exposure(exposure: float, offset: float) -> None:
    """Refuse an exposure outside -20..20 stops or an offset outside -1..1 (or NaN)."""
    if not (isinstance(exposure, (int, float)) and math.isfinite(exposure) and -20 <= exposure <= 20):
        raise ParameterError(f"exposure must be a number of stops from -20 to 20; got {exposure!r}")
    if not (isinstance(offset, (int, float)) and math.isfinite(offset) and -1 <= offset <= 1):
        raise ParameterError(f"offset must be a number from -1 to 1 (a fraction of the full range); got {offset!r}")


def adjusted_display(
    image: np.ndarray, channel: ChannelView = "rgb", exposure: float = 0.0, offset: float = 0.0
) -> np.ndarray:
    """The 8-bit copy a screen shows of ``image`` through a channel view and an exposure.

    First `channel_view` picks ``channel``; then each colour value ``v`` (not alpha) is
    shown as ``v / R * 2^exposure + offset`` of full white, ``R`` the dtype's range
    (255, 65535, 1.0), clipped to [0, 1], as tev does before its 8-bit copy; then
    `to_display` makes the copy (transparency over the checkerboard). With no view, no
    exposure and no offset this is `to_display` itself. Returns uint8 ``(H, W)`` or
    ``(H, W, 3)``; ``image`` is not changed.
    """
    check_exposure(exposure, offset)
    shown = channel_view(image, channel)
    if exposure == 0 and offset == 0:
        return to_display(shown)
    hwc = as_hwc(shown)
    colours = 1 if hwc.shape[2] <= 2 else 3
    gain = np.float32(2.0**exposure / data_range(hwc.dtype))
    unit = np.empty(hwc.shape, np.float32)
    for top in range(0, hwc.shape[0], _BAND_ROWS):
        check_cancelled()
        band = slice(top, top + _BAND_ROWS)
        part = hwc[band].astype(np.float32)
        part[:, :, :colours] = np.clip(part[:, :, :colours] * gain + np.float32(offset), 0.0, 1.0)
        if hwc.shape[2] > colours:  # alpha, in [0, 1]
            part[:, :, colours:] /= np.float32(data_range(hwc.dtype))
        unit[band] = part
    return to_display(unit[:, :, 0] if hwc.shape[2] == 1 else unit)
