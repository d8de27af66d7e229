"""Difference maps: the one function that computes the map a viewer, a figure or a file
shows of a method's result against its reference (docs/METHODS.md#difference).

A gain and a colour map are display matters (`core.colorize_difference`): the map itself
is always in the images' own units, so recolouring never needs it computed again.
"""

from __future__ import annotations

import numpy as np

from core.common.cancel import check_cancelled
from core.common.vocabulary import DiffKind, check_diff_kind
from core.metrics.flip import flip_map
from core.metrics.measures import band_rows, checked_pair, ssim_map


def difference(
    reference: np.ndarray, test: np.ndarray, *, kind: DiffKind = "signed", per_channel: bool = True
) -> np.ndarray:
    """Difference map of ``test`` against ``reference`` in float32, in the images' own
    units: ``signed`` is ``test - reference``, ``abs`` its magnitude, ``squared`` its square.
    Two maps are measures in their own units, always ``(H, W)``: ``ssim``, the local SSIM
    (`core.ssim_map`, 1 where the structure is the same), and ``flip``, NVIDIA's FLIP
    (`core.flip_map`, 0 where no difference is visible; needs ``flip-evaluator``).

    The arguments come in the order of every metric, ``(reference, test)``; the keyword
    names ``reference=`` and ``test=`` work as before.

    Parameters
    ----------
    reference, test:
        Images of the same shape and dtype (see `core.psnr`).
    kind:
        ``"signed"``, ``"abs"``, ``"squared"``, ``"ssim"`` or ``"flip"``.
    per_channel:
        True keeps the channels: ``(H, W, C)`` (``(H, W)`` for grey); False averages the
        map over channels: ``(H, W)``.

    Computed in bands of rows (`band_rows`): beyond the map it returns, a few megabytes.
    """
    check_diff_kind(kind)
    if kind == "ssim":
        return ssim_map(reference, test)
    if kind == "flip":
        return flip_map(reference, test)[0]
    ref, tst = checked_pair(reference, test)
    height, width, channels = ref.shape
    out = np.empty((height, width, channels) if per_channel else (height, width), np.float32)
    step = band_rows(width * channels * 4)
    for top in range(0, height, step):
        check_cancelled()
        band = slice(top, min(top + step, height))
        signed = tst[band].astype(np.float32)
        np.subtract(signed, ref[band], out=signed, dtype=np.float32)
        if kind == "abs":
            np.abs(signed, out=signed)
        elif kind == "squared":
            np.square(signed, out=signed)
        if per_channel:
            out[band] = signed
        else:
            np.mean(signed, axis=2, out=out[band])
    return out if not per_channel or test.ndim == 3 else out[:, :, 0]
