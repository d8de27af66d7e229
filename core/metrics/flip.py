"""NVIDIA's FLIP: the perceived difference between two images, as a map and its mean
(docs/METHODS.md#flip), through the ``flip-evaluator`` package (BSD licence).

FLIP models how a viewer at a given distance sees two images flipped back and forth:
colour differences filtered by the eye's contrast sensitivity, plus edges and points
that appear or vanish. Its map is in [0, 1] (0: no visible difference). It costs about
3 s per 2048x2048 pair on two cores, so Upscope computes it when it is asked for (the
``flip`` difference kind, or the ``flip`` metric of a comparison), not by default.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.common.arrays import data_range
from core.common.errors import ParameterError, UpscopeError, last_line
from core.metrics.measures import checked_pair

INSTALL_HINT = 'install it: python3 -m pip install -e ".[flip]"'


class FlipUnavailableError(UpscopeError):
    """``flip-evaluator`` is not installed (the message says how to install it)."""


def flip_available() -> bool:
    """Whether ``flip-evaluator`` can be imported here."""
    try:
        _evaluator()
    except FlipUnavailableError:
        return False
    return True


def _evaluator() -> Any:
    try:
        import flip_evaluator
    except ImportError:
        raise FlipUnavailableError(
            f"the FLIP map needs the flip-evaluator package, which is not installed; {INSTALL_HINT}"
        ) from None
    return flip_evaluator


def _as_srgb(image: np.ndarray) -> np.ndarray:
    """``(H, W, C)`` as FLIP takes it: ``(H, W, 3)`` float32 sRGB in [0, 1] (grey repeated
    on three channels, alpha dropped, float data clipped to [0, 1])."""
    colour = image[:, :, :3] if image.shape[2] >= 3 else np.repeat(image[:, :, :1], 3, axis=2)
    unit = colour.astype(np.float32) / np.float32(data_range(image.dtype))
    return np.ascontiguousarray(np.clip(unit, 0.0, 1.0))


def flip_map(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, float]:
    """The FLIP error map of ``test`` against ``reference`` (same shape and dtype) and its
    mean: ``(H, W)`` float32 in [0, 1], and the mean as a float. Both images are taken as
    sRGB (LDR), seen at FLIP's default 67 pixels per degree (a 0.7 m viewing distance
    from a 31.6-inch 4K monitor). Raises `FlipUnavailableError` when the package is
    missing, `ParameterError` for images FLIP cannot take."""
    ref, tst = checked_pair(reference, test)
    evaluator = _evaluator()
    try:
        error, mean, _ = evaluator.evaluate(_as_srgb(ref), _as_srgb(tst), "LDR", applyMagma=False)
    except Exception as exc:  # the extension raises plain RuntimeErrors for what it cannot take
        raise ParameterError(f"FLIP could not compare these images ({last_line(exc)})") from None
    error = np.asarray(error, dtype=np.float32)
    if error.ndim == 3:
        error = error[:, :, 0]
    return np.ascontiguousarray(error), float(mean)
