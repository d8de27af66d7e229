"""Built-in test charts: the patterns that expose aliasing, ringing and blur.

Every chart is drawn here from formulas, so the app opens on something meaningful without
any file, and the same chart is the same array on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from core.common.errors import ParameterError

#: Patterns are drawn at this many samples per pixel and each axis, then box-averaged,
#: so edges are anti-aliased the way a camera's pixels would integrate them.
_SUPERSAMPLE = 4


@dataclass(frozen=True)
class ChartSpec:
    """A chart a viewer can list: id, menu label and what it shows."""

    id: str
    label: str
    description: str
    draw: Callable[[int], np.ndarray]


def _box_average(image: np.ndarray, factor: int) -> np.ndarray:
    h, w = image.shape[0] // factor, image.shape[1] // factor
    return image.reshape(h, factor, w, factor).mean(axis=(1, 3))


def _centred_grid(size: int, factor: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in pixels, origin at the middle, ``(size*factor,)`` each."""
    n = size * factor
    coords = (np.arange(n, dtype=np.float64) + 0.5) / factor - size / 2
    return coords[None, :], coords[:, None]


def zone_plate(size: int) -> np.ndarray:
    """Circular zone plate ``0.5 + 0.5 cos(pi r^2 / size)``: local frequency grows
    linearly from 0 at the centre to 0.5 cycles/pixel (Nyquist) at the edge midpoints.
    float64 ``(size, size)`` in [0, 1]. Any upsampler's aliasing shows as false rings."""
    x, y = _centred_grid(size)
    return 0.5 + 0.5 * np.cos(math.pi * (x * x + y * y) / size)


def siemens_star(size: int, spokes: int = 36) -> np.ndarray:
    """Siemens star with ``spokes`` black and white sectors on grey, anti-aliased.
    float64 ``(size, size)`` in [0, 1]. Near the centre the spokes pass the Nyquist
    limit; where a method turns them to mush or moire is its resolution limit."""
    x, y = _centred_grid(size, _SUPERSAMPLE)
    theta = np.arctan2(y, x)
    star = (np.sin(spokes / 2 * theta) >= 0).astype(np.float64)
    radius = np.hypot(x, y)
    star[radius > size * 0.46] = 0.5
    return _box_average(star, _SUPERSAMPLE)


def slanted_edge(size: int, angle_degrees: float = 5.0) -> np.ndarray:
    """A dark-to-light edge tilted ``angle_degrees`` from vertical (ISO 12233 style),
    levels 0.2 and 0.8. float64 ``(size, size)``. Shows blur width and overshoot."""
    x, y = _centred_grid(size, _SUPERSAMPLE)
    slope = math.tan(math.radians(angle_degrees))
    edge = np.where(x - y * slope >= 0, 0.8, 0.2)
    return _box_average(edge, _SUPERSAMPLE)


def fine_text(size: int) -> np.ndarray:
    """Lines of small black text on white, decreasing in size, plus 1-pixel line pairs.
    float64 ``(size, size)`` in [0, 1]. Thin strokes show blur and ringing at once."""
    canvas = np.full((size, size), 255, np.uint8)
    text = "The quick brown fox jumps over 1234567890"
    (width, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1)
    scale = (size - 8) / width
    y = int(30 * scale) + 4
    while y < size * 0.72 and scale >= 0.28:
        cv2.putText(canvas, text, (4, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, 1, cv2.LINE_AA)
        scale *= 0.93
        y += int(30 * scale) + 3
    # Line pairs at 1, 2 and 3 pixels per line.
    top = int(size * 0.76)
    for i, period in enumerate((2, 4, 6)):
        x0 = 4 + i * (size // 3)
        width = size // 3 - 8
        for x in range(x0, x0 + width, period):
            canvas[top : size - 4, x : x + period // 2] = 0
    return canvas.astype(np.float64) / 255.0


def _grey_to_rgb8(image: np.ndarray) -> np.ndarray:
    grey = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def _colour_bars(height: int, width: int) -> np.ndarray:
    """Eight saturated bars (white, yellow, cyan, green, magenta, red, blue, black)."""
    colours = np.array(
        [[255, 255, 255], [255, 255, 0], [0, 255, 255], [0, 255, 0], [255, 0, 255], [255, 0, 0], [0, 0, 255], [0, 0, 0]],
        np.uint8,
    )
    index = (np.arange(width) * len(colours)) // width
    return np.repeat(colours[index][None, :, :], height, axis=0)


def composite_chart(size: int) -> np.ndarray:
    """Zone plate, Siemens star, slanted edge and fine text in four quadrants, with a strip
    of colour bars under the text. uint8 RGB ``(size, size, 3)``; ``size`` even."""
    half = size // 2
    chart = np.empty((2 * half, 2 * half, 3), np.uint8)
    chart[:half, :half] = _grey_to_rgb8(zone_plate(half))
    chart[:half, half:] = _grey_to_rgb8(siemens_star(half))
    chart[half:, :half] = _grey_to_rgb8(slanted_edge(half))
    bars = max(4, half // 8)
    chart[half : 2 * half - bars, half:] = _grey_to_rgb8(fine_text(half))[: half - bars]
    chart[2 * half - bars :, half:] = _colour_bars(bars, half)
    return chart


_CHARTS = {
    spec.id: spec
    for spec in (
        ChartSpec(
            "test-chart", "Test chart", "Zone plate, Siemens star, slanted edge, fine text and colour bars.", composite_chart
        ),
        ChartSpec(
            "zone-plate",
            "Zone plate",
            "Rings up to the Nyquist frequency: aliasing shows as false rings.",
            lambda s: _grey_to_rgb8(zone_plate(s)),
        ),
        ChartSpec(
            "siemens-star",
            "Siemens star",
            "36 spokes converging to the centre: resolution limit and moire.",
            lambda s: _grey_to_rgb8(siemens_star(s)),
        ),
        ChartSpec(
            "slanted-edge",
            "Slanted edge",
            "A 5-degree edge: blur width, overshoot and ringing.",
            lambda s: _grey_to_rgb8(slanted_edge(s)),
        ),
        ChartSpec(
            "fine-text",
            "Fine text",
            "Small text and 1-3 pixel line pairs: blur and ringing on thin strokes.",
            lambda s: _grey_to_rgb8(fine_text(s)),
        ),
    )
}


def list_charts() -> list[ChartSpec]:
    """Every built-in chart, the default (``"test-chart"``) first."""
    return list(_CHARTS.values())


def make_chart(chart_id: str = "test-chart", size: int = 512) -> np.ndarray:
    """Draw a built-in chart: uint8 RGB ``(size, size, 3)``.

    ``size`` must be an even number from 64 to 8192.
    """
    if chart_id not in _CHARTS:
        raise ParameterError(f"unknown chart {chart_id!r}; charts: {', '.join(_CHARTS)}")
    if not (isinstance(size, int) and 64 <= size <= 8192 and size % 2 == 0):
        raise ParameterError(f"chart size must be an even whole number from 64 to 8192; got {size!r}")
    return _CHARTS[chart_id].draw(size)
