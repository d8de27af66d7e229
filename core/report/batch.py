"""Headless export: comparison figures for one image or many, without a display.

`export_images` is what ``app.py --export`` runs: it reads each image, runs the
comparison, draws the figure (`comparison_figure` or `paper_figure`) and writes it, and
gathers every image's metrics into one CSV. Several images run in parallel processes
(`run_in_processes`), and one whose process is killed costs only that image.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np

from core.backends.choice import resolve_backend
from core.common.arrays import parse_scale
from core.common.errors import ImageError, OutputExistsError, ParameterError, UnsupportedScaleError, UpscopeError
from core.common.region import Region
from core.common.vocabulary import Convention
from core.comparison.comparison import Comparison
from core.comparison.memory import available_memory
from core.comparison.settings import ComparisonSettings, check_settings
from core.io.files import open_regular_file
from core.io.read import load_image
from core.io.write import save_image, unfinished_writes
from core.methods.registry import get_method
from core.report.figures import (
    GridOptions,
    check_figure,
    comparison_figure,
    paper_figure,
)
from core.report.files import (
    export_results,
    make_folder,
    metrics_csv,
    metrics_rows,
    safe_stem,
    write_text,
)
from core.report.workers import run_in_processes

#: File name endings read from a folder.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


@dataclass(frozen=True)
class ExportRequest:
    """What to make of each image.

    ``regions`` non-empty makes a paper figure (see `paper_figure`, measured with
    ``convention``); otherwise a comparison grid with ``figure``'s options.
    ``results_dir`` also writes each result, difference map and the metrics there (one
    sub-folder per image when there are several, named by the image's file name:
    ``chelsea.jpg``).
    """

    settings: ComparisonSettings = field(default_factory=ComparisonSettings)
    figure: GridOptions = field(default_factory=GridOptions)
    regions: tuple[Region, ...] = ()
    convention: Convention = "paper"
    results_dir: Path | None = None
    force: bool = False


@dataclass(frozen=True)
class ImageOutcome:
    """One image's export: the figure written, its metrics rows, or the error.

    ``output`` is the figure when it was written (also when a results file failed after
    it); ``written`` every file written for this image, in order, so a failure partway
    (a full disk) says exactly what is on disk. ``usage`` is True when the error came from
    the options rather than the file (a scale this image is too small for, say).
    """

    image: Path
    output: Path | None
    rows: list[dict]
    error: str | None = None
    usage: bool = False
    written: tuple[Path, ...] = ()


@dataclass(frozen=True)
class BatchReport:
    """What `export_images` did: each image's outcome, the metrics CSV written (None
    when there was nothing to measure, or ``metrics_error`` says why it could not be
    written) and the seconds taken. ``metrics_unwritten`` names the file and says why
    when results were made but none was measured, so no file was written."""

    outcomes: list[ImageOutcome]
    metrics_path: Path | None
    seconds: float
    metrics_error: str | None = None
    metrics_unwritten: str | None = None

    @property
    def failed(self) -> list[ImageOutcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def figures(self) -> list[Path]:
        """The figures written, failed images' included when their figure was written."""
        return [o.output for o in self.outcomes if o.output is not None]


#: Worker processes allowed per core: more only compete for memory and the same cores.
MAX_JOBS_PER_CORE = 4


def max_jobs() -> int:
    """The most images `export_images` compares at once on this machine."""
    return MAX_JOBS_PER_CORE * (os.cpu_count() or 1)


