"""Colour for difference maps: the colour maps, and a map's values turned into a
picture with a gain (docs/METHODS.md#difference). A gain or a colour map is display
only: the values are never computed again for it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from core.common.arrays import data_range
from core.common.cancel import check_cancelled
from core.common.errors import ParameterError
from core.common.vocabulary import DIFF_KINDS, DiffKind
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
    """Diverging for signed differences, viridis for the SSIM map, perceptual magma for
    abs and squared differences and for FLIP (its authors' choice)."""
    return "diverging" if kind == "signed" else "viridis" if kind == "ssim" else "magma"


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
    range (255, 65535 or 1.0); ssim: ``(0, 1)`` (negative SSIM, rare, takes the first
    colour); flip: ``(0, 1)``.
    """
    peak = data_range(np.dtype(dtype))
    if kind in ("ssim", "flip"):
        return 0.0, 1.0
    if kind == "abs":
        return 0.0, peak
    if kind == "signed":
        return -peak, peak
    if kind == "squared":
        return 0.0, peak * peak
    raise ParameterError(f"difference kind must be one of {', '.join(DIFF_KINDS)}; got {kind!r}")


def display_range(kind: DiffKind, dtype: np.dtype, gain: float = 1.0) -> tuple[float, float]:
    """The values the first and last colours of a map stand for at ``gain``: the span of
    `difference_range` divided by the gain, except for SSIM, where the gain magnifies
    the top of the scale (``1 - 1/gain`` to 1: the small losses of a good method)."""
    low, high = difference_range(kind, dtype)
    if kind == "ssim":
        return 1.0 - 1.0 / gain, 1.0
    return low / gain, high / gain


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
    low, high = display_range(kind, dtype, gain)
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
        elif low != 0:  # SSIM: the span starts above zero
            shifted = (diff[band].astype(np.float32) - np.float32(low)) * np.float32(255.0 / (high - low))
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
