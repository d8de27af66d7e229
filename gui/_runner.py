"""Runs comparisons off the GUI thread, one pool task per method, newest job wins.

Worker tasks call only `core`. What they make reaches the main thread one way: each task
calls one of the runner's delivery methods, marked `_on_main_thread`, which runs there
(posted through the one `_Relay`), checks once that the payload belongs to the current
job (or load request) and emits the runner's public signal. So a late result of an old
image or old settings is never shown, and each payload is delivered once.

superqt's ``ensure_main_thread`` would do the posting, but with PySide6 6.11 it crashes
the process (segmentation fault) or stalls within a few thousand calls from pool threads:
it creates a QObject per call in the worker and may drop the last reference to it there.

Difference maps are made by `core.Comparison.difference` (on the comparison's backend)
and coloured by `core.colorize_difference`. A map follows the display options current
when it is delivered: one of another kind is dropped and made anew, one of another gain
only coloured again from its values.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import shiboken6
from PySide6 import QtCore

import core
from core import Comparison, ComparisonSettings, MethodChoice, MethodResult, UpscopeError

from ._shown_comparison import DiffOptions, DiffPayload, PreparedJob

log = logging.getLogger(__name__)

#: How a person raises the input limit in the window (named in the too-large message).
LIMIT_HINT = "raise the limit under File > Largest image to open"
#: How long closing the window waits for comparison work and loads to stop after they
#: are cancelled; what still runs then is abandoned (`ComparisonRunner.shutdown`).
CLOSE_WAIT_MS = 1000
#: How long closing the window waits for one-off tasks (an export being written, the
#: Compute menu's probe importing PyTorch): an export the user asked for is finished.
TASK_CLOSE_WAIT_MS = 30_000


@dataclass(frozen=True)
class ResultPayload:
    """One method's result with its 8-bit picture, and its difference map when asked.

    A method with a reference arrives twice: first its image (``measured`` False), then
    the same image with its metrics (``measured`` True).
    """

    job_id: int
    result: MethodResult
    display: np.ndarray | None
    diff: DiffPayload | None
    measured: bool = True


@dataclass(frozen=True)
class LoadedImage:
    request_id: int
    path: str
    image: np.ndarray


def make_difference(comparison: Comparison, result: MethodResult, options: DiffOptions) -> DiffPayload | None:
    """The difference map a panel shows of ``result``: `Comparison.difference` averaged
    over channels, coloured with ``options``; None when there is none (no reference, or
    the sizes differ). Runs in a worker."""
    values = comparison.difference(result, kind=options.kind, per_channel=False)
    if values is None or result.image is None:
        return None
    return colour_difference(values, result.image.dtype, options)


def colour_difference(values: np.ndarray, dtype: np.dtype, options: DiffOptions) -> DiffPayload:
    """The picture of unscaled map ``values`` (of images of ``dtype``) with ``options``;
    the values are kept as they are, never computed again."""
    return DiffPayload(values, core.colorize_difference(values, options.kind, dtype, gain=options.gain), options)



class _Relay(QtCore.QObject):
    """Runs callables on the main thread, in the order they were posted: the one way
    worker tasks hand anything over. Made once, on the main thread, and never deleted: a
    task that outlives its window still posts into a live object."""

    posted = QtCore.Signal(object)  # a callable to run on the main thread

    def __init__(self) -> None:
        super().__init__()
        #: The thread the relay lives in, and runs what is posted in.
        self.thread_ident = threading.get_ident()
        self.posted.connect(self._run)  # queued: emitted by worker threads, received here

    @staticmethod
    def _run(call: Callable[[], None]) -> None:
        call()


_RELAY: _Relay | None = None


def _relay() -> _Relay:
    """The relay, made by the first runner (on the main thread)."""
    global _RELAY
    if _RELAY is None:
        _RELAY = _Relay()
    return _RELAY


def _on_main_thread(deliver: Callable[..., None]) -> Callable[..., None]:
    """Make a runner's delivery method run on the main thread, whichever thread calls it
    (from the main thread it runs at once). A worker task can outlive its window: once the
    runner is deleted, nothing is delivered."""

    @functools.wraps(deliver)
    def post(runner: ComparisonRunner, *args: Any) -> None:
        def call() -> None:
            if shiboken6.isValid(runner):
                deliver(runner, *args)

        relay = _relay()
        if threading.get_ident() == relay.thread_ident:
            call()
        else:
            relay.posted.emit(call)

    return post


class ComparisonRunner(QtCore.QObject):
    """Owns the thread pools and the job now running. Main thread API; signals arrive on
    the main thread."""

    prepared = QtCore.Signal(object)  # PreparedJob of the current job
    result_ready = QtCore.Signal(object)  # ResultPayload of the current job
    diff_ready = QtCore.Signal(str, object)  # panel key (MethodResult.choice_key), DiffPayload (current job and display options)
    failed = QtCore.Signal(int, str)  # job id (the current one), message: the job could not go on
    loaded = QtCore.Signal(object)  # LoadedImage of the latest load request
    level_ready = QtCore.Signal(str, object, object, object)  # panel key, source array, core.DisplayWindow, reduced array
    load_checked = QtCore.Signal(object, object, bool)  # good paths, [(path, message)], whether the request is the latest
    task_done = QtCore.Signal(int, object)  # task id, what the task returned
    task_failed = QtCore.Signal(int, str)  # task id, the error's message
    method_progress = QtCore.Signal(str, int, int)  # method id, pieces done, pieces in all (a model's tiles)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        _relay()  # made here, on the main thread, before any task can post
        self.pool = QtCore.QThreadPool(self)
        # One core stays free for the GUI thread: with every core busy in a worker the
        # scheduler leaves the event loop waiting for tens of milliseconds at a time.
        self.pool.setMaxThreadCount(max(QtCore.QThread.idealThreadCount() - 1, 1))
        self._task_ids = itertools.count(1)
        # Exports run in their own pool: a new image or new settings clear the main pool's
        # queue, and must not drop an export the user asked for.
        self.task_pool = QtCore.QThreadPool(self)
        self.task_pool.setMaxThreadCount(1)
        # Reading files is not comparison work either: a new setting must not drop a
        # file the user dropped (cancel() clears the main pool's queue, never this one).
        self.load_pool = QtCore.QThreadPool(self)
        self.load_pool.setMaxThreadCount(1)
        # The analysis views' work (spectra, profiles, region metrics) is not the
        # comparison's: a comparison is complete (and can be exported) while it runs.
        self.analysis_pool = QtCore.QThreadPool(self)
        self.analysis_pool.setMaxThreadCount(1)
        #: Images over this many pixels are refused when read (see `core.load_image`).
        self.max_input_pixels = core.limits.max_input_pixels
        self._ids = itertools.count(1)
        self.job_id = 0
        self._load_request = 0
        self._cancel = threading.Event()
        self._comparison: Comparison | None = None
        self._job_name = ""
        # The display options now: read by workers when they make a map, and checked on
        # the main thread when a map is delivered.
        self._diff_options: DiffOptions | None = None
        # Results (and their displays) a derived job keeps, until it is prepared, and
        # whether they must be measured again.
        self._reusing: dict[int, tuple[dict[str, MethodResult], dict[str, np.ndarray], bool]] = {}
        # Zoomed-out copies, per panel key: the latest request, the one in the pool, and
        # the one waiting for it (a newer request replaces it). Workers read
        # _levels_latest to skip a request that was overtaken before it started.
        self._level_ids = itertools.count(1)
        self._levels_latest: dict[str, int] = {}
        self._levels_running: dict[str, int] = {}
        self._levels_waiting: dict[str, tuple[int, np.ndarray, core.DisplayWindow]] = {}

    # Comparisons ----------------------------------------------------------------------

    def start(
        self, image: np.ndarray, settings: ComparisonSettings, diff: DiffOptions | None, *, name: str = "", key: str = ""
    ) -> int:
        """Cancel the job in flight and start comparing ``image`` (called ``name``, listed
        under ``key``), making maps with ``diff``; returns the new job id."""
        job_id, cancel = self._new_job(diff, name)
        # The viewer asks for the maps it shows itself (`make_differences`).
        settings = replace(settings, diff_kind=None)
        self._submit(lambda: self._prepare(job_id, cancel, image, settings, name, key), what=name)
        return job_id

    def derive(
        self,
        job: PreparedJob,
        reused: Sequence[MethodResult],
        displays: Mapping[str, np.ndarray],
        settings: ComparisonSettings,
        diff: DiffOptions | None,
    ) -> int:
        """Start a job on ``job``'s inputs with ``settings`` that differ from its own only
        in the methods, the reference or the metric convention. The ``reused`` results
        (methods whose parameters did not change) are not computed again: they arrive at
        once with their ``displays``, measured again only when the reference or the
        convention changed; the other methods run as in `start`. Returns the new job id."""
        job_id, cancel = self._new_job(diff, job.image_name)
        old = job.comparison.settings
        remeasure = (old.reference, old.convention) != (settings.reference, settings.convention)
        self._reusing[job_id] = ({r.choice_key: r for r in reused}, dict(displays), remeasure)
        previous = job.comparison
        reference_result = next((r for r in reused if r.method_id == settings.reference and not r.params), None)

        def prepare() -> None:
            try:
                comparison = previous.derived(settings, job_id=job_id, reference_result=reference_result, cancel=cancel,
                                              progress=functools.partial(self._on_progress, job_id))
                _ = comparison.reference  # a method reference is computed here, off the GUI thread
            except UpscopeError as exc:
                self._on_failed(job_id, _about(job.image_name, str(exc)))
                return
            if not cancel.is_set():
                self._on_prepared(replace(job, job_id=job_id, comparison=comparison))

        self._submit(prepare, what=job.image_name)
        return job_id

    def _new_job(self, diff: DiffOptions | None, name: str) -> tuple[int, threading.Event]:
        """Cancel the job in flight and make a new one current: its id and cancel flag."""
        self.cancel()
        self.job_id = next(self._ids)
        self._cancel = threading.Event()
        self._comparison = None
        self._diff_options = diff
        self._job_name = name
        return self.job_id, self._cancel

    def cancel(self) -> None:
        """Stop the current job: queued tasks are dropped, running ones stop after their
        method, and anything they still deliver is ignored."""
        self._cancel.set()
        if self._comparison is not None:
            self._comparison.cancel()
        self.pool.clear()
        self.analysis_pool.clear()
        self._levels_latest.clear()
        self._levels_running.clear()
        self._levels_waiting.clear()

    def shutdown(self, timeout_ms: int = CLOSE_WAIT_MS, task_timeout_ms: int = TASK_CLOSE_WAIT_MS) -> bool:
        """Cancel the comparison (`Comparison.cancel`, which long steps check), drop all
        comparison work and loads, and wait at most ``timeout_ms`` for running comparison
        and load tasks, and ``task_timeout_ms`` for one-off tasks (exports); True when
        nothing is left running. What still runs afterwards can deliver nothing (its job
        is cancelled) and touches no deleted Qt object; a process about to exit need not
        wait for it (see `gui.run_viewer`)."""
        self.cancel()
        self._load_request += 1
        self.load_pool.clear()
        deadline = time.monotonic() + timeout_ms / 1000
        tasks_done = self.task_pool.waitForDone(task_timeout_ms)
        left_ms = max(int((deadline - time.monotonic()) * 1000), 0)
        done = self.pool.waitForDone(left_ms)
        left_ms = max(int((deadline - time.monotonic()) * 1000), 0)
        analysed = self.analysis_pool.waitForDone(left_ms)
        left_ms = max(int((deadline - time.monotonic()) * 1000), 0)
        return self.load_pool.waitForDone(left_ms) and done and tasks_done and analysed

    @property
    def busy(self) -> bool:
        """Whether a comparison task (a method, a map, a zoomed-out copy) is running."""
        return self.pool.activeThreadCount() > 0

    @property
    def idle(self) -> bool:
        """Whether no task of any pool is running."""
        return all(p.activeThreadCount() == 0 for p in (self.pool, self.task_pool, self.load_pool, self.analysis_pool))

    def _submit(
        self, fn: Callable[[], None], pool: QtCore.QThreadPool | None = None, priority: int = 0, *, what: str = ""
    ) -> None:
        """Run ``fn`` in ``pool`` (default: the comparison pool) at ``priority``. An
        exception it lets out is a bug: it is logged and reported through `failed`
        against the job current at submission, naming ``what`` (the image it was about)
        when given."""
        job_id = self.job_id

        def guarded() -> None:
            try:
                fn()
            except MemoryError as exc:
                self._on_failed(job_id, _about(what, f"not enough memory ({exc or 'MemoryError'})"))
            except Exception as exc:  # a bug must not kill the pool thread silently
                log.exception("worker task failed")
                self._on_failed(job_id, _about(what, f"Internal error: {type(exc).__name__}: {exc}"))

        (pool or self.pool).start(guarded, priority)

    def _prepare(
        self, job_id: int, cancel: threading.Event, image: np.ndarray, settings: ComparisonSettings, name: str, key: str
    ) -> None:
        try:
            # Its methods run on every pool thread at once, and the window keeps display
            # copies and difference maps: all counted in the memory it checks for.
            comparison = Comparison(image, settings, job_id=job_id, cancel=cancel,
                                    workers=self.pool.maxThreadCount(), shown=True,
                                    progress=functools.partial(self._on_progress, job_id))
            reference = comparison.ground_truth if comparison.ground_truth is not None else comparison.input
            label = "Ground truth" if comparison.ground_truth is not None else "Original"
            _ = comparison.reference  # a method reference is computed once, here, off the GUI thread
            display = core.to_display(reference)
        except UpscopeError as exc:
            self._on_failed(job_id, _about(name, str(exc)))
            return
        if not cancel.is_set():
            self._on_prepared(PreparedJob(job_id, comparison, label, reference, display, name, key))

    def _run_method(self, job_id: int, comparison: Comparison, cancel: threading.Event, choice: MethodChoice) -> None:
        if cancel.is_set():
            return
        # The image first (a panel can show it at once), then its metrics.
        result = comparison.run(choice, measure=False)
        if cancel.is_set():
            return
        display = core.to_display(result.image) if result.image is not None else None
        if comparison.reference is None or not result.ok:
            self._on_result(ResultPayload(job_id, result, display, None, measured=True))
            return
        self._on_result(ResultPayload(job_id, result, display, None, measured=False))
        self._measure(job_id, comparison, cancel, result, display)

    def _measure(
        self, job_id: int, comparison: Comparison, cancel: threading.Event, result: MethodResult,
        display: np.ndarray | None,
    ) -> None:
        """Measure ``result``, make its difference map with the display options of now
        (when maps are shown) and deliver both."""
        if cancel.is_set():
            return
        options = self._diff_options
        measured = comparison.measure(result)
        if cancel.is_set():
            return
        # The table's checkerboard column, and its FLIP column while FLIP maps are shown.
        measured = comparison.analyse(measured, flip=options is not None and options.kind == "flip")
        if cancel.is_set():
            return
        diff = self._difference(comparison, cancel, measured, options, job_id) if options is not None else None
        self._on_result(ResultPayload(job_id, measured, display, diff, measured=True))

    def _difference(
        self, comparison: Comparison, cancel: threading.Event, result: MethodResult, options: DiffOptions,
        job_id: int,
    ) -> DiffPayload | None:
        """`make_difference`, or None when the comparison was cancelled meanwhile or the
        map cannot be made of these images (an SSIM map of images under 11x11 pixels): that
        reason is reported through `failed`, naming the method, and the panel keeps its image."""
        try:
            return make_difference(comparison, result, options)
        except UpscopeError as exc:
            if not cancel.is_set():
                self._on_failed(job_id, f"{result.label}: no {options.kind} map: {exc}")
            return None

    # Deliveries (main thread) -------------------------------------------------------------

    @_on_main_thread
    def _on_prepared(self, job: PreparedJob) -> None:
        if job.job_id != self.job_id:
            return
        self._comparison = job.comparison
        self.prepared.emit(job)
        cancel, name = self._cancel, job.image_name
        reused, displays, remeasure = self._reusing.pop(job.job_id, ({}, {}, False))
        for choice in job.comparison.choices:
            result = reused.get(choice.key)
            if result is None:
                self._submit(functools.partial(self._run_method, job.job_id, job.comparison, cancel, choice), what=name)
                continue
            display = displays.get(result.choice_key)
            if not remeasure or not result.ok:
                # Delivered as a worker's result is: its map is asked for when maps are shown.
                self._on_result(ResultPayload(job.job_id, replace(result, job_id=job.job_id), display, None))
                continue
            unmeasured = replace(result, job_id=job.job_id, metrics=None)
            self._on_result(ResultPayload(job.job_id, unmeasured, display, None, measured=False))
            self._submit(functools.partial(self._measure, job.job_id, job.comparison, cancel, unmeasured, display), what=name)

    @_on_main_thread
    def _on_progress(self, job_id: int, method_id: str, done: int, total: int) -> None:
        """Pass on how far a method of the current job is (a model file's tiles)."""
        if job_id == self.job_id:
            self.method_progress.emit(method_id, done, total)

    @_on_main_thread
    def _on_result(self, payload: ResultPayload) -> None:
        """Pass on a result of the current job. A map of another kind than the one shown
        now (maps turned on, off, or to another kind while it was measured) is dropped,
        and one of the kind shown is asked for; a map of another gain is coloured again.
        Either arrives through `diff_ready`."""
        if payload.job_id != self.job_id:
            return
        if payload.measured and payload.result.ok:
            wanted, diff = self._diff_options, payload.diff
            if diff is not None and diff.options != wanted:
                payload = replace(payload, diff=None)
                if wanted is not None and diff.options.kind == wanted.kind:
                    self._recolour_one(payload.result.choice_key, diff.values, wanted)
            if wanted is not None and (diff is None or diff.options.kind != wanted.kind):
                self.make_differences([payload.result], wanted)
        self.result_ready.emit(payload)

    @_on_main_thread
    def _on_diff(self, job_id: int, key: str, payload: DiffPayload) -> None:
        """Pass on a map of the current job drawn with the options of now; colour one of
        the right kind but another gain again; drop one of another kind."""
        wanted = self._diff_options
        if job_id != self.job_id or wanted is None or payload.options.kind != wanted.kind:
            return
        if payload.options != wanted:
            self._recolour_one(key, payload.values, wanted)
            return
        self.diff_ready.emit(key, payload)

    @_on_main_thread
    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id == self.job_id:
            self.failed.emit(job_id, message)

    # Difference maps of results already shown -----------------------------------------

    def set_diff_options(self, options: DiffOptions | None) -> None:
        """Maps are shown with ``options`` from now on (None: not shown). Maps on their
        way are delivered only as these options draw them."""
        self._diff_options = options

    def make_differences(self, results: Sequence[MethodResult], options: DiffOptions) -> None:
        """Make the maps of ``results`` (of the current job) with ``options``, each in a
        pool task (`make_difference`); each arrives through `diff_ready`."""
        comparison, cancel = self._comparison, self._cancel
        if comparison is None or comparison.reference is None:
            return
        job_id = self.job_id
        for result in results:
            if result.ok:
                def work(r: MethodResult = result) -> None:
                    diff = self._difference(comparison, cancel, r, options, job_id)
                    if diff is not None and not cancel.is_set():
                        self._on_diff(job_id, r.choice_key, diff)

                self._submit(work, what=self._job_name)

    def recolour(self, maps: Mapping[str, np.ndarray], options: DiffOptions) -> None:
        """Colour the unscaled map values ``maps`` (of the current job's results, by
        method id) with ``options`` again, without computing any difference; each arrives
        through `diff_ready`."""
        for key, values in maps.items():
            self._recolour_one(key, values, options)

    def _recolour_one(self, key: str, values: np.ndarray, options: DiffOptions) -> None:
        comparison = self._comparison
        reference = comparison.reference if comparison is not None else None
        if reference is None:
            return
        job_id, dtype = self.job_id, reference.dtype
        self._submit(lambda: self._on_diff(job_id, key, colour_difference(values, dtype, options)),
                     priority=1, what=self._job_name)

    # Analysis of the job on screen (spectra, profiles, region metrics) -------------------

    def run_for_job(self, work: Callable[[Comparison], object], deliver: Callable[[object], None]) -> None:
        """Run ``work(comparison)`` for the current job in the analysis pool (one thread
        beside the comparison's); ``deliver(value)`` then runs on the main thread with
        what it returned, unless another job became current meanwhile (a new image or
        new settings drop it unstarted or undelivered). ``work`` calls only `core`; what
        it raises is reported as a failure of the job (`failed`)."""
        comparison, cancel = self._comparison, self._cancel
        if comparison is None:
            return
        job_id = self.job_id

        def task() -> None:
            if cancel.is_set():
                return
            value = work(comparison)
            if not cancel.is_set():
                self._on_job_value(job_id, deliver, value)

        self._submit(task, self.analysis_pool, what=self._job_name)

    @_on_main_thread
    def _on_job_value(self, job_id: int, deliver: Callable[[object], None], value: object) -> None:
        if job_id == self.job_id:
            deliver(value)

    # One-off tasks (exports) ----------------------------------------------------------

    def run_task(self, work: Callable[[], object]) -> int:
        """Run ``work`` in the task pool, whatever job is current; its return value
        arrives through `task_done`. Whatever it raises ends the task through
        `task_failed` with a one-line reason: an `UpscopeError`'s message, the system's
        reason for an `OSError` (a name too long, a read-only folder), "not enough
        memory", or the type and text of any other exception (also logged). Returns the
        task id both signals carry."""
        task_id = next(self._task_ids)

        def task() -> None:
            try:
                value = work()
            except UpscopeError as exc:
                self._on_task_failed(task_id, str(exc))
            except MemoryError:
                self._on_task_failed(task_id, "not enough memory")
            except OSError as exc:
                log.warning("task %d failed: %s", task_id, exc)
                self._on_task_failed(task_id, exc.strerror or f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # a bug, but the task must still end with a message
                log.exception("task %d failed", task_id)
                self._on_task_failed(task_id, f"{type(exc).__name__}: {exc}")
            else:
                self._on_task_done(task_id, value)

        self._submit(task, self.task_pool)
        return task_id

    @_on_main_thread
    def _on_task_done(self, task_id: int, value: object) -> None:
        self.task_done.emit(task_id, value)

    @_on_main_thread
    def _on_task_failed(self, task_id: int, message: str) -> None:
        self.task_failed.emit(task_id, message)

    # Zoomed-out display copies ---------------------------------------------------------

    def reduce(self, key: str, display: np.ndarray, window: core.DisplayWindow) -> None:
        """Make ``display`` reduced to ``window`` (`core.reduce_for_display`) in the pool,
        ahead of queued comparison work; it arrives through `level_ready` with ``display``
        and ``window`` themselves, so the caller can check that the panel still shows that
        array. Per ``key`` the latest request wins: one is in the pool at a time, a newer
        one waits for it (replacing any waiting already), and one overtaken before it
        started is skipped, so a fast wheel zoom does not flood the pool."""
        request = next(self._level_ids)
        self._levels_latest[key] = request
        if key in self._levels_running:
            self._levels_waiting[key] = (request, display, window)
        else:
            self._start_level(key, request, display, window)

    def _start_level(self, key: str, request: int, display: np.ndarray, window: core.DisplayWindow) -> None:
        job_id = self.job_id
        self._levels_running[key] = request

        def work() -> None:
            level = None
            try:
                if self._levels_latest.get(key) == request:
                    level = core.reduce_for_display(display, window)
            finally:  # even a skipped or failed request must free the key for the next
                self._on_level(job_id, request, key, display, window, level)

        self._submit(work, priority=1)

    @_on_main_thread
    def _on_level(
        self, job_id: int, request: int, key: str, source: np.ndarray, window: core.DisplayWindow, level: np.ndarray | None
    ) -> None:
        if self._levels_running.get(key) == request:
            del self._levels_running[key]
            waiting = self._levels_waiting.pop(key, None)
            if waiting is not None:
                self._start_level(key, *waiting)
        if job_id == self.job_id and level is not None:
            self.level_ready.emit(key, source, window, level)

    # Loading images ---------------------------------------------------------------------

    def load(self, paths: Sequence[str | Path]) -> int:
        """Read ``paths`` in the background: the first readable one of the latest request
        arrives through `loaded`; then `load_checked` lists the readable paths and, for
        the others, why. Every request is checked to the end, so files dropped in quick
        succession all reach the Images list."""
        self._load_request += 1
        request = self._load_request
        names = [str(p) for p in paths]
        self._submit(lambda: self._load(request, names), self.load_pool)
        return request

    def make_chart(self, chart_id: str, size: int = 512) -> int:
        """Draw a built-in chart in the background; it arrives through `loaded` with the
        path ``"chart:<id>"``."""
        self._load_request += 1
        request = self._load_request

        def draw() -> None:
            image = core.make_chart(chart_id, size)
            self._on_loaded(LoadedImage(request, f"chart:{chart_id}", image))

        self._submit(draw, self.load_pool, what=f"chart:{chart_id}")
        return request

    def _load(self, request: int, paths: list[str]) -> None:
        good: list[str] = []
        bad: list[tuple[str, str]] = []
        limit = self.max_input_pixels
        for path in paths:
            try:
                image = core.load_image(path, max_pixels=limit)
            except core.ImageTooLargeError as exc:
                bad.append((path, exc.describe(LIMIT_HINT)))
                continue
            except UpscopeError as exc:
                bad.append((path, str(exc)))
                continue
            except MemoryError:
                bad.append((path, f"{path}: not enough memory to read it"))
                continue
            except Exception as exc:  # a reader's bug names the file, never the image shown
                log.exception("reading %s failed", path)
                bad.append((path, f"{path}: cannot be read ({type(exc).__name__}: {exc})"))
                continue
            if not good:
                self._on_loaded(LoadedImage(request, path, image))
            good.append(path)
            del image
        self._on_load_checked(request, good, bad)

    @_on_main_thread
    def _on_loaded(self, loaded: LoadedImage) -> None:
        if loaded.request_id == self._load_request:
            self.loaded.emit(loaded)

    @_on_main_thread
    def _on_load_checked(self, request: int, good: list[str], bad: list[tuple[str, str]]) -> None:
        self.load_checked.emit(good, bad, request == self._load_request)


def _about(name: str, message: str) -> str:
    """``message`` about the image called ``name``: ``"name: message"`` (just
    ``message`` without a name)."""
    return f"{name}: {message}" if name else message


class LatestTask(QtCore.QObject):
    """One kind of one-off work whose latest request alone counts (a dock's drawing, a
    probe): `run` sends ``work`` to ``runner``'s task pool, and only the latest run's
    value reaches ``on_done`` (or its one-line reason ``on_failed``), on the main thread;
    a run overtaken by a newer one is dropped when it ends."""

    def __init__(
        self,
        runner: ComparisonRunner,
        on_done: Callable[[object], None],
        on_failed: Callable[[str], None],
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self._on_done, self._on_failed = on_done, on_failed
        #: The task id of the latest run (None before the first).
        self.task_id: int | None = None
        runner.task_done.connect(self._done)
        runner.task_failed.connect(self._failed)

    def run(self, work: Callable[[], object]) -> int:
        """Run ``work`` in the task pool, overtaking any run before; returns its task id."""
        self.task_id = self.runner.run_task(work)
        return self.task_id

    def _done(self, task_id: int, value: object) -> None:
        if task_id == self.task_id:
            self._on_done(value)

    def _failed(self, task_id: int, message: str) -> None:
        if task_id == self.task_id:
            self._on_failed(message)