def image_files(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """The images named by ``inputs``: files as given, folders expanded to the image
    files directly inside them (sorted by name). A folder with no image, or one that
    cannot be listed, is an error; a missing file is kept, so its export reports it."""
    found: list[Path] = []
    for item in map(Path, inputs):
        try:
            is_folder = item.is_dir()
        except OSError:  # no permission to look, a name too long: reading the file reports it
            is_folder = False
        if not is_folder:
            found.append(item)
            continue
        try:
            inside = sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        except OSError as exc:  # a folder that cannot be listed or searched
            raise ImageError(f"{item}: cannot be read ({exc.strerror or exc})") from None
        if not inside:
            raise ImageError(f"{item}: the folder holds no image files ({', '.join(IMAGE_SUFFIXES)})")
        found.extend(inside)
    if not found:
        raise ParameterError("no input image given")
    return found


def figure_name(image: Path) -> str:
    """The file name of ``image``'s figure in a batch: its whole file name with ``.png``
    added (``chelsea.jpg`` -> ``chelsea.jpg.png``), so images that differ only in their
    extension get figures (and results folders, named ``chelsea.jpg``) of their own."""
    return f"{image.name}.png"


def plan_outputs(images: Sequence[Path], out: Path, *, single: bool) -> list[Path]:
    """Where each image's figure goes: ``out`` itself for a single image, else
    ``out/<file name>.png`` (see `figure_name`). Raises `ParameterError` when ``out``
    cannot hold them, or two images (same file name, different folders) would share one.
    Whether the files exist or can be written is `check_outputs`'s question."""
    if single:
        if _output_test(out, Path.is_dir):
            raise ParameterError(f"{out}: is a folder; give a file name ending in .png")
        if out.suffix.lower() != ".png":
            raise ParameterError(f"{out}: the figure is a PNG; give a file name ending in .png")
        if not _output_test(out.parent, Path.is_dir):
            raise ImageError(f"{out}: the folder {out.parent} does not exist")
        return [out]
    if _output_test(out, Path.exists) and not _output_test(out, Path.is_dir):
        raise ParameterError(f"{out}: several images need an output folder, and this is a file")
    targets = [out / figure_name(image) for image in images]
    seen: dict[Path, Path] = {}
    for image, target in zip(images, targets):
        if target in seen:
            raise ParameterError(f"{seen[target]} and {image} would both be written to {target}")
        seen[target] = image
    return targets


def refuse_existing(paths: Iterable[Path]) -> None:
    """Raise `ParameterError` naming the first few of ``paths`` that exist."""
    existing = [p for p in paths if _output_test(p, Path.exists)]
    if existing:
        raise OutputExistsError(existing)


def check_outputs(paths: Sequence[Path], *, made: Sequence[Path] = ()) -> None:
    """Check, before any work, that every file of ``paths`` can be written.

    A path's folder must exist, unless it is one of the folders ``made`` (created when
    the work starts) or lies inside one; then its nearest existing folder must be a folder.
    The folder (or that nearest one) must be writable. Raises `ParameterError` for a
    missing folder or a folder where a file is meant, `ImageError` for what the system
    refuses: a read-only file system, no permission, a name too long.
    """
    made = [Path(folder) for folder in made]
    checked: set[Path] = set()
    for path in paths:
        if _output_test(path, Path.is_dir):
            raise ParameterError(f"{path}: is a folder; give a file name")
        folder = path.parent
        if folder in checked:
            continue
        checked.add(folder)
        if any(folder == m or m in folder.parents for m in made):
            existing = folder
            while not _output_test(existing, Path.exists) and existing != existing.parent:
                existing = existing.parent
            if not _output_test(existing, Path.is_dir):
                raise ImageError(f"{path}: cannot make the folder {folder}: {existing} is a file")
        elif not _output_test(folder, Path.is_dir):
            raise ImageError(f"{path}: the folder {folder} does not exist")
        else:
            existing = folder
        why = _unwritable(existing)
        if why:
            raise ImageError(f"{path}: cannot write into {existing} ({why})")


def _output_test(path: Path, test: Callable[[Path], bool]) -> bool:
    """``test(path)``; what the system refuses (no permission to search a folder on the
    way, a name too long) is an `ImageError` naming the output."""
    try:
        return test(path)
    except OSError as exc:
        raise ImageError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _unwritable(folder: Path) -> str | None:
    """Why no file can be made in ``folder``, or None."""
    if os.access(folder, os.W_OK | os.X_OK):
        return None
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except (OSError, AttributeError):  # statvfs is POSIX only
        pass
    return "permission denied"


def results_files(folder: Path, settings: ComparisonSettings) -> list[Path]:
    """Every file `export_results` may write into ``folder`` for ``settings``."""
    methods = [safe_stem(choice.id) for choice in settings.method_choices()]
    stems = ["input", "reference", "ground-truth"] + methods
    names = [f"{stem}.{suffix}" for stem in stems for suffix in ("png", "tif")]
    names += [f"{stem}-diff.png" for stem in methods] + ["metrics.csv", "metrics.json"]
    return [folder / name for name in names]


def export_images(
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    request: ExportRequest,
    *,
    metrics_path: str | os.PathLike | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int, ImageOutcome], None] | None = None,
) -> BatchReport:
    """Export a figure per image and (when ``metrics_path`` is given and something was
    measured) one metrics CSV.

    With one input file, ``out`` is the PNG to write; with several, or a folder, it is
    the folder to write ``<file name>.png`` into (see `figure_name`). Images run in up to
    ``jobs`` processes (default: one per core; at most `max_jobs`).

    Options are checked first (settings, method parameters, ``jobs``, the metrics path),
    then inputs: a single image is read before anything else, so one that cannot be read
    is reported as such even when its output exists; in a batch, each file is opened (not
    decoded) and those that cannot be are reported. Then the outputs: existing ones
    without ``force`` raise `ParameterError`, and every folder must be writable
    (`check_outputs`), all before any work. Each image's crop or regions and figure size
    are checked as soon as its output size is known, before its methods run.

    An image that cannot be read, compared or written is reported in its `ImageOutcome`
    (with the files written for it before the failure) and the others go on, also when
    the worker process comparing it is killed. No metrics file is written when no result
    was measured: none ran, or there was no reference (``metrics_path`` of the report is
    then None). A reference method that cannot take the scale is refused with the other
    options. An interruption (``KeyboardInterrupt``) stops every worker and leaves no
    partial file.
    """
    started = time.perf_counter()
    _check_request(request)
    if jobs is not None and not 1 <= jobs <= max_jobs():
        raise ParameterError(
            f"jobs must be from 1 to {max_jobs()} ({MAX_JOBS_PER_CORE} per core, {os.cpu_count() or 1} "
            f"core(s) here); got {jobs}"
        )
    metrics_target = Path(metrics_path) if metrics_path is not None else None
    if metrics_target is not None and _output_test(metrics_target, Path.is_dir):
        raise ParameterError(
            f"{metrics_target}: is a folder; the metrics need a file name, such as {metrics_target / 'metrics.csv'}"
        )
    images = image_files(inputs)
    single = len(images) == 1 and len(inputs) == 1 and images[0] == Path(inputs[0])
    out = Path(out)
    outcomes: list[ImageOutcome] = []

    def report(outcome: ImageOutcome) -> None:
        outcomes.append(outcome)
        if progress:
            progress(len(outcomes), len(images), outcome)

    loaded = None
    if single:
        try:
            loaded = load_image(images[0])
        except UpscopeError as exc:
            report(ImageOutcome(images[0], None, [], str(exc)))
        except MemoryError:
            report(ImageOutcome(images[0], None, [], f"{images[0]}: not enough memory to read this image"))
        except OSError as exc:
            report(ImageOutcome(images[0], None, [], f"{images[0]}: cannot be read ({exc.strerror or exc})"))
    else:
        for image in images:
            reason = _unopenable(image)
            if reason is not None:
                report(ImageOutcome(image, None, [], reason))
    unreadable = {outcome.image for outcome in outcomes}
    readable = [image for image in images if image not in unreadable]
    if not readable:
        return BatchReport(outcomes, None, time.perf_counter() - started)

    targets = plan_outputs(readable, out, single=single)
    results_dirs: list[Path | None] = [None] * len(readable)
    if request.results_dir is not None:
        results_dirs = [request.results_dir if single else request.results_dir / image.name for image in readable]
    planned = list(targets) + ([metrics_target] if metrics_target is not None else [])
    for folder in results_dirs:
        planned += results_files(folder, request.settings) if folder is not None else []
    if not request.force:
        refuse_existing(planned)
    made = ([] if single else [out]) + ([request.results_dir] if request.results_dir is not None else [])
    check_outputs(planned, made=made)
    made_folder = not single and not out.exists()
    if not single:
        make_folder(out)

    work = list(zip(readable, targets, results_dirs))
    workers = max(1, min(jobs or os.cpu_count() or 1, len(work)))
    # The batch runs on one backend, named so worker processes need not detect it again.
    backend = resolve_backend(request.settings.backend)
    request = replace(request, settings=replace(request.settings, backend=backend.name))
    if backend.name != "cpu":
        workers = 1  # one device: processes would only queue on it, each with its own context
    if any(get_method(choice.id).source is not None for choice in request.settings.method_choices()):
        workers = 1  # the user's models, result images and plugins live in this process, loaded once

    def lost(index: int, outcome: ImageOutcome | None, why: str | None) -> None:
        if outcome is None:  # its worker raised or ended: no partial file of it stays
            _remove_unfinished_writes(work[index], request.settings)
            outcome = ImageOutcome(work[index][0], None, [], f"{work[index][0]}: {why}")
        report(outcome)

    try:
        if workers == 1:
            for item in work:
                report(_export_one(item, request, loaded))
        else:
            budget = available_memory()  # before the workers start: they share it equally
            one = partial(_export_one, request=request, memory_budget=budget, jobs=workers)
            run_in_processes(one, work, workers, lost, initializer=_quiet_worker)
    finally:
        if made_folder and not any(outcome.written for outcome in outcomes):
            _remove_if_empty(out)  # a folder of nothing would look like a finished export
    order = {image: i for i, image in enumerate(images)}
    outcomes.sort(key=lambda o: order[o.image])
    rows = [row for outcome in outcomes for row in outcome.rows]
    seconds = time.perf_counter() - started
    if metrics_target is None or not rows:
        return BatchReport(outcomes, None, seconds)
    # Without a reference a result still has its checkerboard score (its own share at the grid).
    if not any(row.get("mse") is not None or row.get("checkerboard") is not None for row in rows):
        why = "no reference to measure against" if any(row.get("width") for row in rows) else "no method ran"
        return BatchReport(outcomes, None, seconds, metrics_unwritten=f"{metrics_target}: not written: "
                           f"no result was measured ({why})")
    try:
        write_text(metrics_target, metrics_csv(rows), overwrite=request.force)
    except ImageError as exc:
        return BatchReport(outcomes, None, time.perf_counter() - started, metrics_error=str(exc))
    return BatchReport(outcomes, metrics_target, time.perf_counter() - started)


