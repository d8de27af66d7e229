"""What the methods of a comparison start from: in degrade mode the ground truth (the
original cropped to a multiple of a whole-number scale) and the low-resolution input the
downsampler makes of it; in upscale mode the original itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.backends.base import Backend
from core.backends.fallback import place
from core.common.arrays import as_hwc, check_finite_result, scaled_size, size_text
from core.comparison.residency import Residency, Resident
from core.comparison.settings import ComparisonSettings
from core.methods.downsamplers import (
    crop_to_multiple,
    downsample,
    get_downsampler,
    unpool_extras,
)
from core.methods.registry import is_whole


@dataclass
class ComparisonInputs:
    """``ground_truth`` (degrade mode; None in upscale mode), ``input`` (what the methods
    upsample), ``output_size`` ``(h, w)`` of the results, ``extras`` (what the downsampler
    recorded for the methods: max pooling's positions), ``notes`` (sentences for people:
    the crop, how the input was made)."""

    ground_truth: np.ndarray | None
    input: np.ndarray
    output_size: tuple[int, int]
    extras: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def prepare_inputs(
    image: np.ndarray, settings: ComparisonSettings, scale: tuple[float, float], backend: Backend, residency: Residency
) -> ComparisonInputs:
    """The inputs of comparing ``image`` with ``settings`` (already checked) at ``scale``.

    A backend that has the downsampler shrinks the ground truth on the device, so the
    original crosses once and both stay there (in ``residency``)."""
    if settings.mode != "degrade":
        return ComparisonInputs(None, image, scaled_size(image.shape[:2], scale))
    truth = crop_to_multiple(image, scale)
    output_size = (truth.shape[0], truth.shape[1])
    low, extras, notes = _downsampled(image, truth, settings.downsampler, scale, backend, residency)
    if truth.shape[:2] != image.shape[:2]:
        notes.insert(0, f"The original was cropped from {size_text(*image.shape[:2])} to "
                        f"{size_text(*output_size)}, a multiple of the scale.")
    notes.append(f"Input: {size_text(*low.shape[:2])}, made with {get_downsampler(settings.downsampler).label}.")
    return ComparisonInputs(truth, low, output_size, extras, notes)


def _downsampled(
    image: np.ndarray, truth: np.ndarray, spec_id: str, scale: tuple[float, float], backend: Backend,
    residency: Residency,
) -> tuple[np.ndarray, dict[str, Any], list[str]]:
    """The low-resolution input, the downsampler's extras and notes for people."""
    notes: list[str] = []
    if spec_id in backend.downsamplers and all(is_whole(s) for s in scale):
        factors = (round(scale[0]), round(scale[1]))

        def on_device(device: Backend) -> tuple[Any, Any, dict[str, Any]]:
            truth_handle = device.put(as_hwc(truth))
            low_handle, extras = device.downsample(truth_handle, spec_id, factors)
            return truth_handle, low_handle, extras

        placed = place(backend, f"the {spec_id} downsampler", on_device, lambda: None)
        if placed.backend is backend:
            truth_handle, low_handle, extras = placed.value
            residency.set_inputs(Resident(low_handle, backend), Resident(truth_handle, backend))
            low = check_finite_result(backend.get(low_handle), truth, get_downsampler(spec_id).label)
            low = low[:, :, 0] if image.ndim == 2 else low
            return low, unpool_extras(extras, image.ndim, (truth.shape[0], truth.shape[1])), notes
        if placed.notice:
            notes.append(placed.notice)
    low, extras = downsample(image, scale, spec_id)
    return low, extras, notes
