"""The metrics table: one row per method, the best value of each column marked.

One model serves every place the table appears: the viewer's metrics dock, the exported
figure and the metrics files read `ResultTable` (the files through `metric_values`). A
method chosen as the reference scores perfectly by definition: it is marked as the
reference and never as best.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.common.errors import ParameterError
from core.common.region import Region
from core.comparison.results import MethodResult
from core.methods.naming import method_title
from core.methods.registry import get_method
from core.report.format import ErrorUnits, format_metric


@dataclass(frozen=True)
class MetricColumn:
    """A column of numbers: ``key`` (as in the files), ``name`` (as in headers), whether
    higher is better, and how to read its value from a result."""

    key: str
    name: str
    higher_is_better: bool
    read: Callable[[MethodResult], float | None]
    explained: str
    #: Whether the best value is marked: not for a signed diagnostic such as the
    #: checkerboard score, where the lowest is the blurriest, not the best.
    marks_best: bool = True

    def header(self, units: ErrorUnits | None = None) -> str:
        """``"PSNR (dB)"``, ``"MAE (levels 0-255)"``: the name and its unit."""
        if self.key in ("mae", "max_error"):
            return f"{self.name} ({units.unit})" if units is not None else self.name
        unit = {"time_ms": "ms", "psnr": "dB", "checkerboard": "%"}.get(self.key)
        return f"{self.name} ({unit})" if unit else self.name

    def tooltip(self, units: ErrorUnits | None = None) -> str:
        measured = units.measured if units is not None else "against the reference"
        return self.explained.replace("{measured}", measured)


def _given(result: MethodResult) -> bool:
    """Whether ``result`` is an image made by another tool (its time is not a method's)."""
    try:
        return get_method(result.method_id).family == "result"
    except ParameterError:  # a result of a method removed since
        return False


def _metric(name: str) -> Callable[[MethodResult], float | None]:
    return lambda result: None if result.metrics is None else getattr(result.metrics, name)


COLUMNS: tuple[MetricColumn, ...] = (
    # A region's row measures a crop of the result: the time is the whole result's, on its own row.
    MetricColumn("time_ms", "Time", False, lambda r: r.seconds * 1000.0 if r.ok and not _given(r) and r.region is None
                 else None,
                 "Time the method took to compute its result, in milliseconds (metrics not included; none for a "
                 "result image, which another tool made)."),
    MetricColumn("psnr", "PSNR", True, _metric("psnr"),
                 "Peak signal-to-noise ratio against the reference, in dB: 10 log10(peak\u00b2 / MSE), the peak "
                 "being 255, 65535 or 1 by the image's type (1 on the paper convention). Higher is better."),
    MetricColumn("ssim", "SSIM", True, _metric("ssim"),
                 "Structural similarity (Wang et al. 2004) against the reference, up to 1. Higher is better."),
    MetricColumn("mae", "MAE", False, _metric("mae"),
                 "Mean absolute error against the reference, {measured}. Lower is better."),
    MetricColumn("max_error", "Max error", False, _metric("max_abs"),
                 "Largest absolute error against the reference, {measured}. Lower is better."),
    MetricColumn("flip", "FLIP", False, lambda r: r.flip,
                 "Mean NVIDIA FLIP error against the reference, from 0 (no visible difference) to 1: how different "
                 "the two look when flipped back and forth at a normal viewing distance. Lower is better. Made when "
                 "the FLIP map is asked for."),
    MetricColumn("checkerboard", "Checkerboard", False, lambda r: r.checkerboard,
                 "Share of the result's spectral energy at the frequencies of the upsampling grid, beyond what the "
                 "reference has there, in percent: the periodic pattern of a transposed convolution with uneven "
                 "overlap scores tens of percent, interpolation about zero (negative: less than the reference). "
                 "No best is marked: below zero means blur, not a better method.", marks_best=False),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)


def metric_values(result: MethodResult) -> dict[str, float | None]:
    """The numbers of one result by column key (None where there is none)."""
    return {column.key: column.read(result) for column in COLUMNS}


@dataclass(frozen=True)
class TableRow:
    """One method's row: its ``title`` ("Bicubic (a=-0.5)", with "(reference)" for the
    reference method, and "\u2014 region 1 (x,y,w,h)" for a region's row), its numbers by
    column key, and why it has none (``reason``: it did not run; ``note``: it ran but was
    not measured). ``region`` is ``"x,y,w,h"`` of the region a row measures, ``""`` for
    the whole image; ``key`` tells rows apart (method, parameters, region)."""

    key: tuple[str, str, str]
    method_id: str
    title: str
    values: dict[str, float | None]
    reason: str | None
    note: str | None
    is_reference: bool
    region: str = ""


@dataclass(frozen=True)
class ResultTable:
    """The metrics of a comparison's results, in panel order."""

    rows: tuple[TableRow, ...]
    units: ErrorUnits | None

    def header(self, key: str) -> str:
        return _column(key).header(self.units)

    def tooltip(self, key: str) -> str:
        return _column(key).tooltip(self.units)

    def text(self, row: TableRow, key: str) -> str:
        """The cell as it is shown (see `format_metric`)."""
        return format_metric(key, row.values[key], self.units)

    def best(self, key: str) -> frozenset[tuple[str, str, str]]:
        """The keys of the rows holding the best value of column ``key`` (every tie),
        among the rows of the same region (the whole image, or one region) when at least
        two of them have one; the reference's row never counts."""
        column = _column(key)
        if not column.marks_best:
            return frozenset()
        best: set[tuple[str, str, str]] = set()
        for region in dict.fromkeys(row.region for row in self.rows):
            scored = [(value, row.key) for row in self.rows if row.region == region
                      and (value := row.values[key]) is not None and not (row.is_reference and key != "time_ms")]
            if len(scored) < 2:
                continue
            target = max(v for v, _ in scored) if column.higher_is_better else min(v for v, _ in scored)
            best.update(k for v, k in scored if v == target)
        return frozenset(best)

    def sort_value(self, row: TableRow, key: str) -> float | None:
        """A number that sorts the best first in ascending order (None: missing, last)."""
        value = row.values[key]
        if value is None:
            return None
        return -value if _column(key).higher_is_better else value


def result_table(
    results: Sequence[MethodResult], reference: str | None = None, regions: Sequence[Region] = ()
) -> ResultTable:
    """The table of ``results`` (in their order), with ``reference`` the method id the
    comparison measures against (None: the ground truth or no reference). A result
    measured on a region (`Comparison.measure_region`) is a row of its own, titled with
    the region: "region 2 (x,y,w,h)", numbered by its place in ``regions`` (the regions
    marked, in their order), unnumbered when it is not among them."""
    units = next(
        (ErrorUnits.of(r.metrics, r.image.dtype) for r in results if r.metrics is not None and r.image is not None), None
    )
    rows = []
    for result in results:
        is_reference = reference is not None and result.method_id == reference and not result.params
        title = method_title(result.method_id, result.params) + (" (reference)" if is_reference else "")
        if result.region is not None:
            title += f" \u2014 {region_label(result.region, regions)}"
        rows.append(
            TableRow((*result.key, result.region_text), result.method_id, title, metric_values(result), result.reason,
                     result.note, is_reference, result.region_text)
        )
    return ResultTable(tuple(rows), units)


def region_label(region: Region, regions: Sequence[Region] = ()) -> str:
    """``"region 2 (10,20,64,48)"``: the region's place among ``regions`` (from 1; left
    out when it is not among them) and its ``x,y,width,height``."""
    box = f"({region.x},{region.y},{region.width},{region.height})"
    number = next((index for index, r in enumerate(regions, start=1) if r == region), None)
    return f"region {number} {box}" if number is not None else f"region {box}"


def _column(key: str) -> MetricColumn:
    return COLUMNS[COLUMN_KEYS.index(key)]
