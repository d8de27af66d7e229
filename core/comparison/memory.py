"""How much memory a comparison needs, and whether the machine has it, before it starts.

`estimate_memory` adds up what a comparison holds and what its steps need while they
run; `check_memory` compares that with what the machine has available
(`available_memory`) and refuses, naming both figures and what to change, a comparison
that would otherwise fail halfway with an out-of-memory error. `core.Comparison` checks
on construction; the window and the command line say how many steps or comparisons run
at once, since those count together.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.common.arrays import number_text, parse_scale, scaled_size, size_text
from core.common.errors import ParameterError
from core.methods.registry import get_method, is_whole
from core.methods.taps import BAND_BYTES
from core.metrics.measures import MIN_BAND_ROWS, REFERENCE_STATISTICS_BYTES, band_rows

if TYPE_CHECKING:
    from core.comparison.settings import ComparisonSettings

#: Float32 arrays a band of SSIM keeps alive at once (the images, their blurs, squares,
#: products and the map), counted generously.
_SSIM_BAND_ARRAYS = 14


class NotEnoughMemoryError(ParameterError):
    """A comparison would need more memory than the machine has available; the message
    gives both figures and what to change."""


@dataclass(frozen=True)
class MemoryEstimate:
    """A comparison's memory in bytes, by what it is for.

    ``inputs``: the image, its ground-truth crop when that is a copy, the shrunk input
    and what the downsampler recorded. ``results``: every result kept, with its
    difference map when the settings keep one (and, for a viewer, its display copies).
    ``working``: what the steps running at once need on top (a float32 copy of a result
    being rounded, bands of metrics), for ``workers`` steps at a time. ``statistics``:
    the reference's SSIM statistics, kept for every method's measurement.
    """

    inputs: int
    results: int
    working: int
    workers: int
    statistics: int = 0

    @property
    def total(self) -> int:
        return self.inputs + self.results + self.working + self.statistics


def planned_output_size(image_shape: Sequence[int], mode: str, scale: tuple[float, float]) -> tuple[int, int]:
    """The ``(h, w)`` a comparison's results have for an image of ``image_shape``:
    degrade mode, the image cropped to a multiple of a whole-number scale; upscale mode,
    ``floor(H * scale + 0.5)`` per axis."""
    height, width = int(image_shape[0]), int(image_shape[1])
    if mode == "upscale":
        return scaled_size((height, width), scale)
    if all(is_whole(s) for s in scale):
        fy, fx = round(scale[0]), round(scale[1])
        return height // fy * fy, width // fx * fx
    return height, width


def memory_breakdown(
    image_shape: Sequence[int], dtype: np.dtype | type, settings: ComparisonSettings, *, workers: int | None = None,
    shown: bool = False,
) -> MemoryEstimate:
    """`estimate_memory`, by what the bytes are for (see `MemoryEstimate`)."""
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ParameterError(f"workers must be at least 1; got {workers!r}")
    itemsize = np.dtype(dtype).itemsize
    channels = int(image_shape[2]) if len(image_shape) == 3 else 1
    scale = parse_scale(settings.scale)
    height, width = planned_output_size(image_shape, settings.mode, scale)
    pixels = height * width
    choices = settings.method_choices()
    ids = {choice.id for choice in choices}

    inputs = int(image_shape[0]) * int(image_shape[1]) * channels * itemsize
    if settings.mode == "degrade":
        low = max(1, math.floor(height / scale[0] + 0.5)) * max(1, math.floor(width / scale[1] + 0.5))
        inputs += low * channels * itemsize
        if settings.downsampler == "max-pool":
            inputs += low * channels * 8  # the recorded positions, int64
    has_reference = settings.mode == "degrade" or settings.reference is not None

    kept = len(choices) + (1 if settings.reference is not None and settings.reference not in ids else 0)
    per_result = pixels * channels * itemsize
    if has_reference and settings.diff_kind is not None:
        per_result += pixels * 4 * (channels if settings.diff_per_channel else 1)
    if shown:
        # A viewer keeps an 8-bit copy of each result that is not plain 8-bit colour, a
        # zoomed-out copy (a quarter of it, or less), and, with a reference, the
        # difference map (float32) and its picture (RGB).
        display = pixels * (3 if channels >= 3 else 1)
        if np.dtype(dtype) != np.uint8 or channels in (2, 4):
            per_result += display
        per_result += display // 4
        if has_reference:
            per_result += pixels * (4 + 3)
    results = kept * per_result
    # The reference's SSIM statistics, kept for every method (four float32 arrays).
    statistics = min(REFERENCE_STATISTICS_BYTES, 4 * pixels * channels * 4) if has_reference else 0

    # A method may return floating point that is then rounded to the image's dtype: a
    # float32 result for a moment; the learned models also hold a float32 correction, and
    # model files their float32 output.
    step = pixels * channels * 4
    families = {get_method(choice.id).family for choice in choices}
    if "learned" in families:
        step += pixels * 4
    if "model" in families:  # a model file's float32 output planes before they are rounded, and its input
        step += pixels * channels * 4 + step // 16
    row_bytes = width * channels * 4
    step += _SSIM_BAND_ARRAYS * band_rows(row_bytes) * row_bytes + 2 * max(MIN_BAND_ROWS * row_bytes, BAND_BYTES)
    return MemoryEstimate(inputs=inputs, results=results, working=workers * step, workers=workers,
                          statistics=statistics)


def default_workers() -> int:
    """How many methods a comparison runs at once unless told: the processor cores that
    OpenCV's own threads leave idle, at least one. OpenCV spreads each resize and blur
    over its threads (one per core by default), so more methods at once would only
    oversubscribe the cores: on 2 cores, two methods at once measured 5-20% slower than
    one (`bench/bench_compare.py`). With ``cv2.setNumThreads(1)`` a comparison runs one
    method per core instead."""
    import cv2

    return max(1, (os.cpu_count() or 1) // max(1, cv2.getNumThreads()))


def estimate_memory(
    image_shape: Sequence[int], dtype: np.dtype | type, settings: ComparisonSettings, *, workers: int | None = None,
    shown: bool = False,
) -> int:
    """Bytes a comparison of an image of ``image_shape`` (``(H, W)`` or ``(H, W, C)``)
    and ``dtype`` with ``settings`` needs at its peak: the image and its inputs, every
    result it keeps (with difference maps when ``settings.diff_kind`` keeps them), and
    the working memory of ``workers`` steps running at once (a viewer's pool threads;
    default `default_workers`, as `core.Comparison`).
    ``shown`` adds what a viewer keeps per result (display copies, coloured difference
    maps). Comparisons running side by side in separate processes (``--jobs``) each
    need this much: `check_memory` gives each its share.

    The settings are assumed valid (see `core.Comparison`); the figure is an upper
    bound for the methods Upscope ships, which round in place or work in bands.
    """
    return memory_breakdown(image_shape, dtype, settings, workers=workers, shown=shown).total


def available_memory() -> int | None:
    """Bytes the machine can give without swapping (Linux: ``MemAvailable`` of
    ``/proc/meminfo``); None where that is unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(
    image_shape: Sequence[int],
    dtype: np.dtype | type,
    settings: ComparisonSettings,
    *,
    workers: int | None = None,
    shown: bool = False,
    held: int = 0,
    budget: int | None = None,
    jobs: int = 1,
) -> MemoryEstimate:
    """Refuse a comparison that will not fit: raise `NotEnoughMemoryError` when
    `estimate_memory` less ``held`` (bytes already in memory, such as the loaded image)
    is over its share of ``budget``. ``budget`` defaults to `available_memory` now (no
    check where that is unknown); ``jobs`` comparisons running side by side, each in its
    own process, share it equally (measure it before they start, and pass ``held=0``).
    Returns the estimate otherwise."""
    if jobs < 1:
        raise ParameterError(f"jobs must be at least 1; got {jobs!r}")
    estimate = memory_breakdown(image_shape, dtype, settings, workers=workers, shown=shown)
    if budget is None:
        budget = available_memory()
    needed = estimate.total - held
    if budget is not None and needed > budget // jobs:
        raise NotEnoughMemoryError(_refusal(image_shape, settings, estimate, needed, budget, jobs))
    return estimate


