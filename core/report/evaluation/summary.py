"""The tables an evaluation writes: its rows as CSV, and the summary (the mean of each
metric per dataset, scale and method, the best of each column marked) as Markdown,
LaTeX (booktabs) and CSV, each with the protocol above it (docs/METHODS.md#evaluation).
"""

from __future__ import annotations

import csv
import io
import math
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.io.write import write_text
from core.report.evaluation.store import COLUMNS

#: The columns of the summary: mean PSNR and SSIM (higher is better) and mean time
#: (lower is better), with how many images each mean is over.
SUMMARY_COLUMNS = (("psnr", "PSNR (dB)", max), ("ssim", "SSIM", max), ("time_ms", "Time (ms)", min))


@dataclass(frozen=True)
class SummaryRow:
    """The means of one method on one dataset at one scale; ``images`` counts the rows
    each mean is over (rows without the metric, a method that could not run, are left
    out and counted in ``missing``)."""

    dataset: str
    scale: float
    method: str
    label: str
    means: dict[str, float | None]
    images: int
    missing: int


def summarise(rows: Iterable[Mapping[str, Any]], methods: Sequence[str] = ()) -> list[SummaryRow]:
    """The mean of each summary column per (dataset, scale, method): datasets and scales
    in the order the rows come, methods in the order of ``methods`` (their keys; others
    after them as first seen). A PSNR of infinity (identical images) makes its mean
    infinite, as it should."""
    groups: dict[tuple[str, float, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["dataset"], float(row["scale"]), row["method"]), []).append(row)
    summary = []
    for (dataset, scale, method), members in groups.items():
        means: dict[str, float | None] = {}
        for key, _title, _best in SUMMARY_COLUMNS:
            values = [float(r[key]) for r in members if r.get(key) is not None]
            means[key] = math.fsum(values) / len(values) if values and all(math.isfinite(v) for v in values) else (
                math.inf if values else None)
        counted = sum(1 for r in members if r.get("psnr") is not None)
        summary.append(SummaryRow(dataset, scale, method, str(members[0].get("label") or method), means, counted,
                                  len(members) - counted))
    datasets = list(dict.fromkeys(r.dataset for r in summary))
    rank = {key: index for index, key in enumerate(methods)}
    seen = list(dict.fromkeys(r.method for r in summary))
    return sorted(summary, key=lambda r: (datasets.index(r.dataset), r.scale,
                                          rank.get(r.method, len(rank) + seen.index(r.method))))


