"""What a comparison gives back for one method: `MethodResult`."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.common.region import Region
from core.methods.naming import choice_key
from core.metrics.measures import Metrics


@dataclass(frozen=True)
class MethodResult:
    """One method's outcome. ``image`` is None when ``reason`` says why it could not run.

    ``job_id`` is the id of the comparison that made it, so a caller can drop stale
    results. ``metrics`` and `difference` are None when there is no reference, or the
    result's size differs from it (``note`` then says so). ``backend`` names the backend
    that computed the image (``"cpu"``, ``"opencl"``, ``"torch"``); when it is not the
    comparison's, ``note`` says why. ``backend_notice`` carries, once per session, the
    news that a backend failed and was switched off.
    """

    job_id: Hashable
    method_id: str
    label: str
    params: Mapping[str, Any]
    image: np.ndarray | None
    seconds: float = 0.0
    metrics: Metrics | None = None
    reason: str | None = None
    note: str | None = None
    backend: str = "cpu"
    backend_notice: str | None = None
    #: The analysis (`Comparison.analyse`): the checkerboard score (percent; see
    #: `core.checkerboard_score`) and the mean FLIP against the reference, None until asked.
    checkerboard: float | None = None
    flip: float | None = None
    #: Set on the results of `Comparison.measure_region`: what was measured is this
    #: rectangle of the output, and ``metrics`` (and the analysis) are the region's.
    region: Region | None = None
    #: Makes `difference` when it is read (set by the comparison that made the result).
    difference_of: Callable[[MethodResult], np.ndarray | None] | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.image is not None

    @property
    def key(self) -> tuple[str, str]:
        """The method and its parameters: what identifies this result in its comparison."""
        return result_key(self.method_id, self.params)

    @property
    def choice_key(self) -> str:
        """The name of this run of its method in the comparison (`core.choice_key`):
        ``"bicubic"``, or ``"bicubic[a=-0.5]"`` beside it; the window's panels and rows go by it."""
        return choice_key(self.method_id, self.params)

    @property
    def region_text(self) -> str:
        """``"x,y,w,h"`` of the region measured, ``""`` for the whole image."""
        return "" if self.region is None else f"{self.region.x},{self.region.y},{self.region.width},{self.region.height}"

    @property
    def difference(self) -> np.ndarray | None:
        """The difference map of this result against its comparison's reference, as the
        settings ask (``diff_kind``, ``diff_per_channel``), computed when read and not
        kept: nothing holds a map nobody reads. None without a reference or a map kind."""
        return None if self.difference_of is None else self.difference_of(self)


def result_key(method_id: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """``(method id, its parameters as text)``: one method may run twice in a comparison
    with different parameters, and each result is told apart by this key."""
    return method_id, repr(sorted(params.items()))
