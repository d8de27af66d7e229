"""Evaluating methods over datasets, locally: every image of each dataset, every scale,
every method, degraded then restored and measured, the rows stored as each image's
scale finishes (docs/METHODS.md#evaluation).

A unit of work is one image at one scale (all its missing methods): the image is read
once, degraded once, and the methods share it. Units run in worker processes
(`core.report.workers.run_in_processes`: spawned, OpenCV at one thread each, a killed
worker costs only its unit); the rows come back to this process, which alone writes the
store. Running the same evaluation again computes only what the store lacks.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.common.errors import ParameterError, UpscopeError
from core.common.vocabulary import Convention
from core.comparison.comparison import Comparison
from core.comparison.settings import ComparisonSettings, MethodChoice
from core.methods.naming import method_title
from core.methods.registry import MethodSource
from core.report.evaluation.datasets import Dataset, DatasetImage, open_dataset, with_bytes
from core.report.evaluation.store import Store
from core.report.evaluation.summary import not_measured, write_tables
from core.report.table import metric_values
from core.report.workers import run_in_processes

#: The methods an evaluation compares unless told: the interpolation baselines papers print
#: and the shipped learned upsamplers (x2, x3 and x4 only).
EVALUATION_METHODS = ("nearest", "bilinear", "bicubic", "lanczos4", "area", "espcn", "fsrcnn")


@dataclass(frozen=True)
class EvaluationSettings:
    """What an evaluation measures: the ``scales``, the ``methods`` (ids or
    `MethodChoice`; default `EVALUATION_METHODS`), the ``downsampler`` that degrades each image, and the metric
    ``convention`` ("paper": luma, a border of the scale shaved, as super-resolution papers
    report; "all": every channel)."""

    scales: tuple[float, ...] = (2.0, 3.0, 4.0)
    methods: tuple[str | MethodChoice, ...] = EVALUATION_METHODS
    downsampler: str = "bicubic-aa"
    convention: Convention = "paper"

    def __post_init__(self) -> None:
        # A notebook's EvaluationSettings(scales=2, methods="bicubic") means one of each.
        scales = (self.scales,) if isinstance(self.scales, (int, float)) else self.scales
        methods = (self.methods,) if isinstance(self.methods, (str, MethodChoice)) else self.methods
        try:
            object.__setattr__(self, "scales", tuple(float(s) for s in scales))
        except (TypeError, ValueError):
            raise ParameterError(f"scales: {self.scales!r} is not a list of numbers") from None
        object.__setattr__(self, "methods", tuple(methods))

    def choices(self) -> tuple[MethodChoice, ...]:
        return tuple(m if isinstance(m, MethodChoice) else MethodChoice(m) for m in self.methods)

    def fingerprint(self) -> dict[str, Any]:
        """What fixes every number of a row (the store refuses rows of other settings); a
        model file counts by its SHA-256."""
        from core.methods.registry import get_method

        files = {}
        for choice in self.choices():
            source = get_method(choice.id).source
            if source is not None:
                files[choice.key] = source.sha256
        return {"methods": [c.key for c in self.choices()], "downsampler": self.downsampler,
                "convention": self.convention, "upscope": upscope_version(), "files": files}


@dataclass(frozen=True)
class Unit:
    """One unit of work: an image at a scale, and the methods it still lacks."""

    image: DatasetImage
    sha256: str
    scale: float
    methods: tuple[MethodChoice, ...]
    settings: EvaluationSettings
    #: The model files among the methods: (id, label, source), for a worker to load them.
    models: tuple[tuple[str, str, MethodSource], ...] = ()


@dataclass
class EvaluationReport:
    """What a run did: rows computed now and found stored, units that failed (with why),
    entries skipped (not images), what could not be measured (with why), the files
    written and the seconds it took."""

    computed: int = 0
    stored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: What the tables have no numbers for, and why (`summary.not_measured`): rows with a reason.
    not_measured: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    written: list[Path] = field(default_factory=list)


Progress = Callable[[int, int, int], None]  # units done, units in all, rows done


def plan_units(datasets: Sequence[Dataset], settings: EvaluationSettings, store: Store) -> tuple[list[Unit], int]:
    """The units the store lacks, and how many rows it holds already for these datasets."""
    units, stored = [], 0
    choices = settings.choices()
    models = model_sources(choices)
    for dataset in datasets:
        for image in dataset.images:
            sha = image.sha256()
            done = store.done(dataset.name, image.name, sha)
            for scale in settings.scales:
                missing = tuple(c for c in choices if (float(scale), c.key) not in done)
                stored += len(choices) - len(missing)
                if missing:
                    units.append(Unit(image, sha, float(scale), missing, settings, models))
    return units, stored


#: The methods this process has run once already (`_warm_up`).
_WARMED: set[str] = set()


def _warm_up(methods: Sequence[MethodChoice], settings: ComparisonSettings) -> None:
    """Run each method not run before in this process once on a small image, untimed: a
    first call pays for loading a model and for libraries' lazy set-up (tens of
    milliseconds), which would otherwise land in the first image's time."""
    cold = tuple(c for c in methods if c.key not in _WARMED)
    if not cold:
        return
    probe = np.linspace(0, 255, 48 * 48 * 3).reshape(48, 48, 3).astype(np.uint8)
    with contextlib.suppress(UpscopeError):
        for _result in Comparison(probe, replace(settings, methods=cold), workers=1):
            pass
    _WARMED.update(c.key for c in cold)