def _remove_unfinished_writes(item: tuple[Path, Path, Path | None], settings: ComparisonSettings) -> None:
    """Remove the temporary files of ``item``'s outputs that a worker killed outright
    (it could not clean up) left; each output belongs to one image, so no other
    worker's file is touched."""
    _, target, results_dir = item
    outputs = [target] + (results_files(results_dir, settings) if results_dir is not None else [])
    for output in outputs:
        for leftover in unfinished_writes(output):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()  # refuses a folder that holds anything
    except OSError:
        pass


def _unopenable(image: Path) -> str | None:
    """Why ``image`` cannot be opened (missing, a folder, no permission, empty), in
    `load_image`'s words; None when its first byte can be read. Decodes nothing unless
    the file cannot be opened."""
    try:
        handle, size = open_regular_file(image)  # never blocks: a named pipe is refused at once
    except UpscopeError as exc:
        return str(exc)
    with handle:
        if size > 0:
            return None
    try:
        load_image(image)  # fails fast, with the message every other reader gives
    except UpscopeError as exc:
        return str(exc)
    except OSError as exc:
        return f"{image}: cannot be read ({exc.strerror or exc})"
    return None


def _check_request(request: ExportRequest) -> None:
    """Settings errors (unknown method, bad scale, a method parameter out of its range)
    are usage errors: find them before any image is read."""
    check_settings(request.settings)
    choices = request.settings.method_choices()
    if not choices:
        raise ParameterError("no method to compare: give at least one method id")
    for choice in choices:
        get_method(choice.id).resolve_params(dict(choice.params))
    reference = request.settings.reference
    if reference is not None:
        # A reference that cannot take the scale would leave every image unmeasured.
        refusal = get_method(reference).refusal(parse_scale(request.settings.scale))
        if refusal:
            raise UnsupportedScaleError(f"the reference {reference}: {refusal}")
    if len(request.regions) > 2:
        raise ParameterError(f"a paper figure takes one or two regions; got {len(request.regions)}")


