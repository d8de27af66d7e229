"""The comparison pipeline: one image, many methods, one result at a time.

A `Comparison` is built from an image and `ComparisonSettings`; building it prepares the
inputs (in degrade mode: crop and shrink the original). Iterating it runs one method per
step and yields a `MethodResult`, so a caller can show results as they come and stop (or
call `Comparison.cancel` from another thread, which the long steps see between their
bands, tiles and phases).
"""

from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Hashable, Iterator, Mapping

import numpy as np

from core.backends.base import (
    Backend,
    BackendError,
    Placed,
    cpu_backend,
    place,
    resolve_backend,
)
from core.backends.run import run_on_cpu
from core.common.arrays import as_hwc, parse_scale, scaled_size, size_text
from core.common.cancel import Cancelled, cancel_scope
from core.common.errors import ParameterError, UnsupportedScaleError, UpscopeError
from core.common.limits import limits
from core.common.vocabulary import Convention, DiffKind, Mode
from core.comparison import memory as _memory
from core.methods.downsamplers import (
    crop_to_multiple,
    downsample,
    get_downsampler,
    unpool_extras,
)
from core.methods.naming import method_title
from core.methods.registry import MethodSpec, get_method, is_whole, list_methods
from core.metrics.measures import Metrics


@dataclass(frozen=True)
class MethodChoice:
    """A method id and the parameters to run it with (defaults for those not given)."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)


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
        How `MethodResult.difference` is computed (see `core.difference`); None skips
        it (a viewer that computes maps only when shown saves their memory).
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


@dataclass(frozen=True)
class MethodResult:
    """One method's outcome. ``image`` is None when ``reason`` says why it could not run.

    ``job_id`` is the id of the comparison that made it, so a caller can drop stale
    results. ``metrics`` and ``difference`` are None when there is no reference, or the
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
    difference: np.ndarray | None = None
    reason: str | None = None
    note: str | None = None
    backend: str = "cpu"
    backend_notice: str | None = None

    @property
    def ok(self) -> bool:
        return self.image is not None


def check_settings(settings: ComparisonSettings, image_shape: tuple[int, ...] | None = None) -> tuple[float, float]:
    """Check ``settings`` (method and reference ids, scale, mode, downsampler, backend);
    returns the ``(y, x)`` scale. Raises `ParameterError` naming the bad value.

    With ``image_shape`` (``(H, W)`` or ``(H, W, C)``) it also checks, before anything
    is allocated, that the comparison's results and every method's own result (a
    transposed convolution with its own kernel and padding) fit
    ``core.limits.max_output_pixels`` (see `check_output_sizes`)."""
    for choice in settings.method_choices():
        get_method(choice.id)
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
    if settings.mode not in ("upscale", "degrade"):
        raise ParameterError(f"mode must be 'upscale' or 'degrade'; got {settings.mode!r}")
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


