"""The picture of an image's spectrum a viewer shows: `core.spectrum` coloured over a
span of log-magnitudes fixed relative to the image's size, so the spectra of the images
of one comparison (all of one size) are coloured alike and compare by eye
(docs/METHODS.md#spectrum)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.display.colour import ColormapName, colormap_lut
from core.metrics.spectrum import spectrum

#: The log10 magnitudes the first and last colours stand for, relative to
#: ``log10(sqrt(H * W))`` (white noise of a given strength then takes the same colour at
#: every size): from below the quantisation noise of 8-bit photographs enlarged by
#: interpolation (about -4) to the strongest low frequencies of a photograph (about +1).
SPECTRUM_SPAN = (-4.5, 0.5)
SPECTRUM_UNITS = "log10 |F|"


@dataclass(frozen=True)
class SpectrumPicture:
    """``values``: `core.spectrum` of the image, ``(H, W)`` float32 (zero frequency at
    ``(H // 2, W // 2)``); ``rgb``: their colours, ``(H, W, 3)`` uint8, the colormap's
    first entry standing for ``low`` and its last for ``high`` (log10 magnitudes)."""

    values: np.ndarray
    rgb: np.ndarray
    low: float
    high: float
    colormap: ColormapName


def spectrum_span(height: int, width: int) -> tuple[float, float]:
    """The log10 magnitudes the first and last colours stand for on a ``height x width``
    spectrum: `SPECTRUM_SPAN` shifted by ``log10(sqrt(height * width))``."""
    shift = 0.5 * math.log10(max(height * width, 1))
    return SPECTRUM_SPAN[0] + shift, SPECTRUM_SPAN[1] + shift


def spectrum_picture(image: np.ndarray, colormap: ColormapName = "magma") -> SpectrumPicture:
    """The spectrum of ``image`` (any image `core.spectrum` takes) and its colours over
    `spectrum_span`; values beyond the span take the end colours."""
    values = spectrum(image)
    low, high = spectrum_span(*values.shape)
    index = np.clip(np.rint((values - np.float32(low)) * np.float32(255.0 / (high - low))), 0, 255).astype(np.uint8)
    return SpectrumPicture(values, colormap_lut(colormap)[index], low, high, colormap)
