"""What a comparison compares and how: `ComparisonSettings` and their checks, done before
anything is computed (ids, scale and its limit, mode, downsampler, backend, and with an
image the output sizes against `core.limits.max_output_pixels`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.backends.base import BackendError
from core.backends.choice import resolve_backend
from core.common.arrays import number_text, parse_scale, scaled_size, size_text
from core.common.errors import ParameterError, UpscopeError
from core.common.limits import limits
from core.common.vocabulary import Convention, DiffKind, Mode, check_mode
from core.comparison import memory as _memory
from core.methods.downsamplers import get_downsampler
from core.methods.naming import choice_key, method_title
from core.methods.registry import get_method, is_whole, list_methods


@dataclass(frozen=True)
class MethodChoice:
    """A method id and the parameters to run it with (defaults for those not given)."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """This choice's name in its comparison (`core.choice_key`): ``"bicubic[a=-0.5]"``."""
        return choice_key(self.id, self.params)


#: The methods a comparison runs when none are named (the command line, the window on its
#: first start, `ComparisonSettings()`): one of each distinct behaviour. Left out: nearest-
#: exact and repeat (equal to nearest at whole-number scales), the NumPy bilinear (a slow
#: teaching copy of bilinear) and the learned models (x2, x3 and x4 only).
DEFAULT_METHOD_IDS = frozenset({
    "nearest", "bilinear", "bilinear-aligned", "bicubic", "lanczos4", "area",
    "avg-unpool", "max-unpool", "transposed-conv",
})


def default_methods() -> tuple[MethodChoice, ...]:
    """The default methods (`DEFAULT_METHOD_IDS`) in registry order, with their default
    parameters."""
    return tuple(MethodChoice(spec.id) for spec in list_methods() if spec.id in DEFAULT_METHOD_IDS)


@dataclass(frozen=True)
class ComparisonSettings:
    """What to compare and how.

    Attributes
    ----------
    mode:
        ``"upscale"``: upsample the image as it is. ``"degrade"``: shrink it by ``scale``
        with ``downsampler``, upsample it back and measure against the original (cropped
        to a multiple of a whole-number scale).
    scale:
        A number or a ``(y, x)`` pair, from 1 to ``core.limits.max_scale`` (16).
    methods:
        `MethodChoice` items or plain ids, in display order; default `default_methods`.
    reference:
        A method id whose result is the reference for metrics and difference maps, or
        None: the original in degrade mode, nothing (no metrics) in upscale mode.
    convention:
        ``"all"`` channels or ``"paper"`` (luma, border of ``ceil(scale)`` shaved).
    diff_kind, diff_per_channel:
        The difference map `MethodResult.difference` gives when it is read (see
        `Comparison.difference`); None: no map. Nothing is computed until it is read.
    backend:
        ``"cpu"``, ``"opencl"``, ``"torch"`` or ``"auto"``; None uses the session's
        backend (see `core.set_backend`).
    """

    mode: Mode = "degrade"
    scale: float | tuple[float, float] = 4.0
    downsampler: str = "bicubic-aa"
    methods: tuple[MethodChoice | str, ...] = field(default_factory=default_methods)
    reference: str | None = None
    convention: Convention = "all"
    diff_kind: DiffKind | None = "abs"
    diff_per_channel: bool = False
    backend: str | None = None

    def method_choices(self) -> tuple[MethodChoice, ...]:
        return tuple(m if isinstance(m, MethodChoice) else MethodChoice(m) for m in self.methods)


def check_settings(settings: ComparisonSettings, image_shape: tuple[int, ...] | None = None) -> tuple[float, float]:
    """Check ``settings`` (method and reference ids, scale, mode, downsampler, backend);
    returns the ``(y, x)`` scale. Raises `ParameterError` naming the bad value.

    With ``image_shape`` (``(H, W)`` or ``(H, W, C)``) it also checks, before anything
    is allocated, that the comparison's results and every method's own result (a
    transposed convolution with its own kernel and padding) fit
    ``core.limits.max_output_pixels`` (see `check_output_sizes`)."""
    seen: set[str] = set()
    for choice in settings.method_choices():
        get_method(choice.id)
        if choice.key in seen:
            raise ParameterError(f"the methods name {choice.key} twice with the same parameters; give each run "
                                 "of a method other parameters, or leave one out")
        seen.add(choice.key)
    if settings.reference is not None:
        get_method(settings.reference)
    scale = parse_scale(settings.scale)
    if min(scale) < 1:
        raise ParameterError(f"scale must be at least 1 to compare upsamplers; got {settings.scale!r}")
    if max(scale) > limits.max_scale:
        raise ParameterError(
            f"scale {_scale_text(scale)} is over the limit of {limits.max_scale:g} for comparisons "
            "(core.limits.max_scale)"
        )
    check_mode(settings.mode)
    if settings.mode == "degrade":
        get_downsampler(settings.downsampler)
    try:
        resolve_backend(settings.backend)
    except BackendError as exc:
        raise ParameterError(f"backend {settings.backend!r} cannot run here: {exc}") from None
    if image_shape is not None:
        check_output_sizes(image_shape, settings, scale)
    return scale


