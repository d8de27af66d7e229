"""What the viewer shows, without Qt: the image chosen, the comparison on screen, its
results with their screen copies and difference maps, and whether it is complete.

The window changes it as the runner delivers; the window's widgets, the exporter and the
tests read it. Main thread only (it holds no lock).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import core
from core import MethodResult


@dataclass(frozen=True)
class DiffOptions:
    """How difference maps are shown: ``kind`` (one of `core.DIFF_KINDS`) is what is
    computed; ``gain`` only how it is coloured."""

    kind: core.DiffKind = core.DIFF_KINDS[0]
    gain: float = 1.0


@dataclass(frozen=True)
class PreparedJob:
    """A comparison ready to run: its inputs and what the reference panel shows.

    ``reference_values`` is the array under the reference panel (ground truth in degrade
    mode, the original in upscale mode) and ``reference_display`` its 8-bit picture.
    ``image_name`` (a path, a chart's label, "Pasted image 2") and ``image_key`` (its
    entry in the Images list) say which image the job compares, for titles, exports and
    sessions.
    """

    job_id: int
    comparison: core.Comparison
    reference_label: str
    reference_values: np.ndarray
    reference_display: np.ndarray
    image_name: str = ""
    image_key: str = ""


@dataclass(frozen=True)
class DiffPayload:
    """One method's difference map: its unscaled ``values`` ``(H, W)`` float32 in image
    units (`core.Comparison.difference`), and their coloured ``display``
    (`core.colorize_difference`) drawn with ``options``."""

    values: np.ndarray
    display: core.DifferenceDisplay
    options: DiffOptions


class DiffChange(enum.Enum):
    """What new difference-map options need of the maps held."""

    NOTHING = "nothing"  # the same options, or maps stay off
    DROP = "drop"  # maps turned off: the maps held go
    COMPUTE = "compute"  # maps turned on, or another kind: new maps
    RECOLOUR = "recolour"  # only the gain changed: the values held are coloured again


class ShownComparison:
    """The image chosen, the job on screen and everything shown of it.

    ``image`` (with ``image_name`` and ``image_key``) is the image the window compares:
    the one on screen, or one chosen whose comparison is not shown yet. ``job`` is the
    comparison on screen; ``results``, ``displays`` (8-bit screen copies) and ``diffs``
    (difference maps drawn with `diff_options`) are its methods' so far, by method id.
    ``work_running`` says whether the runner still has work of the window in flight (a
    comparison is complete only once it has none).
    """

    def __init__(self, work_running: Callable[[], bool] = lambda: False) -> None:
        self._work_running = work_running
        self.image: np.ndarray | None = None
        self.image_name = ""
        self.image_key = ""
        self.job: PreparedJob | None = None
        self.results: dict[str, MethodResult] = {}
        self.displays: dict[str, np.ndarray] = {}
        self.diffs: dict[str, DiffPayload] = {}
        self.measured: set[str] = set()
        self.expected = 0
        #: How difference maps are shown (None: they are not).
        self.diff_options: DiffOptions | None = None
        #: A session's view and regions, applied once its image is shown (they are in
        #: pixels of it).
        self.pending_view: core.View | None = None
        self.pending_regions: tuple[core.Region, ...] | None = None

    # The image and the job ------------------------------------------------------------

    def choose_image(self, image: np.ndarray, name: str, key: str) -> None:
        """``image`` (called ``name``, listed under ``key``) is the one to compare next."""
        self.image, self.image_name, self.image_key = image, name, key

    def keep_image_on_screen(self) -> bool:
        """The image chosen could not be compared: the image of the job on screen is the
        chosen one again. True when that changed the choice."""
        job = self.job
        if job is None or self.image is job.comparison.original:
            return False
        self.choose_image(job.comparison.original, job.image_name, job.image_key)
        return True

    @property
    def shown_image_name(self) -> str:
        """The name of the image whose comparison is on screen ("" when none is)."""
        return self.job.image_name if self.job is not None else ""

    @property
    def shown_image_key(self) -> str | None:
        """The Images-list key of the image on screen (None when none is)."""
        return self.job.image_key if self.job is not None else None

    def show_job(self, job: PreparedJob) -> None:
        """``job`` is on screen now; nothing of its methods is yet."""
        self.job = job
        self.results.clear()
        self.displays.clear()
        self.diffs.clear()
        self.measured.clear()
        self.expected = len(job.comparison.choices)

    def take_pending(self) -> tuple[core.View | None, tuple[core.Region, ...] | None]:
        """A session's view and regions waiting for its image, handed over once."""
        view, regions = self.pending_view, self.pending_regions
        self.pending_view = self.pending_regions = None
        return view, regions

    # Results ---------------------------------------------------------------------------

    def add_result(self, result: MethodResult, display: np.ndarray | None, diff: DiffPayload | None, measured: bool) -> None:
        """A method's ``result`` arrived with its screen copy ``display`` and, when maps
        are shown, its map ``diff``; ``measured`` when its metrics are final."""
        key = result.choice_key  # one method may run twice, with other parameters
        self.results[key] = result
        if display is not None:
            self.displays[key] = display
        if diff is not None:
            self.diffs[key] = diff
        if measured:
            self.measured.add(key)

    def is_measured(self, key: str) -> bool:
        return key in self.measured

    @property
    def measured_count(self) -> int:
        return len(self.measured)

    @property
    def all_measured(self) -> bool:
        """Whether every method of the job on screen has arrived measured."""
        return self.job is not None and len(self.measured) >= self.expected

    @property
    def comparison_complete(self) -> bool:
        """Whether every method of the comparison on screen is shown and measured, and
        no work for the window is still running."""
        return self.all_measured and not self._work_running()

    def shown_images(self) -> dict[str, np.ndarray]:
        """Each method's result that ran, in panel order."""
        images: dict[str, np.ndarray] = {}
        for result in self.results_in_order():
            if result.image is not None:
                images[result.choice_key] = result.image
        return images

    def results_in_order(self) -> list[MethodResult]:
        """The results of the job on screen, in panel order."""
        if self.job is None:
            return []
        return [self.results[c.key] for c in self.job.comparison.choices if c.key in self.results]

    def export_problem(self) -> str | None:
        """Why the comparison on screen cannot be exported now (None: it can)."""
        if self.job is None:
            return "Nothing to export yet: open an image first."
        if not self.comparison_complete:
            return "The comparison is still running; export when every panel is filled in."
        return None

    def reusable_results(self, settings: core.ComparisonSettings) -> list[MethodResult] | None:
        """The results of the finished comparison on screen that ``settings`` would
        compute again unchanged, when ``settings`` differ from it only in the methods (or
        their parameters), the reference or the metric convention; None when anything
        else changed (the image, mode, scale, downsampler, backend), which needs a new
        comparison."""
        job = self.job
        if job is None or not self.comparison_complete or self.image is not job.comparison.original:
            return None
        old = job.comparison.settings
        def inputs(s: core.ComparisonSettings) -> tuple[object, ...]:
            return s.mode, s.scale, s.downsampler, s.backend

        if inputs(old) != inputs(settings):
            return None
        before = {c.key for c in old.method_choices()}
        kept = [c.key for c in settings.method_choices() if c.key in before]
        return [self.results[key] for key in kept if key in self.results]

    def reference_name(self) -> str:
        """What the metrics measure against: the ground truth's label, or the reference
        method's."""
        if self.job is None:
            return ""
        method = self.job.comparison.settings.reference
        return self.job.reference_label if method is None else core.get_method(method).label

    def title_details(self, result: MethodResult) -> list[str | tuple[str, str]]:
        """A result panel's details, most important first: PSNR (with its short form for a
        narrow panel), SSIM, time, and the backend when the comparison runs on a device."""
        details: list[str | tuple[str, str]] = []
        if result.metrics is not None:
            psnr = core.format_metric("psnr", result.metrics.psnr)
            details.append((f"PSNR {psnr} dB", f"{psnr} dB"))
            if result.metrics.ssim is not None:
                details.append(f"SSIM {core.format_metric('ssim', result.metrics.ssim)}")
        elif result.choice_key not in self.measured:
            details.append("measuring...")
        time_text = f"{core.format_metric('time_ms', result.seconds * 1000.0)} ms"
        if self.job is not None and self.job.comparison.backend.name != core.BACKEND_NAMES[0]:
            time_text += f" on {core.BACKEND_LABELS.get(result.backend, result.backend)}"
        details.append(time_text)
        return details

    # Difference maps -------------------------------------------------------------------

    def set_diff_options(self, options: DiffOptions | None) -> DiffChange:
        """Show maps with ``options`` from now on, and say what that needs of the maps
        held: kept as they are, dropped, computed anew (another kind) or recoloured (only
        the gain changed: the values stay, their pictures are made again)."""
        old, self.diff_options = self.diff_options, options
        if options == old:
            return DiffChange.NOTHING
        if options is None:
            self.diffs.clear()
            return DiffChange.DROP
        if old is None or old.kind != options.kind:
            self.diffs.clear()
            return DiffChange.COMPUTE
        return DiffChange.RECOLOUR

    def set_diff(self, key: str, diff: DiffPayload) -> None:
        self.diffs[key] = diff

    def diff_values(self) -> dict[str, np.ndarray]:
        """The unscaled values of each map held, by panel key."""
        return {key: diff.values for key, diff in self.diffs.items()}

    def shown_diff(self, key: str) -> DiffPayload | None:
        """The map a method's panel shows now (None: maps are off, or it is not there yet)."""
        return self.diffs.get(key) if self.diff_options is not None else None

    def maps_wanted(self) -> bool:
        """Whether maps are shown and the comparison on screen has a reference to make them."""
        return self.diff_options is not None and self.job is not None and self.job.comparison.reference is not None