def evaluate_unit(unit: Unit) -> list[dict[str, Any]]:
    """The rows of one unit: each method's metrics (or why it has none) and time, each
    method run once untimed first in this process. Runs in a worker process."""
    register_models(unit.models)
    image = unit.image
    base = {"dataset": image.dataset, "image": image.name, "scale": unit.scale, "image_sha256": unit.sha256,
            "source": image.source}
    settings = ComparisonSettings(mode="degrade", scale=unit.scale, methods=unit.methods,
                                  downsampler=unit.settings.downsampler, convention=unit.settings.convention)
    _warm_up(unit.methods, settings)
    try:
        comparison = Comparison(image.read(), settings, workers=1)
    except UpscopeError as exc:  # an image too small for this scale, say: a row per method with why
        return [{**base, "method": c.key, "label": method_title(c.id, c.params), "params": dict(c.params),
                 "reason": str(exc)} for c in unit.methods]
    rows = []
    for result in comparison:
        reason = result.reason
        if reason is None and result.ok and result.metrics is None:  # made, but not measurable (a note says why)
            reason = result.note or "not measured"
        values = metric_values(comparison.analyse(result))
        height, width = (None, None) if result.image is None else result.image.shape[:2]
        rows.append({**base, "method": result.choice_key, "label": method_title(result.method_id, result.params),
                     "params": dict(result.params), **{k: values.get(k) for k in
                                                       ("psnr", "ssim", "mae", "max_error", "checkerboard", "time_ms")},
                     "width": width, "height": height, "reason": reason})
    return rows


def model_sources(choices: Sequence[MethodChoice]) -> tuple[tuple[str, str, MethodSource], ...]:
    """The model files among ``choices``: what a worker needs to load each under its id."""
    from core.methods.registry import get_method

    found = []
    for choice in choices:
        spec = get_method(choice.id)
        if spec.source is not None and spec.source.kind == "model":
            found.append((spec.id, spec.label, spec.source))
    return tuple(dict.fromkeys(found))


def register_models(models: Sequence[tuple[str, str, MethodSource]]) -> None:
    """Load each model file this process lacks under the id its parent gave it, once: a
    worker keeps it for every later unit (on a GPU when PyTorch has one). A file that
    changed since the parent loaded it (its SHA-256) is refused by name."""
    from core.methods.external.adding import add_model, file_sha256
    from core.methods.registry import registered_ids

    present = set(registered_ids())
    for method_id, label, source in models:
        if method_id in present or source.path is None:
            continue
        if source.sha256 is not None and file_sha256(source.path) != source.sha256:
            raise UpscopeError(f"{source.path}: the model file changed since the evaluation started")
        add_model(source.path, label, value_range=source.option("value_range", "0-1"), method_id=method_id)


def upscope_version() -> str:
    """The installed Upscope's version ("unknown" when it runs from a checkout without one)."""
    from importlib import metadata

    try:
        return metadata.version("upscope")
    except metadata.PackageNotFoundError:
        return "unknown"