def _refusal(image_shape: Sequence[int], settings: ComparisonSettings, estimate: MemoryEstimate, needed: int,
             budget: int, jobs: int) -> str:
    count = len(settings.method_choices())
    scale = parse_scale(settings.scale)
    what = "upscaling" if settings.mode == "upscale" else "degrading and restoring"
    changes = [f"fewer methods (each result takes {_gb(estimate.results / max(count, 1))})"]
    if settings.mode == "upscale":
        changes.append("a smaller scale")
    else:
        changes.append("a crop of the image")
    if settings.diff_kind is not None and (settings.mode == "degrade" or settings.reference is not None):
        changes.append("no difference maps")
    available = f"{_gb(budget)} is available"
    if jobs > 1:
        changes.append("fewer jobs at once")
        available = f"the {_gb(budget)} available is shared by {jobs} jobs at once ({_gb(budget // jobs)} each)"
    return (
        f"{what} {size_text(int(image_shape[0]), int(image_shape[1]))} by x{_scale(scale)} with {count} "
        f"method{'s' if count != 1 else ''} needs about {_gb(needed)} of memory, and {available}; to fit, use "
        + ", ".join(changes[:-1]) + f" or {changes[-1]}"
    )


def _gb(count: float) -> str:
    return f"{count / 1e9:.1f} GB" if count >= 1e8 else f"{count / 1e6:.0f} MB"


def _scale(scale: tuple[float, float]) -> str:
    return number_text(scale[0]) if scale[0] == scale[1] else f"{number_text(scale[0])},{number_text(scale[1])}"