def render_figure(comparison: Comparison, request: ExportRequest, title: str = ""):  # noqa: ANN201
    """Run every method of ``comparison`` and draw the requested figure; returns
    ``(figure, results)``. A figure that cannot be drawn is refused before any method
    runs."""
    check_figure(comparison, request.figure, request.regions)
    # --diff-kind flip asks for FLIP: its mean is measured for the metrics even without the maps.
    flip = request.figure.diff_kind == "flip"
    results = [comparison.analyse(result, flip=flip) for result in comparison]
    if request.regions:
        figure = paper_figure(
            comparison, results, request.regions, convention=request.convention,
            background=request.figure.background, magnification=request.figure.magnification,
            columns=request.figure.columns, font_size=request.figure.font_size,
        )
    else:
        figure = comparison_figure(comparison, results, request.figure, title=title)
    return figure, results


def _export_one(
    item: tuple[Path, Path, Path | None], request: ExportRequest, image: np.ndarray | None = None,
    memory_budget: int | None = None, jobs: int = 1,
) -> ImageOutcome:
    """One image's figure (and results folder); ``image`` is its pixels when already read.
    The outcome lists every file written, also when a later one failed.
    ``memory_budget``: the memory available to the ``jobs`` images compared at once."""
    image_path, target, results_dir = item
    written: list[Path] = []

    def failed(message: str, usage: bool = False) -> ImageOutcome:
        figure = target if target in written else None
        return ImageOutcome(image_path, figure, [], message, usage=usage, written=tuple(written))

    try:
        if image is None:
            image = load_image(image_path)
        # Images compared side by side in processes each run their methods one at a time.
        comparison = Comparison(image, request.settings, memory_budget=memory_budget, jobs=jobs,
                                workers=1 if jobs > 1 else None)
        figure, results = render_figure(comparison, request, title=image_path.name)
        save_image(target, figure, overwrite=request.force)
        written.append(target)
        # A region's rows in the paper figure's convention, so the file and the figure agree.
        regional = [comparison.measure_region(result, region, convention=request.convention)
                    for region in request.regions for result in results]
        if results_dir is not None:
            export_results(results_dir, comparison, results, overwrite=request.force, image_name=str(image_path),
                           record=written, region_results=regional)
        rows = metrics_rows(results + regional, str(image_path), comparison.settings)
        return ImageOutcome(image_path, target, rows, written=tuple(written))
    except ParameterError as exc:
        return failed(str(exc), usage=True)
    except UpscopeError as exc:
        return failed(str(exc))
    except MemoryError:
        return failed(f"{image_path}: not enough memory to compare this image")
    except OSError as exc:  # from the system, not from a check: name the file it concerns
        return failed(f"{exc.filename or image_path}: {exc.strerror or exc}")


def _quiet_worker() -> None:
    """Each process runs one image at a time; OpenCV's own threads would only compete."""
    import cv2

    cv2.setNumThreads(1)
