"""Two methods side by side on one image: the Conventions view's comparison
(docs/METHODS.md#conventions). Where a comparison measures methods against a
reference, this puts two against each other: their results, the map of where they differ
and a sentence on why."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.backends.run import upsample
from core.common.arrays import ScaleArg, SizeArg, as_hwc
from core.common.errors import ParameterError
from core.methods.conventions import why_they_differ
from core.metrics.difference import difference


@dataclass(frozen=True)
class PairComparison:
    """``first`` and ``second`` upsampled the same way (``(h, w, C)`` in the image's
    dtype), ``difference`` their absolute difference averaged over channels (``(h, w)``
    float32, image units), how many pixels differ at all, the largest difference, and
    ``why`` (`why_they_differ`)."""

    first_id: str
    second_id: str
    first: np.ndarray
    second: np.ndarray
    difference: np.ndarray
    differing: int
    largest: float
    why: str

    @property
    def share(self) -> float:
        """The fraction of pixels that differ, 0 to 1."""
        return self.differing / max(1, self.difference.size)


def compare_pair(image: np.ndarray, first: str, second: str, scale: ScaleArg = None, size: SizeArg = None) -> PairComparison:
    """Upsample ``image`` with methods ``first`` and ``second`` (ids, with their default
    parameters) to the same size and compare them pixel by pixel. Raises what
    `core.upsample` raises for either (a method that cannot take the scale, a library
    that is not installed), and `ParameterError` when their sizes differ."""
    hwc = as_hwc(image)
    a = as_hwc(upsample(hwc, first, scale, size))
    b = as_hwc(upsample(hwc, second, scale, size))
    if a.shape != b.shape:
        raise ParameterError(f"{first} gives {a.shape[1]}x{a.shape[0]} and {second} {b.shape[1]}x{b.shape[0]}: "
                             "they cannot be compared pixel by pixel")
    per_channel = np.abs(a.astype(np.float64) - b.astype(np.float64)).max(axis=2)
    shown = difference(a, b, kind="abs", per_channel=False)
    return PairComparison(first, second, a, b, shown, int(np.count_nonzero(per_channel)), float(per_channel.max(initial=0.0)),
                          why_they_differ(first, second))
