"""Colour definitions shared by the metrics and the learned methods.

Luma is ITU-R BT.601 studio-range luma as MATLAB's ``rgb2ycbcr`` computes it, the
definition super-resolution papers measure on (docs/METHODS.md#paper-convention): for R,
G and B in [0, 1], ``Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255``, in [16, 235] / 255.
"""

from __future__ import annotations

import numpy as np

#: Weights of R, G and B in luma, for RGB in [0, 1].
LUMA_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0
#: Luma of black.
LUMA_OFFSET = 16.0 / 255.0


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of ``(..., 3)`` RGB in [0, 1] (any float dtype): ``(...)`` in the same
    dtype, in [16/255, 235/255] for RGB in [0, 1]."""
    weights = LUMA_WEIGHTS.astype(rgb.dtype)
    return rgb @ weights + rgb.dtype.type(LUMA_OFFSET)
