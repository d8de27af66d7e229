"""Headless export: comparison figures for one image or many, without a display.

`export_images` is what ``app.py --export`` runs: it reads each image, runs the
comparison, draws the figure (`comparison_figure` or `paper_figure`) and writes it, and
gathers every image's metrics into one CSV. Several images run in parallel processes.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import sys
import time
from dataclasses import replace, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence, TextIO

import numpy as np

from ._errors import ImageError, ParameterError, UpscopeError
from ._export import export_results, make_folder, metrics_csv, metrics_rows, safe_stem, write_text
from ._figure import GridOptions, Region, check_figure, comparison_figure, paper_figure
from ._imageio import load_image, save_image
from ._memory import available_memory
from ._metrics import Convention
from ._backend import resolve_backend
from ._pipeline import Comparison, ComparisonSettings, check_settings

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

    ``usage`` is True when the error came from the options rather than the file (a scale
    this image is too small for, say).
    """

    image: Path
    output: Path | None
    rows: list[dict]
    error: str | None = None
    usage: bool = False


@dataclass(frozen=True)
class BatchReport:
    outcomes: list[ImageOutcome]
    metrics_path: Path | None
    seconds: float

    @property
    def failed(self) -> list[ImageOutcome]:
        return [o for o in self.outcomes if o.error is not None]


def image_files(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """The images named by ``inputs``: files as given, folders expanded to the image
    files directly inside them (sorted by name). A folder with no image is an error;
    a missing file is kept, so its export reports it."""
    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            inside = sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not inside:
                raise ImageError(f"{item}: the folder holds no image files ({', '.join(IMAGE_SUFFIXES)})")
            found.extend(inside)
        else:
            found.append(item)
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
    Whether the files exist is `refuse_existing`'s question."""
    if single:
        if out.is_dir():
            raise ParameterError(f"{out}: is a folder; give a file name ending in .png")
        if out.suffix.lower() != ".png":
            raise ParameterError(f"{out}: the figure is a PNG; give a file name ending in .png")
        if not out.parent.is_dir():
            raise ParameterError(f"{out}: the folder {out.parent} does not exist")
        return [out]
    if out.exists() and not out.is_dir():
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
    existing = [p for p in paths if p.exists()]
    if existing:
        names = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise ParameterError(f"{names}: already exists; add --force to overwrite")


def results_files(folder: Path, settings: ComparisonSettings) -> list[Path]:
    """Every file `export_results` may write into ``folder`` for ``settings``."""
    stems = ["reference"] + [safe_stem(choice.id) for choice in settings.method_choices()]
    names = [f"{stem}.{suffix}" for stem in stems for suffix in ("png", "tif")]
    names += [f"{stem}-diff.png" for stem in stems[1:]] + ["metrics.csv", "metrics.json"]
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
    ``jobs`` processes (default: one per core).

    Inputs are checked first: a single image is read before anything else, so one that
    cannot be read is reported as such even when its output exists; in a batch, each
    file is opened (not decoded) and those that cannot be are reported. Then usage
    problems (bad options, existing outputs without ``force``) raise `ParameterError`
    before any work. An image that cannot be read or compared is reported in its
    `ImageOutcome` and the others go on. No metrics file is written when no image was
    measured (``metrics_path`` of the report is then None).
    """
    started = time.perf_counter()
    _check_request(request)
    images = image_files(inputs)
    single = len(images) == 1 and not Path(inputs[0]).is_dir() and len(inputs) == 1
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
    else:
        for image in images:
            reason = _unopenable(image)
            if reason is not None:
                report(ImageOutcome(image, None, [], reason))
    unreadable = {outcome.image for outcome in outcomes}
    readable = [image for image in images if image not in unreadable]
    metrics_target = Path(metrics_path) if metrics_path is not None else None
    if not readable:
        return BatchReport(outcomes, None, time.perf_counter() - started)

    targets = plan_outputs(readable, out, single=single)
    results_dirs: list[Path | None] = [None] * len(readable)
    if request.results_dir is not None:
        results_dirs = [request.results_dir if single else request.results_dir / image.name for image in readable]
    if not request.force:
        planned = list(targets) + ([metrics_target] if metrics_target is not None else [])
        for folder in results_dirs:
            planned += results_files(folder, request.settings) if folder is not None else []
        refuse_existing(planned)
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
    if workers == 1:
        for item in work:
            report(_export_one(item, request, loaded))
    else:
        context = multiprocessing.get_context("spawn")  # no fork: OpenCV's threads do not survive one
        budget = available_memory()  # before the workers start: they share it equally
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet_worker) as pool:
            futures = [pool.submit(_export_one, item, request, None, budget, workers) for item in work]
            for future in concurrent.futures.as_completed(futures):
                report(future.result())
    order = {image: i for i, image in enumerate(images)}
    outcomes.sort(key=lambda o: order[o.image])
    if made_folder and all(outcome.error for outcome in outcomes):
        _remove_if_empty(out)  # a folder of nothing would look like a finished export
    rows = [row for outcome in outcomes for row in outcome.rows]
    if metrics_target is None or not rows:
        return BatchReport(outcomes, None, time.perf_counter() - started)
    write_text(metrics_target, metrics_csv(rows), overwrite=request.force)
    return BatchReport(outcomes, metrics_target, time.perf_counter() - started)


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
        with open(image, "rb") as handle:
            if handle.read(1):
                return None
    except OSError:
        pass
    try:
        load_image(image)  # fails fast, with the message every other reader gives
    except UpscopeError as exc:
        return str(exc)
    return None


def _check_request(request: ExportRequest) -> None:
    """Settings errors (unknown method, bad scale) are usage errors: find them before
    any image is read."""
    check_settings(request.settings)
    if len(request.regions) > 2:
        raise ParameterError(f"a paper figure takes one or two regions; got {len(request.regions)}")


def render_figure(comparison: Comparison, request: ExportRequest, title: str = ""):  # noqa: ANN201
    """Run every method of ``comparison`` and draw the requested figure; returns
    ``(figure, results)``. A figure that cannot be drawn is refused before any method
    runs."""
    check_figure(comparison, request.figure, request.regions)
    results = list(comparison)
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
    ``memory_budget``: the memory available to the ``jobs`` images compared at once."""
    image_path, target, results_dir = item
    try:
        if image is None:
            image = load_image(image_path)
        comparison = Comparison(image, request.settings, memory_budget=memory_budget, jobs=jobs)
        figure, results = render_figure(comparison, request, title=image_path.name)
        save_image(target, figure, overwrite=request.force)
        if results_dir is not None:
            export_results(results_dir, comparison, results, overwrite=request.force, image_name=str(image_path))
        return ImageOutcome(image_path, target, metrics_rows(results, str(image_path)))
    except ParameterError as exc:
        return ImageOutcome(image_path, None, [], str(exc), usage=True)
    except UpscopeError as exc:
        return ImageOutcome(image_path, None, [], str(exc))
    except MemoryError:
        return ImageOutcome(image_path, None, [], f"{image_path}: not enough memory to compare this image")


def _quiet_worker() -> None:
    """Each process runs one image at a time; OpenCV's own threads would only compete."""
    import cv2

    cv2.setNumThreads(1)


class TerminalProgress:
    """A progress bar on a terminal (one line, redrawn), or a line per image when the
    stream is not a terminal (a log file, a pipe)."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int, outcome: ImageOutcome) -> None:
        status = "failed" if outcome.error else "done"
        if self.tty:
            filled = round(self.width * done / total)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {outcome.image.name[:40]:<40}")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{done}/{total} {outcome.image}: {status}\n")
        self.stream.flush()
