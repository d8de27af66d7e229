"""The comparison pipeline: one image, many methods, one result at a time.

A `Comparison` is built from an image and `ComparisonSettings`; building it prepares the
inputs (in degrade mode: crop and shrink the original). Iterating it runs one method per
step and yields a `MethodResult`, so a caller can show results as they come and stop (or
call `Comparison.cancel` from another thread, which the long steps see between their
bands, tiles and phases).
"""

from __future__ import annotations

import copy
import functools
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np

from core.backends.base import Backend, BackendError
from core.backends.choice import resolve_backend
from core.backends.cpu import cpu_backend
from core.backends.fallback import Placed, place
from core.backends.run import run_on_cpu
from core.common.arrays import as_hwc, check_finite_result, size_text
from core.common.cancel import CancelledError, cancel_scope
from core.common.errors import ParameterError, UnsupportedScaleError, UpscopeError
from core.common.progress import progress_scope
from core.common.region import Region
from core.common.vocabulary import MEASURE_MAP_KINDS, Convention, DiffKind
from core.comparison import memory as _memory
from core.comparison.inputs import prepare_inputs
from core.comparison.residency import Residency, Resident
from core.comparison.results import MethodResult
from core.comparison.settings import (
    ComparisonSettings,
    MethodChoice,
    check_settings,
    paper_shave,
)
from core.methods.explain import PixelExplanation, explain_pixel
from core.methods.registry import MethodSpec, get_method
from core.metrics.difference import difference
from core.metrics.flip import flip_available, flip_map
from core.metrics.measures import Metrics, PreparedReference, compute_metrics
from core.metrics.spectrum import checkerboard_score, grid_share


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
        workers: int | None = None,
        shown: bool = False,
        check_memory: bool = True,
        memory_budget: int | None = None,
        jobs: int = 1,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        """Check ``settings`` against ``image`` (every output within
        ``core.limits.max_output_pixels``; the memory it needs within what the machine
        has) and prepare the inputs; raises `ParameterError` naming what to change.

        ``cancel``: a flag that `cancel` sets (give your own to cancel the preparation
        too). ``workers``: how many of its methods run at once (a viewer's pool
        threads, or iterating it; default `core.comparison.memory.default_workers`),
        ``shown``: whether a viewer keeps display copies and difference maps
        of each result; both count in the memory estimate (`core.estimate_memory`).
        ``memory_budget``: the bytes available to ``jobs`` comparisons running side by
        side in separate processes (measured before they started; each may use its
        equal share); None compares what this one needs beyond the image with what the
        machine has available now. ``check_memory=False`` skips that check.
        ``progress(method_id, done, total)``: called from the worker running a method
        that reports its pieces (a model file's tiles), as each one is finished.
        """
        as_hwc(image)
        self.settings = settings
        self.job_id = job_id
        self.original = image
        self._cancelled = cancel if cancel is not None else threading.Event()
        self._reference_lock = threading.Lock()
        self._reference_result: MethodResult | None = None
        self._choices = settings.method_choices()
        self.scale = check_settings(settings, image.shape)
        self.workers = max(1, workers if workers is not None else _memory.default_workers())
        workers = self.workers
        if check_memory:
            held = 0 if memory_budget is not None else image.nbytes
            _memory.check_memory(image.shape, image.dtype, settings, workers=workers, shown=shown, held=held,
                                 budget=memory_budget, jobs=jobs)
        self.backend: Backend = resolve_backend(settings.backend)
        self._residency = Residency()
        # The reference's SSIM statistics, kept from one method's measurement to the next.
        self._prepared: PreparedReference | None = None
        self._prepared_lock = threading.Lock()
        self._prefetched: dict[int, tuple[Any, float]] = {}
        self._progress = progress
        self._grid_share: float | None = None
        self._grid_share_lock = threading.Lock()
        with cancel_scope(self._cancelled):
            inputs = prepare_inputs(image, settings, self.scale, self.backend, self._residency)
        self.ground_truth = inputs.ground_truth
        self.input = inputs.input
        self.output_size = inputs.output_size
        self.notes = inputs.notes
        self._extras = inputs.extras
        self.shave = paper_shave(self.scale) if settings.convention == "paper" else 0

    def derived(
        self,
        settings: ComparisonSettings,
        *,
        job_id: Hashable,
        reference_result: MethodResult | None = None,
        cancel: threading.Event | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> Comparison:
        """A comparison of the same inputs with other ``settings`` that differ from this
        one's only in the methods, the reference or the metric convention: nothing is
        downsampled again, and the results of this comparison stay valid for every
        method and parameters both share (`measure` them with the new one when the
        reference or convention changed). ``reference_result`` is this comparison's
        result of the new reference method, when there is one, so it is not computed
        again. ``cancel`` is the new comparison's cancel flag and ``progress`` its
        listener (see `Comparison`; a listener of this one is not carried over, as it
        may tell its own job apart). Raises `ParameterError` when anything else changed."""
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
        other._prefetched = {}
        other._progress = progress
        other._grid_share, other._grid_share_lock = None, threading.Lock()  # the reference may be another
        same_reference = settings.reference == old.reference
        other._residency = self._residency.copy(keep_reference=same_reference)
        if not same_reference:
            usable = (
                reference_result is not None and reference_result.ok
                and reference_result.method_id == settings.reference and not reference_result.params
            )
            other._reference_result = (
                replace(reference_result, metrics=None) if usable and reference_result is not None else None
            )
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
        image exists, and `measure` adds the metrics later.
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
        """``result`` with its metrics against this comparison's reference (unchanged
        when there is no reference or the sizes differ, or when the comparison is
        cancelled meanwhile)."""
        with cancel_scope(self._cancelled):
            return self._measured(result, self.reference)

    def analyse(self, result: MethodResult, *, flip: bool = False) -> MethodResult:
        """``result`` with its analysis: the checkerboard score (the energy at the
        frequencies of this comparison's upsampling grid beyond the reference's, in
        percent; docs/METHODS.md#checkerboard) and, with ``flip``, the mean FLIP against
        the reference (docs/METHODS.md#flip; needs ``flip-evaluator``, about 3 s per
        2048x2048 result). Made when a table, a figure or a file asks for it, not as part
        of every comparison: at 2048x2048 the score costs about 80 ms a method. A result
        that did not run comes back as it is; FLIP stays None without a reference of the
        result's size or without the package."""
        if result.image is None:
            return result
        reference = self.reference
        same = reference is not None and reference.shape == result.image.shape
        with cancel_scope(self._cancelled):
            score = result.checkerboard
            if score is None:
                share = self._reference_grid_share() if same else None
                score = checkerboard_score(result.image, self.scale, reference_share=share)
            mean_flip = result.flip
            if flip and mean_flip is None and same and reference is not None and flip_available():
                mean_flip = flip_map(reference, result.image)[1]
        return replace(result, checkerboard=score, flip=mean_flip)

    def explain(self, result: MethodResult, y: int, x: int) -> PixelExplanation:
        """How pixel ``(y, x)`` of ``result`` was made from this comparison's input:
        `core.explain_pixel` with the output size, parameters and recorded maxima the method
        ran with (docs/METHODS.md#explain). Raises `ParameterError` for a pixel outside the
        output and `UnsupportedScaleError` for a method that could not take the scale."""
        spec = get_method(result.method_id)
        params = self._params(spec, MethodChoice(result.method_id, result.params))
        return explain_pixel(self.input, spec.id, y, x, size=self._size_for(spec), **params)

    def _reference_grid_share(self) -> float | None:
        """The reference's energy share at the grid's frequencies, made once for every
        result's checkerboard score (one spectrum less per result)."""
        with self._grid_share_lock:
            if self._grid_share is None and self.reference is not None:
                self._grid_share = grid_share(self.reference, self.scale)
            return self._grid_share

    def measure_region(self, result: MethodResult, region: Region, *, convention: Convention | None = None) -> MethodResult:
        """``result`` measured on ``region`` of the output only (clipped to the image):
        its metrics against the same rectangle of the reference, by the comparison's
        convention (luma in the paper convention; no border is shaved from a region),
        its checkerboard score, and its FLIP where the whole result has one. The result
        comes back with ``region`` set and the crop as ``image``; one that did not run,
        or has no reference of its size, comes back as it is with ``region`` set."""
        reference = self.reference
        if result.image is None or reference is None or reference.shape != result.image.shape:
            return replace(result, region=region, metrics=None, checkerboard=None, flip=None)
        inside = region.within(result.image.shape, "region")
        ref, tst = inside.take(reference), inside.take(result.image)
        with cancel_scope(self._cancelled):
            metrics = compute_metrics(ref, tst, convention=convention or self.settings.convention, shave=0)
            score = checkerboard_score(tst, self.scale, ref)
            mean_flip = flip_map(ref, tst)[1] if result.flip is not None and flip_available() else None
        return replace(result, image=tst, region=inside, metrics=metrics, checkerboard=score, flip=mean_flip)

    def difference(
        self, result: MethodResult, *, kind: DiffKind = "abs", per_channel: bool = False, crop: Region | None = None
    ) -> np.ndarray | None:
        """The difference map of ``result`` against this comparison's reference: the one
        place every map a viewer, a figure or a file shows is made (`core.difference` on
        the comparison's backend; docs/METHODS.md#difference). ``crop`` takes a region of
        both first (a figure's crop costs no whole-image map). Float32 in the images'
        units, ``(H, W)`` when averaged over channels; None when there is no reference,
        the result did not run, or their sizes differ."""
        reference = self.reference
        if reference is None or result.image is None or result.image.shape != reference.shape:
            return None
        test = result.image
        if crop is not None:
            reference, test = crop.take(reference), crop.take(test)

        def on_device(device: Backend) -> np.ndarray:
            ref = device.put(as_hwc(reference))
            return device.difference(ref, device.put(as_hwc(test)), kind=kind, per_channel=per_channel)

        def on_cpu() -> np.ndarray:
            return difference(reference, test, kind=kind, per_channel=per_channel)

        with cancel_scope(self._cancelled):
            if self.backend.name == "cpu" or crop is not None or kind in MEASURE_MAP_KINDS:
                values = on_cpu()  # a crop is small: the bus would cost more than the arithmetic
            else:
                values = place(self.backend, "a difference map", on_device, on_cpu).value
        if per_channel and values.ndim == 3 and result.image.ndim == 2:
            values = values[:, :, 0]
        return values

    def __iter__(self) -> Iterator[MethodResult]:
        """The results in the settings' order. On the CPU, ``workers`` methods run (and
        are measured) at once, OpenCV and NumPy releasing the GIL in their kernels; a
        device backend runs them in one queue instead."""
        if self.backend.batches:
            self._prefetch()
        if self.workers > 1 and len(self._choices) > 1 and self.backend.name == "cpu":
            yield from self._in_parallel(min(self.workers, len(self._choices)))
            return
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

    def _in_parallel(self, workers: int) -> Iterator[MethodResult]:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="upscope-method") as pool:
            futures = [pool.submit(self.run, choice) for choice in self._choices]
            try:
                for future in futures:
                    result = future.result()
                    if self._cancelled.is_set():
                        return  # cut short: not a result
                    yield result
            finally:
                for future in futures:  # an iteration abandoned early starts nothing more
                    future.cancel()

    def _input_on(self, backend: Backend) -> Any:
        """The input as a handle of ``backend`` (moved there once per comparison)."""
        if backend.name == "cpu":
            return as_hwc(self.input)
        return self._residency.input_on(backend, lambda: backend.put(as_hwc(self.input)))

    def _reference_on(self, backend: Backend, reference: np.ndarray) -> Any:
        """The reference as a handle of ``backend`` (moved there once, or kept from the
        reference method's result)."""
        if backend.name == "cpu":
            with self._prepared_lock:
                if self._prepared is None or self._prepared.image is not reference:
                    self._prepared = PreparedReference(reference)
                return self._prepared
        method = self._reference_result.key if self._reference_result is not None else None
        return self._residency.reference_on(backend, lambda: backend.put(as_hwc(reference)), method)

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
            self._prefetched = dict(zip(where, placed.value, strict=True))

    def _params(self, spec: MethodSpec, choice: MethodChoice) -> dict[str, Any]:
        params = dict(choice.params)
        # Parameters a person does not set (max-unpool's recorded maxima) come from the
        # downsampler when it recorded them.
        params.update({p.name: self._extras[p.name] for p in spec.params if not p.user and p.name in self._extras})
        return spec.resolve_params(params)

    def _run(
        self, choice: MethodChoice, reference: np.ndarray | None, prefetched: tuple[Any, float] | None = None
    ) -> MethodResult:
        spec = get_method(choice.id)
        note = None
        if spec.id == "max-unpool" and "indices" not in self._extras and "indices" not in choice.params:
            note = "No recorded maxima: each value is placed at its window's top-left ('bed of nails')."
        base = MethodResult(
            job_id=self.job_id,
            method_id=spec.id,
            label=spec.label,
            params=dict(choice.params),
            image=None,
            difference_of=self._settings_difference,
        )
        try:
            size, params = self._size_for(spec), self._params(spec, choice)
            start = time.perf_counter()
            placed = self._compute(spec, size, params, prefetched)
            image = check_finite_result(self._host_image(placed.backend, placed.value), self.input, spec.label)
            seconds = time.perf_counter() - start
            if prefetched is not None and placed.backend is self.backend:
                seconds += prefetched[1]
        except UpscopeError as exc:
            return replace(base, reason=str(exc))
        if placed.why and self.backend.name != "cpu":
            note = _join(note, f"Ran on the CPU: {placed.why}.")
        result = replace(
            base, image=image, seconds=seconds, note=note, backend=placed.backend.name, backend_notice=placed.notice
        )
        if placed.backend.name != "cpu" and (self.settings.reference is not None or self.ground_truth is not None):
            self._residency.keep(result.key, Resident(placed.value, placed.backend))  # for `measure`, on the device
        return self._measured(result, reference)

    def _compute(
        self, spec: MethodSpec, size: tuple[int, int], params: dict[str, Any], prefetched: tuple[Any, float] | None
    ) -> Placed:
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

        listener = None if self._progress is None else functools.partial(self._progress, spec.id)
        with progress_scope(listener):
            return place(self.backend, spec.label, on_device, lambda: run_on_cpu(hwc, spec.id, size, params))

    def _host_image(self, backend: Backend, handle: Any) -> np.ndarray:
        """The host image of a computed handle, in the original's channel layout."""
        image = backend.get(handle)
        return image[:, :, 0] if self.original.ndim == 2 else image

    def _size_for(self, spec: MethodSpec) -> tuple[int, int]:
        reason = spec.refusal(self.scale)
        if reason:
            raise UnsupportedScaleError(reason)
        return self.output_size

    def _settings_difference(self, result: MethodResult) -> np.ndarray | None:
        """`MethodResult.difference`: the map the settings name, made when it is read."""
        kind = self.settings.diff_kind
        if kind is None:
            return None
        return self.difference(result, kind=kind, per_channel=self.settings.diff_per_channel)

    def _measured(self, result: MethodResult, reference: np.ndarray | None) -> MethodResult:
        if reference is None or result.image is None:
            return result
        if result.image.shape != reference.shape:
            note = (
                f"Output is {size_text(*result.image.shape[:2])}, the reference "
                f"{size_text(*reference.shape[:2])}: no metrics or difference."
            )
            return replace(result, note=_join(result.note, note))
        is_reference = self._reference_result is not None and result.image is self._reference_result.image
        kept = self._residency.result(result.key, release=not is_reference)
        backend = kept.backend if kept is not None else cpu_backend()
        settings = self.settings

        def measure(device: Backend) -> Metrics:
            test = (
                kept.handle
                if kept is not None and device is backend
                else (as_hwc(result.image) if device.name == "cpu" else device.put(as_hwc(result.image)))
            )
            ref = self._reference_on(device, reference)
            return device.metrics(ref, test, convention=settings.convention, shave=self.shave)

        try:
            placed = place(backend, "metrics", measure, lambda: measure(cpu_backend()))
        except CancelledError:
            return result
        except ParameterError as exc:  # too small for the convention's border: the image stands, unmeasured
            return replace(result, note=_join(result.note, f"No metrics: {exc}."))
        notice = result.backend_notice or placed.notice
        return replace(result, metrics=placed.value, backend_notice=notice)


def compare(image: np.ndarray, settings: ComparisonSettings | None = None, *, job_id: Hashable = 0) -> Iterator[MethodResult]:
    """Run a comparison and yield one `MethodResult` per method, in the settings' order.

    Shorthand for ``iter(Comparison(image, settings, job_id=job_id))``; build the
    `Comparison` yourself to read its ground truth, input and notes, or to cancel it.
    Bad settings raise `ParameterError` before anything runs; a method that cannot take
    them yields a result whose ``reason`` says why.
    """
    return iter(Comparison(image, settings or ComparisonSettings(), job_id=job_id))


def _join(*parts: str | None) -> str | None:
    text = " ".join(p for p in parts if p)
    return text or None