def not_measured(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """What ``rows`` could not measure, and why, for a person to read: an image none of
    whose methods ran (unreadable, too small for a scale) as ``("photos/x.png at x2, x4",
    why)``; a method that could not run on some images (a model at a scale it was not
    trained for) as ``("ESPCN (learned) at x3 on 9 images", why)``."""
    units: dict[tuple[str, str, float], list[Mapping[str, Any]]] = {}
    for row in rows:
        units.setdefault((row["dataset"], row["image"], float(row["scale"])), []).append(row)
    images: dict[tuple[str, str], list[float]] = {}
    methods: dict[tuple[str, str], tuple[set[str], list[float]]] = {}
    for (dataset, image, scale), members in units.items():
        reasons = {row.get("reason") for row in members}
        if len(reasons) == 1 and None not in reasons and all(row.get("psnr") is None for row in members):
            images.setdefault((f"{dataset}/{image}", str(reasons.pop())), []).append(scale)
            continue
        for row in members:
            if row.get("reason") and row.get("psnr") is None:
                names, scales = methods.setdefault((str(row.get("label") or row["method"]), str(row["reason"])),
                                                   (set(), []))
                names.add(f"{dataset}/{image}")
                if scale not in scales:
                    scales.append(scale)
    found = [(f"{name} at {_scales_text(scales)}", why) for (name, why), scales in images.items()]
    for (label, why), (names, scales) in methods.items():
        where = next(iter(names)) if len(names) == 1 else f"{len(names)} images"
        found.append((f"{label} at {_scales_text(scales)} on {where}", why))
    return found


def _scales_text(scales: Iterable[float]) -> str:
    return ", ".join(f"x{scale:g}" for scale in sorted(scales))


def best_keys(summary: Sequence[SummaryRow]) -> set[tuple[str, float, str, str]]:
    """``(dataset, scale, method, column)`` of each best value, per dataset and scale (ties all)."""
    best = set()
    for dataset, scale in {(r.dataset, r.scale) for r in summary}:
        block = [r for r in summary if (r.dataset, r.scale) == (dataset, scale)]
        for key, _title, choose in SUMMARY_COLUMNS:
            values = [r.means[key] for r in block if r.means[key] is not None]
            if not values:
                continue
            target = choose(v for v in values if v is not None)
            best |= {(dataset, scale, r.method, key) for r in block if r.means[key] == target}
    return best


def protocol_lines(settings: Mapping[str, Any], versions: Mapping[str, str] | None = None) -> list[str]:
    """What a reader needs to reproduce the numbers, one sentence per line."""
    convention = settings.get("convention", "paper")
    if convention == "paper":
        measured = ("luma only: Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255 from RGB in [0, 1] (BT.601 studio "
                    "range, as MATLAB's rgb2ycbcr) of colour images, the one channel in [0, 1] of grey ones, alpha "
                    "ignored; a border of ceil(scale) pixels shaved from each side, PSNR with peak 1")
    else:
        measured = ("every channel (alpha too) in the image's own units, nothing shaved, PSNR with the dtype's peak "
                    "(255 for 8 bits, 65535 for 16)")
    versions = versions or software_versions()
    return [
        f"Degradation: each image cropped to a multiple of the scale, then reduced by `{settings.get('downsampler')}`.",
        f"Metrics: {measured}; SSIM with an 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03.",
        "Dtype path: each image read as stored (8 or 16 bits, or float), methods computed in float32 or float64 "
        "and rounded half to even to the image's own dtype before they are measured; metrics in float64.",
        "Time: the method's own run, in milliseconds, on the CPU of the process that ran it (a local worker "
        "process or a Dask worker, each running one image at a time, OpenCV at one thread), unless a model "
        "method ran on a GPU.",
        "Software: " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".",
    ]


def software_versions() -> dict[str, str]:
    import cv2
    import numpy

    from core.report.evaluation.run import upscope_version

    return {"Upscope": upscope_version(), "Python": platform.python_version(), "NumPy": numpy.__version__,
            "OpenCV": cv2.__version__}


def _number(key: str, value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.4f}" if key == "ssim" else f"{value:.2f}"


def summary_markdown(summary: Sequence[SummaryRow], protocol: Sequence[str]) -> str:
    """The summary as Markdown: the protocol, then a table per dataset, best values bold."""
    best = best_keys(summary)
    lines = ["# Evaluation", "", *[f"- {line}" for line in protocol], ""]
    for dataset in dict.fromkeys(r.dataset for r in summary):
        lines += [f"## {dataset}", "", "| scale | method | " + " | ".join(t for _k, t, _b in SUMMARY_COLUMNS) + " | images |",
                  "|---:|---|" + "---:|" * (len(SUMMARY_COLUMNS) + 1)]
        for row in (r for r in summary if r.dataset == dataset):
            cells = []
            for key, _title, _best in SUMMARY_COLUMNS:
                text = _number(key, row.means[key])
                cells.append(f"**{text}**" if (row.dataset, row.scale, row.method, key) in best else text)
            lines.append(f"| x{row.scale:g} | {row.label} | " + " | ".join(cells) + f" | {_images_text(row)} |")
        lines.append("")
    return "\n".join(lines)


def _images_text(row: SummaryRow) -> str:
    """How many images a mean is over: ``"9"``, or ``"8 of 9"`` when some were not measured."""
    return f"{row.images} of {row.images + row.missing}" if row.missing else str(row.images)


def _latex(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                          ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
        text = text.replace(char, escaped)
    return text


def summary_latex(summary: Sequence[SummaryRow], protocol: Sequence[str]) -> str:
    """The summary as a LaTeX table (booktabs), a block per dataset, best values bold; the
    protocol as comments above it."""
    best = best_keys(summary)
    out = [f"% {line}" for line in protocol]
    out += [r"\begin{tabular}{rl" + "r" * len(SUMMARY_COLUMNS) + "}", r"\toprule",
            "Scale & Method & " + " & ".join(_latex(t) for _k, t, _b in SUMMARY_COLUMNS) + r" \\"]
    for dataset in dict.fromkeys(r.dataset for r in summary):
        out += [r"\midrule", rf"\multicolumn{{{2 + len(SUMMARY_COLUMNS)}}}{{l}}{{\textit{{{_latex(dataset)}}}}} \\"]
        for row in (r for r in summary if r.dataset == dataset):
            cells = []
            for key, _title, _best in SUMMARY_COLUMNS:
                text = _latex(_number(key, row.means[key]))
                cells.append(rf"\textbf{{{text}}}" if (row.dataset, row.scale, row.method, key) in best else text)
            missing = f" % {_images_text(row)} images measured" if row.missing else ""
            out.append(rf"$\times${row.scale:g} & {_latex(row.label)} & " + " & ".join(cells) + r" \\" + missing)
    out += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(out)


def summary_csv(summary: Sequence[SummaryRow]) -> str:
    """The summary as CSV: one line per (dataset, scale, method), a ``best`` column naming
    the columns where it is best."""
    best = best_keys(summary)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["dataset", "scale", "method", "label", *[k for k, _t, _b in SUMMARY_COLUMNS], "images", "missing",
                     "best"])
    for row in summary:
        marked = " ".join(k for k, _t, _b in SUMMARY_COLUMNS if (row.dataset, row.scale, row.method, k) in best)
        writer.writerow([row.dataset, row.scale, row.method, row.label,
                         *["" if row.means[k] is None else repr(row.means[k]) for k, _t, _b in SUMMARY_COLUMNS],
                         row.images, row.missing, marked])
    return buffer.getvalue()


def rows_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Every stored row as CSV, with the store's columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else (repr(row[c]) if isinstance(row[c], float) else row[c])
                         for c in COLUMNS])
    return buffer.getvalue()


def write_tables(folder: str | Path, rows: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]) -> list[Path]:
    """Write ``rows.csv``, ``summary.md``, ``summary.tex``, ``summary.csv`` and a PSNR
    against time plot per dataset (``psnr-time-DATASET.png``) into ``folder``, each
    atomically (complete or absent); returns their paths."""
    folder = Path(folder)
    summary = summarise(rows, settings.get("methods", ()))
    protocol = protocol_lines(settings)
    from core.report.evaluation.plot import write_plots

    return [
        write_text(folder / "rows.csv", rows_csv(rows)),
        write_text(folder / "summary.md", summary_markdown(summary, protocol)),
        write_text(folder / "summary.tex", summary_latex(summary, protocol)),
        write_text(folder / "summary.csv", summary_csv(summary)),
        *write_plots(folder, summary),
    ]
