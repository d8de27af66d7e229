"""The evaluation's plot: mean PSNR against mean time per method, time on a log scale, one
picture per dataset (a point per method and scale, a legend of methods), drawn with the figures'
font so it needs nothing beyond Pillow."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.io.write import save_image
from core.report.evaluation.summary import SummaryRow
from core.report.figures.drawing import _font

WIDTH, HEIGHT, MARGIN = 1000, 600, 70
#: Where the plot's frame ends on the right; the legend of methods is beyond it.
PLOT_RIGHT = 720
#: Colours of the methods' points, in the summary's method order (repeating).
COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


def psnr_time_plot(summary: Sequence[SummaryRow], dataset: str) -> np.ndarray:
    """``(HEIGHT, WIDTH, 3)`` uint8: ``dataset``'s mean PSNR (y) against mean time in
    milliseconds (x, log scale): a point per method and scale, marked with its scale
    ("x2"), a method's points joined in scale order and named in the legend on the right."""
    points = [r for r in summary if r.dataset == dataset and r.means["psnr"] is not None and r.means["time_ms"]
              and math.isfinite(r.means["psnr"] or math.nan) and (r.means["time_ms"] or 0) > 0]
    picture = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    font = _font(13)
    left, top, right, bottom = MARGIN, 60, PLOT_RIGHT, HEIGHT - MARGIN
    draw.text((left, 12), f"{dataset}: mean PSNR against mean time per method", font=font, fill=(0, 0, 0))
    draw.rectangle([left, top, right, bottom], outline=(0, 0, 0))
    draw.text((left + (right - left) // 2 - 90, bottom + 35), "time per image (ms, log scale)", font=font,
              fill=(0, 0, 0))
    draw.text((8, top - 22), "PSNR (dB)", font=font, fill=(0, 0, 0))
    if not points:
        draw.text((left + 20, top + 20), "no measured rows", font=font, fill=(120, 120, 120))
        return np.asarray(picture)
    times = [math.log10(r.means["time_ms"] or 1.0) for r in points]
    psnrs = [r.means["psnr"] or 0.0 for r in points]
    x0, x1 = math.floor(min(times)), math.ceil(max(times) + 1e-9)
    y0, y1 = math.floor(min(psnrs)) - 1, math.ceil(max(psnrs)) + 1
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)

    def place(t: float, p: float) -> tuple[float, float]:
        return left + (t - x0) / (x1 - x0) * (right - left), bottom - (p - y0) / (y1 - y0) * (bottom - top)

    for decade in range(x0, x1 + 1):
        x, _ = place(decade, y0)
        draw.line([(x, bottom), (x, bottom + 5)], fill=(0, 0, 0))
        draw.text((x - 12, bottom + 8), f"{10.0 ** decade:g}", font=font, fill=(0, 0, 0))
    step = max(1, (y1 - y0) // 8)
    for value in range(y0, y1 + 1, step):
        _, y = place(x0, value)
        draw.line([(left - 5, y), (left, y)], fill=(0, 0, 0))
        draw.text((left - 40, y - 7), f"{value}", font=font, fill=(0, 0, 0))
    methods = list(dict.fromkeys(r.method for r in points))
    placed = [(row, place(t, p)) for row, t, p in zip(points, times, psnrs)]
    for index, method in enumerate(methods):
        colour = COLOURS[index % len(COLOURS)]
        series = sorted(((row.scale, xy) for row, xy in placed if row.method == method), key=lambda item: item[0])
        if len(series) > 1:
            draw.line([xy for _scale, xy in series], fill=colour, width=1)
        for scale, (x, y) in series:
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
            draw.text((x + 6, y - 7), f"x{scale:g}", font=font, fill=colour)
        label = next(row.label for row, _xy in placed if row.method == method)
        legend_y = top + 4 + 20 * index
        draw.ellipse([right + 20, legend_y + 3, right + 28, legend_y + 11], fill=colour)
        draw.text((right + 34, legend_y), label, font=font, fill=(0, 0, 0))
    return np.asarray(picture)


def write_plots(folder: Path, summary: Sequence[SummaryRow]) -> list[Path]:
    """One ``psnr-time-DATASET.png`` per dataset of ``summary`` in ``folder``; the plots
    of datasets no longer evaluated there (an earlier run's, one replaced) are removed."""
    written = []
    for dataset in dict.fromkeys(r.dataset for r in summary):
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in dataset)
        written.append(save_image(folder / f"psnr-time-{safe}.png", psnr_time_plot(summary, dataset)))
    for stale in folder.glob("psnr-time-*.png"):
        if stale not in written:
            stale.unlink(missing_ok=True)
    return written