def check_output_sizes(image_shape: tuple[int, ...], settings: ComparisonSettings, scale: tuple[float, float]) -> tuple[int, int]:
    """Refuse a comparison whose results, or one method's own result, would have more
    than ``core.limits.max_output_pixels``; the message names the size, the limit and
    what to change. Returns the results' ``(h, w)``. A method that cannot run with these
    settings for another reason is left to say so when it runs."""
    height, width = int(image_shape[0]), int(image_shape[1])
    size = _memory.planned_output_size((height, width), settings.mode, scale)
    if size[0] * size[1] > limits.max_output_pixels:
        if settings.mode == "upscale":
            largest = _largest_fitting_scale((height, width), scale)
            ratio = scale[1] / scale[0]
            fitting = (f"a scale of at most {largest:g}" if ratio == 1
                       else f"scales of at most {largest:g},{largest * ratio:.3g} (y,x)")
            change = f"choose {fitting} for this image, or a crop of it" if largest >= 1 else "choose a smaller image"
            what = f"upscaling {size_text(height, width)} by x{_scale_text(scale)} gives"
        else:
            change, what = "choose a crop of the image", "the results would be"
        raise ParameterError(f"{what} {_pixels_text(size)}, over the limit of "
                             f"{limits.max_output_pixels:,} output pixels (core.limits.max_output_pixels); {change}")
    if settings.mode == "degrade":
        whole = all(is_whole(s) for s in scale)
        in_size = ((size[0] // round(scale[0]), size[1] // round(scale[1])) if whole
                   else scaled_size((height, width), (1 / scale[0], 1 / scale[1])))
    else:
        in_size = (height, width)
    for choice in settings.method_choices():
        spec = get_method(choice.id)
        if spec.size_rule is None or spec.refusal(scale) or min(in_size) < 1:
            continue
        try:
            own = spec.result_size(in_size, size, spec.resolve_params(dict(choice.params)))
        except UpscopeError:
            continue  # bad parameters: the method's result says why when it runs
        if own[0] * own[1] > limits.max_output_pixels:
            raise ParameterError(
                f"{method_title(spec.id, choice.params)} would return {_pixels_text(own)}, over the limit of "
                f"{limits.max_output_pixels:,} output pixels (core.limits.max_output_pixels); choose a smaller scale or "
                "other parameters for it"
            )
    return size


def _largest_fitting_scale(in_size: tuple[int, int], scale: tuple[float, float]) -> float:
    """The largest scale with two decimals, applied to both axes in ``scale``'s
    proportions, whose output fits the output limit (less than 1 when none does)."""
    ratio = scale[1] / scale[0]
    best = math.floor(100 * math.sqrt(limits.max_output_pixels / (in_size[0] * in_size[1] * ratio))) / 100
    while best >= 0.01:
        h, w = scaled_size(in_size, (best, best * ratio))
        if h * w <= limits.max_output_pixels:
            break
        best = round(best - 0.01, 2)
    return best


def _pixels_text(size: tuple[int, int]) -> str:
    return f"{size_text(*size)} = {size[0] * size[1]:,} pixels"


def paper_shave(scale: tuple[float, float]) -> int:
    """Border the paper convention shaves off: ``ceil`` of the larger scale, in pixels."""
    return math.ceil(max(scale))


def _scale_text(scale: tuple[float, float]) -> str:
    """``"100"`` for a scale the same on both axes, else ``"4,100"`` (y,x as typed)."""
    return number_text(scale[0]) if scale[0] == scale[1] else f"{number_text(scale[0])},{number_text(scale[1])}"