class Comparison:
    """A prepared comparison; iterate it to run the methods one by one.

    Attributes set on construction: ``original`` (the image as given), ``ground_truth``
    (degrade mode: the original cropped to a multiple of the scale; upscale mode: None),
    ``input`` (what the methods upsample), ``output_size``, ``notes`` (sentences a viewer
    shows, e.g. that the original was cropped), ``backend`` (the `Backend` it computes on;
    methods that backend lacks run on the CPU and their results say so).
    """

    def __init__(
        self,
        image: np.ndarray,
        settings: ComparisonSettings,
        *,
        job_id: Hashable = 0,
        cancel: threading.Event | None = None,
        workers: int = 1,
        shown: bool = False,
        check_memory: bool = True,
        memory_budget: int | None = None,
        jobs: int = 1,
    ) -> None:
        """Check ``settings`` against ``image`` (every output within
        ``core.limits.max_output_pixels``; the memory it needs within what the machine
        has) and prepare the inputs; raises `ParameterError` naming what to change.

        ``cancel``: a flag that `cancel` sets (give your own to cancel the preparation
        too). ``workers``: how many of its methods run at once (a viewer's pool
        threads), ``shown``: whether a viewer keeps display copies and difference maps
        of each result; both count in the memory estimate (`core.estimate_memory`).
        ``memory_budget``: the bytes available to ``jobs`` comparisons running side by
        side in separate processes (measured before they started; each may use its
        equal share); None compares what this one needs beyond the image with what the
        machine has available now. ``check_memory=False`` skips that check.
        """
        as_hwc(image)
        self.settings = settings
        self.job_id = job_id
        self.original = image
        self.notes: list[str] = []
        self._cancelled = cancel if cancel is not None else threading.Event()
        self._reference_lock = threading.Lock()
        self._reference_result: MethodResult | None = None
        self._choices = settings.method_choices()
        self.scale = check_settings(settings, image.shape)
        if check_memory:
            held = 0 if memory_budget is not None else image.nbytes
            _memory.check_memory(image.shape, image.dtype, settings, workers=workers, shown=shown, held=held,
                                 budget=memory_budget, jobs=jobs)
        self._extras: dict[str, Any] = {}
        self.backend: Backend = resolve_backend(settings.backend)
        self._device_lock = threading.Lock()
        self._device_input: Placed | None = None
        self._device_reference: Placed | None = None
        self._handles: dict[int, Placed] = {}  # id(result image) -> its handle, until measured
        self._prefetched: dict[int, tuple[Any, float]] = {}
        if settings.mode == "degrade":
            self.ground_truth: np.ndarray | None = crop_to_multiple(image, self.scale)
            self.output_size = self.ground_truth.shape[:2]
            with cancel_scope(self._cancelled):
                self.input, self._extras = self._downsample(image)
            if self.ground_truth.shape[:2] != image.shape[:2]:
                self.notes.append(
                    f"The original was cropped from {size_text(*image.shape[:2])} to "
                    f"{size_text(*self.output_size)}, a multiple of the scale."
                )
            label = get_downsampler(settings.downsampler).label
            self.notes.append(f"Input: {size_text(*self.input.shape[:2])}, made with {label}.")
        else:  # "upscale" (check_settings refused anything else)
            self.input = image
            self.ground_truth = None
            self.output_size = scaled_size(image.shape[:2], self.scale)
        self.shave = paper_shave(self.scale) if settings.convention == "paper" else 0

    def derived(
        self,
        settings: ComparisonSettings,
        *,
        job_id: Hashable,
        reference_result: MethodResult | None = None,
        cancel: threading.Event | None = None,
    ) -> Comparison:
        """A comparison of the same inputs with other ``settings`` that differ from this
        one's only in the methods, the reference or the metric convention: nothing is
        downsampled again, and the results of this comparison stay valid for every
        method and parameters both share (`measure` them with the new one when the
        reference or convention changed). ``reference_result`` is this comparison's
        result of the new reference method, when there is one, so it is not computed
        again. ``cancel`` is the new comparison's cancel flag (see `Comparison`).
        Raises `ParameterError` when anything else changed."""
        old = self.settings
        if (settings.mode, settings.scale, settings.downsampler, settings.backend) != (
            old.mode, old.scale, old.downsampler, old.backend
        ):
            raise ParameterError("a derived comparison keeps the mode, scale, downsampler and backend")
        check_settings(settings, self.original.shape)
        other = copy.copy(self)
        other.settings, other.job_id = settings, job_id
        other._choices = settings.method_choices()
        other.notes = list(self.notes)
        other._cancelled = cancel if cancel is not None else threading.Event()
        other._reference_lock = threading.Lock()
        other._device_lock = threading.Lock()
        other._handles, other._prefetched = {}, {}
        if settings.reference != old.reference:
            other._device_reference = None
            usable = (
                reference_result is not None and reference_result.ok
                and reference_result.method_id == settings.reference and not reference_result.params
            )
            other._reference_result = replace(reference_result, metrics=None, difference=None) if usable else None
        other.shave = paper_shave(self.scale) if settings.convention == "paper" else 0
        return other

    def cancel(self) -> None:
        """Stop as soon as the step now running reaches its next band, tile or phase
        (safe to call from any thread): `run` then returns a result whose ``reason``
        says it was cancelled, and iteration ends."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def choices(self) -> tuple[MethodChoice, ...]:
        """The methods this comparison runs, in display order."""
        return self._choices

    @property
    def reference(self) -> np.ndarray | None:
        """The image metrics compare against: the ground truth, a method's result, or None.

        A method reference is computed on first use, once, whichever thread asks first.
        """
        if self.settings.reference is None:
            return self.ground_truth
        with self._reference_lock:
            if self._reference_result is None:
                with cancel_scope(self._cancelled):
                    self._reference_result = self._run(MethodChoice(self.settings.reference), reference=None)
                if not self._reference_result.ok:
                    self.notes.append(f"No reference: {self._reference_result.reason}")
        return self._reference_result.image

    def run(self, choice: MethodChoice | str, *, measure: bool = True) -> MethodResult:
        """Run one method and (unless ``measure`` is False) measure it against the
        reference.

        Safe to call from several threads at once (one method each), which is how a
        viewer streams results; a method that cannot run returns a result whose
        ``reason`` says why. With ``measure=False`` the result comes back as soon as the
        image exists, and `measure` adds metrics and the difference map later.
        """
        if isinstance(choice, str):
            choice = MethodChoice(choice)
        with cancel_scope(self._cancelled):
            reference = self.reference
            cached = self._reference_result
            if cached is not None and choice.id == cached.method_id and not choice.params:
                return self._measured(cached, reference) if measure else cached
            return self._run(choice, reference if measure else None)

    def measure(self, result: MethodResult) -> MethodResult:
        """``result`` with its metrics and difference map against this comparison's
        reference (unchanged when there is no reference or the sizes differ, or when
        the comparison is cancelled meanwhile)."""
        with cancel_scope(self._cancelled):
            return self._measured(result, self.reference)

    def __iter__(self) -> Iterator[MethodResult]:
        if self.backend.batches:
            self._prefetch()
        for index, choice in enumerate(self._choices):
            if self._cancelled.is_set():
                return
            prefetched = self._prefetched.pop(index, None)
            if prefetched is None:
                result = self.run(choice)
            else:
                with cancel_scope(self._cancelled):
                    result = self._run(choice, self.reference, prefetched)
            if self._cancelled.is_set():
                return  # cut short: not a result
            yield result

    def _downsample(self, image: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """The low-resolution input and the downsampler's extras. A backend that has the
        downsampler shrinks the ground truth on the device, so the original crosses once
        and both stay there."""
        backend, spec_id = self.backend, self.settings.downsampler
        whole = all(is_whole(s) for s in self.scale)
        if spec_id in backend.downsamplers and whole:
            factors = (round(self.scale[0]), round(self.scale[1]))

            def on_device(device: Backend) -> tuple[Any, Any, dict[str, Any]]:
                truth = device.put(as_hwc(self.ground_truth))
                low, extras = device.downsample(truth, spec_id, factors)
                return truth, low, extras

            placed = place(backend, f"the {spec_id} downsampler", on_device, lambda: None)
            if placed.backend is backend:
                truth, low, extras = placed.handle
                self._device_reference = Placed(truth, backend)
                self._device_input = Placed(low, backend)
                return self._host_image(self._device_input), unpool_extras(extras, image.ndim, self.output_size)
            if placed.notice:
                self.notes.append(placed.notice)
        return downsample(image, self.scale, spec_id)

    def _input_on(self, backend: Backend) -> Any:
        """The input as a handle of ``backend`` (moved there once per comparison)."""
        if backend.name == "cpu":
            return as_hwc(self.input)
        with self._device_lock:
            if self._device_input is None:
                self._device_input = Placed(backend.put(as_hwc(self.input)), backend)
            return self._device_input.handle

    def _reference_on(self, backend: Backend, reference: np.ndarray) -> Any:
        """The reference as a handle of ``backend`` (moved there once, or kept from the
        reference method's result)."""
        if backend.name == "cpu":
            return as_hwc(reference)
        with self._device_lock:
            if self._device_reference is None:
                kept = self._reference_result and self._handles.get(id(self._reference_result.image))
                if kept and kept.backend is backend:
                    self._device_reference = kept
                else:
                    self._device_reference = Placed(backend.put(as_hwc(reference)), backend)
            return self._device_reference.handle

    def _prefetch(self) -> None:
        """Queue every method the backend can run in one batch (a GPU kept busy)."""
        backend = self.backend
        steps, where = [], []
        for index, choice in enumerate(self._choices):
            spec = get_method(choice.id)
            try:
                size, params = self._size_for(spec), self._params(spec, choice)
            except UpscopeError:
                continue
            if backend.refusal(spec.id, as_hwc(self.input).shape, self.input.dtype, size, params) is None:
                steps.append((spec.id, size, params))
                where.append(index)
        if not steps:
            return
        placed = place(backend, "a batch of methods", lambda device: device.batch(self._input_on(device), steps),
                       lambda: None)
        if placed.backend is backend:
            self._prefetched = dict(zip(where, placed.handle))

    def _params(self, spec: MethodSpec, choice: MethodChoice) -> dict[str, Any]:
        params = dict(choice.params)
        # Parameters a person does not set (max-unpool's recorded maxima) come from the
        # downsampler when it recorded them.
        params.update({p.name: self._extras[p.name] for p in spec.params if not p.user and p.name in self._extras})
        return spec.resolve_params(params)

    def _run(self, choice: MethodChoice, reference: np.ndarray | None, prefetched: tuple[Any, float] | None = None) -> MethodResult:
        spec = get_method(choice.id)
        note = None
        if spec.id == "max-unpool" and "indices" not in self._extras and "indices" not in choice.params:
            note = "No recorded maxima: each value is placed at its window's top-left ('bed of nails')."
        base = dict(job_id=self.job_id, method_id=spec.id, label=spec.label, params=dict(choice.params))
        try:
            size, params = self._size_for(spec), self._params(spec, choice)
            start = time.perf_counter()
            placed = self._compute(spec, size, params, prefetched)
            image = self._host_image(placed)
            seconds = time.perf_counter() - start
            if prefetched is not None and placed.backend is self.backend:
                seconds += prefetched[1]
        except UpscopeError as exc:
            return MethodResult(**base, image=None, reason=str(exc))
        if placed.why and self.backend.name != "cpu":
            note = _join(note, f"Ran on the CPU: {placed.why}.")
        result = MethodResult(**base, image=image, seconds=seconds, note=note, backend=placed.backend.name,
                              backend_notice=placed.notice)
        if self.settings.reference is not None or self.ground_truth is not None:
            with self._device_lock:  # kept for `measure`, which finds it on the device
                self._handles[id(image)] = placed
        return self._measured(result, reference)

    def _compute(self, spec: MethodSpec, size: tuple[int, int], params: dict[str, Any],
                 prefetched: tuple[Any, float] | None) -> Placed:
        hwc = as_hwc(self.input)

        def on_device(device: Backend) -> Any:
            if prefetched is not None:
                if isinstance(prefetched[0], Exception):
                    raise prefetched[0]
                return prefetched[0]
            reason = device.refusal(spec.id, hwc.shape, hwc.dtype, size, params)
            if reason:
                raise BackendError(reason)
            return device.resample(self._input_on(device), spec.id, size, params)

        return place(self.backend, spec.label, on_device, lambda: run_on_cpu(hwc, spec.id, size, params))

    def _host_image(self, placed: Placed) -> np.ndarray:
        """The host image of a computed handle, in the original's channel layout."""
        image = placed.backend.get(placed.handle)
        return image[:, :, 0] if self.original.ndim == 2 else image

    def _size_for(self, spec: MethodSpec) -> tuple[int, int]:
        reason = spec.refusal(self.scale)
        if reason:
            raise UnsupportedScaleError(reason)
        return self.output_size

    def _measured(self, result: MethodResult, reference: np.ndarray | None) -> MethodResult:
        if reference is None or result.image is None:
            return result
        if result.image.shape != reference.shape:
            note = (
                f"Output is {size_text(*result.image.shape[:2])}, the reference "
                f"{size_text(*reference.shape[:2])}: no metrics or difference."
            )
            return replace(result, note=_join(result.note, note))
        with self._device_lock:
            kept = self._handles.get(id(result.image))
            if self._reference_result is None or result.image is not self._reference_result.image:
                self._handles.pop(id(result.image), None)
        backend = kept.backend if kept is not None else cpu_backend()
        settings = self.settings
        kind = settings.diff_kind

        def measure(device: Backend) -> tuple[Metrics, np.ndarray | None]:
            test = kept.handle if kept is not None and device is backend else (
                as_hwc(result.image) if device.name == "cpu" else device.put(as_hwc(result.image))
            )
            ref = self._reference_on(device, reference)
            metrics = device.metrics(ref, test, convention=settings.convention, shave=self.shave)
            diff = None if kind is None else device.difference(ref, test, kind=kind, per_channel=settings.diff_per_channel)
            if diff is not None and diff.ndim == 3 and result.image.ndim == 2:
                diff = diff[:, :, 0]
            return metrics, diff

        try:
            placed = place(backend, "metrics", measure, lambda: measure(cpu_backend()))
        except Cancelled:
            return result
        metrics, diff = placed.handle
        notice = result.backend_notice or placed.notice
        return replace(result, metrics=metrics, difference=diff, backend_notice=notice)


def compare(
    image: np.ndarray, settings: ComparisonSettings | None = None, *, job_id: Hashable = 0
) -> Iterator[MethodResult]:
    """Run a comparison and yield one `MethodResult` per method, in the settings' order.

    Shorthand for ``iter(Comparison(image, settings, job_id=job_id))``; build the
    `Comparison` yourself to read its ground truth, input and notes, or to cancel it.
    Bad settings raise `ParameterError` before anything runs; a method that cannot take
    them yields a result whose ``reason`` says why.
    """
    return iter(Comparison(image, settings or ComparisonSettings(), job_id=job_id))


def _scale_text(scale: tuple[float, float]) -> str:
    """``"100"`` for a scale the same on both axes, else ``"4,100"`` (y,x as typed)."""
    return f"{scale[0]:g}" if scale[0] == scale[1] else f"{scale[0]:g},{scale[1]:g}"


def _join(*parts: str | None) -> str | None:
    text = " ".join(p for p in parts if p)
    return text or None