def _quiet_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def evaluate(
    datasets: str | os.PathLike | Dataset | Sequence[str | os.PathLike | Dataset],
    settings: EvaluationSettings | None = None,
    out: str | os.PathLike = "evaluation",
    *,
    jobs: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
    scheduler: str | None = None,
    send_images: bool = False,
    gpu_resource: str | None = None,
) -> EvaluationReport:
    """Evaluate ``settings``' methods over ``datasets`` (folders, list files,
    ``builtin:photos`` or `Dataset` objects) into the store in folder ``out``, computing
    only the rows it lacks, in ``jobs`` worker processes (default: one per core; 1 runs
    here, in this process). ``progress(units done, units, rows done)`` is called as units
    finish. Raises `ParameterError` for a bad dataset or settings, or a store of other
    settings in ``out`` (unless ``force``, which replaces it).

    With ``scheduler`` (a ``dask.distributed`` address, ``tcp://host:8786``) the units run
    on that cluster's workers instead: they read each image from its path (a file system
    every worker shares), or with ``send_images`` from the bytes sent with the unit; a unit
    whose worker is lost is run again by Dask, and its rows are stored once.
    ``gpu_resource`` names a worker resource (``GPU``) each unit asks one of. An
    unreachable scheduler raises `UpscopeError` before anything is written."""
    started = time.perf_counter()
    settings = settings or EvaluationSettings()
    _check(settings)
    if isinstance(datasets, (str, os.PathLike, Dataset)):  # one dataset, not its characters
        datasets = [datasets]
    opened = [d if isinstance(d, Dataset) else open_dataset(d) for d in datasets]
    names = [d.name for d in opened]
    if len(set(names)) != len(names):
        raise ParameterError(f"two datasets share the name {next(n for n in names if names.count(n) > 1)!r}; "
                             "give them folders or list files of different names")
    report = EvaluationReport(skipped=[entry for d in opened for entry in d.skipped])
    client = connect(scheduler) if scheduler else None  # before the store: an unreachable one writes nothing
    try:
        if client is not None and gpu_resource:
            check_resource(client, gpu_resource, str(scheduler))
        with Store(os.fspath(out), settings.fingerprint(), replace=force) as store:
            _run(store, opened, settings, report, client, jobs, progress, send_images, gpu_resource)
            rows = asked_rows(store.rows(), opened, settings)
            report.not_measured = not_measured(rows)
            report.written = write_tables(os.fspath(out), rows, settings.fingerprint())
    finally:
        if client is not None:
            client.close()
    report.seconds = time.perf_counter() - started
    return report


def asked_rows(rows: Sequence[dict[str, Any]], datasets: Sequence[Dataset],
               settings: EvaluationSettings) -> list[dict[str, Any]]:
    """The rows of ``datasets``' images at ``settings``' scales: what the tables of this
    evaluation are made of. The store may hold more (another run's scales, an image since
    removed from its folder), kept for a later run."""
    images = {(dataset.name, image.name) for dataset in datasets for image in dataset.images}
    scales = set(settings.scales)
    return [row for row in rows if (row["dataset"], row["image"]) in images and float(row["scale"]) in scales]


def _run(store: Store, opened: Sequence[Dataset], settings: EvaluationSettings, report: EvaluationReport,
         client: Any, jobs: int | None, progress: Progress | None, send_images: bool, gpu_resource: str | None) -> None:
    """Plan the units the store lacks and run them here, in processes or on the cluster."""
    units, report.stored = plan_units(opened, settings, store)
    done_units = 0

    def on_result(index: int, rows: list[dict[str, Any]] | None, why: str | None) -> None:
        nonlocal done_units
        done_units += 1
        unit = units[index]
        if rows is None:
            report.failed.append((f"{unit.image.dataset}/{unit.image.name} at x{unit.scale:g}", why or "failed"))
        else:
            report.computed += store.add(rows)
        if progress is not None:
            progress(done_units, len(units), report.computed + report.stored)

    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if client is not None:
        if send_images:
            units = [replace(u, image=with_bytes(u.image)) for u in units]
        run_on_cluster(client, units, on_result, gpu_resource)
    elif workers <= 1 or len(units) <= 1:
        for index, unit in enumerate(units):
            try:
                on_result(index, evaluate_unit(unit), None)
            except UpscopeError as exc:
                on_result(index, None, str(exc))
    else:
        run_in_processes(evaluate_unit, units, workers, on_result, initializer=_quiet_worker)


#: How long connecting to a Dask scheduler may take, in seconds, before it is given up.
CONNECT_SECONDS = 10


def connect(address: str) -> Any:
    """A ``dask.distributed`` client of the scheduler at ``address``; `ParameterError`
    when Dask is not installed, `UpscopeError` naming the address when it cannot be
    reached, or does not answer as a Dask scheduler, within `CONNECT_SECONDS` (the
    handshake with a port that is not a scheduler's can otherwise wait forever)."""
    try:
        from distributed import Client
    except ImportError:
        raise ParameterError('--scheduler needs dask.distributed, which is not installed; install it: '
                             'python3 -m pip install -e ".[dask]"') from None
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["client"] = Client(address, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = f"{type(exc).__name__}: {exc}" if not isinstance(exc, MemoryError) else None

    thread = threading.Thread(target=attempt, name="dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS + 5)
    if "client" in outcome:
        return outcome["client"]
    with _unraisable_quiet():  # the half-made Client complains from __del__ as it goes
        gc.collect()
    if thread.is_alive() or outcome.get("error") is None:
        raise UpscopeError(f"{address} did not answer as a Dask scheduler (is it the scheduler's address, "
                           "tcp://host:8786, and not its dashboard's?); nothing was written")
    raise UpscopeError(f"cannot reach the Dask scheduler at {address} ({outcome['error']}); nothing was written")


@contextlib.contextmanager
def _unraisable_quiet() -> Iterator[None]:
    """Drop the errors Python would print from finalizers meanwhile (``Exception ignored
    in: ...``): a client that never connected has nothing to say worth a traceback."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        yield
    finally:
        sys.unraisablehook = hook


def check_resource(client: Any, resource: str, address: str) -> None:
    """Refuse ``resource`` when the cluster has workers and none of them offers it (each
    unit would wait for one forever); a cluster still without workers (one that scales up
    on demand) is let through."""
    workers = client.scheduler_info().get("workers", {})
    if workers and not any((info.get("resources") or {}).get(resource) for info in workers.values()):
        raise ParameterError(f"--gpu-resource {resource}: none of the {len(workers)} workers of {address} offers it; "
                             f"start them with --resources {resource}=1, or leave the option out")


def run_on_cluster(client: Any, units: Sequence[Unit], on_result: Callable[[int, Any, str | None], None],
                   gpu_resource: str | None) -> None:
    """Run ``units`` on the cluster of ``client``; each result (or why there is none) comes
    to ``on_result`` in this process as it finishes. Dask runs a lost worker's units again
    (three times at most)."""
    from distributed import as_completed

    resources = {gpu_resource: 1} if gpu_resource else None
    with client.as_current():  # as_completed looks for the client it runs under
        futures = client.map(evaluate_unit, list(units), pure=False, retries=3, resources=resources)
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                try:
                    rows = future.result()
                except Exception as exc:  # the unit's own error, or a worker lost more often than retried
                    on_result(index[future.key], None, f"{type(exc).__name__}: {exc}")
                else:
                    on_result(index[future.key], rows, None)
        finally:
            client.cancel(futures)  # stopped midway: the cluster drops what is left


def _check(settings: EvaluationSettings) -> None:
    from core.common.vocabulary import check_convention
    from core.comparison.settings import check_settings
    from core.methods.registry import get_method

    if not settings.scales:
        raise ParameterError("no scale to evaluate: give at least one, e.g. 2,3,4")
    for scale in settings.scales:
        if not scale > 1:  # NaN too
            raise ParameterError(f"scale {scale:g}: an evaluation restores a reduced image, so each scale must be "
                                 "above 1 (x1 would compare the image with itself)")
    if len(set(settings.scales)) != len(settings.scales):
        twice = next(s for s in settings.scales if settings.scales.count(s) > 1)
        raise ParameterError(f"scale {twice:g} is given twice; give each scale once")
    check_convention(settings.convention)
    for choice in settings.choices():
        spec = get_method(choice.id)
        spec.resolve_params(dict(choice.params))  # an unknown or bad parameter is refused up front
        if spec.source is not None and spec.source.kind != "model":  # a model file each worker loads itself
            raise ParameterError(f"{spec.label} ({choice.id}) is a {spec.source.kind.replace('result', 'result image')}; "
                                 "result images and plugins cannot be evaluated over datasets (a result image is "
                                 "of one image), leave it out of --methods")
    for scale in settings.scales:
        check_settings(ComparisonSettings(mode="degrade", scale=scale, methods=settings.methods,
                                          downsampler=settings.downsampler, convention=settings.convention))

