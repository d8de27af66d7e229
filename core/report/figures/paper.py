"""The figure super-resolution papers print: the reference with one or two regions
outlined, then the magnified crops of every method with the scores of each region."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw

from core.common.errors import ParameterError
from core.common.region import Region
from core.common.vocabulary import Convention
from core.comparison.comparison import Comparison
from core.comparison.results import MethodResult
from core.methods.naming import method_title
from core.metrics.measures import compute_metrics
from core.report.figures.drawing import Tile, _font, _magnify, _rgb, _text, wrapped
from core.report.figures.grid import reference_tile
from core.report.figures.layout import (
    _FRAME,
    REGION_COLOURS,
    Background,
    _paper_layout,
    _theme,
    line_height,
)
from core.report.format import format_metric


def paper_figure(
    comparison: Comparison,
    results: Sequence[MethodResult],
    regions: Sequence[Region],
    *,
    convention: Convention = "paper",
    background: Background = "light",
    magnification: int | None = None,
    columns: int | None = None,
    font_size: int = 15,
) -> np.ndarray:
    """The figure super-resolution papers print, as ``(H, W, 3)`` uint8 RGB.

    On top, the whole reference image with each of the one or two ``regions`` outlined
    in its colour (`REGION_COLOURS`). Under it, per region, the magnified crop of the
    reference and of every result, framed in the region's colour, with the method's
    name and the PSNR/SSIM of that region under each crop, measured with ``convention``
    (``"paper"``: luma; ``"all"``: every channel; no border is shaved from a region).
    Crops are magnified by ``magnification`` (None: up to `CROP_TARGET` pixels) and
    laid out ``columns`` to a row (None: up to seven, in rows of balanced length).
    """
    if not 1 <= len(regions) <= len(REGION_COLOURS):
        raise ParameterError(f"a paper figure needs one or two regions; got {len(regions)}")
    theme = _theme(background)
    font = _font(font_size)
    line = line_height(font_size)
    pad = max(8, font_size * 3 // 4)
    first = reference_tile(comparison)
    shape = first.pixels.shape
    titles = [method_title(r.method_id, r.params) for r in results]

    def title_lines(cell_width: int) -> int:
        return max(len(wrapped(title, font, cell_width, 3)) for title in [first.label, *titles])

    layout = _paper_layout(shape, regions, 1 + len(results), magnification, columns, font_size, title_lines)
    per_region, width, height, overview_w, overview_h = layout
    reference_crop = Tile(first.label, first.pixels, ("reference",))
    frame = _FRAME

    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = theme.background
    overview = _rgb(first.pixels)
    flag = cv2.INTER_AREA if overview_w < shape[1] else cv2.INTER_NEAREST
    ox = (width - overview_w) // 2
    canvas[pad:pad + overview_h, ox:ox + overview_w] = cv2.resize(overview, (overview_w, overview_h), interpolation=flag)
    picture = Image.fromarray(canvas)
    del canvas, overview  # the picture holds its own copy
    draw = ImageDraw.Draw(picture)
    factor = overview_w / shape[1]
    for colour, (region, *_) in zip(REGION_COLOURS, per_region):
        box = [
            ox + region.x * factor,
            pad + region.y * factor,
            ox + (region.x + region.width) * factor - 1,
            pad + (region.y + region.height) * factor - 1,
        ]
        draw.rectangle(box, outline=colour, width=max(2, overview_w // 300))
    y = pad + overview_h + pad
    _text(draw, (pad, y), _paper_caption(comparison, convention), font, theme.muted, width - 2 * pad)
    y += line
    for number, ((region, m, cols, rows, cell_w, cell_h), colour) in enumerate(zip(per_region, REGION_COLOURS), start=1):
        _text(
            draw,
            (pad, y + pad // 2),
            f"Region {number}: x {region.x}, y {region.y}, {region.width}x{region.height} pixels, shown x{m}",
            font,
            colour,
            width - 2 * pad,
        )
        y += line + pad
        grid_w = cols * cell_w + (cols + 1) * pad
        scores = [_paper_scores(comparison, r, convention, region) for r in results]
        crops = [reference_crop] + [Tile(t, r.image, (s,)) for t, r, s in zip(titles, results, scores)]  # type: ignore[arg-type]
        for index, crop in enumerate(crops):
            row, col = divmod(index, cols)
            cx = (width - grid_w) // 2 + pad + col * (cell_w + pad)
            cy = y + row * (cell_h + pad)
            tx = cx + (cell_w - region.width * m - 2 * frame) // 2
            draw.rectangle([tx, cy, tx + region.width * m + 2 * frame - 1, cy + region.height * m + 2 * frame - 1], fill=colour)
            inner = (tx + frame, cy + frame, tx + frame + region.width * m - 1, cy + frame + region.height * m - 1)
            if crop.pixels is not None and crop.pixels.shape[:2] == shape[:2]:
                block = _magnify(_rgb(region.take(crop.pixels), (region.y, region.x)), m)
                picture.paste(Image.fromarray(block), inner[:2])
            else:  # nothing to show: an empty frame, not a block of the region's colour
                draw.rectangle(list(inner), fill=theme.background)
                draw.line([inner[0], inner[1], inner[2], inner[3]], fill=theme.rule, width=1)
                draw.line([inner[0], inner[3], inner[2], inner[1]], fill=theme.rule, width=1)
            label_y = cy + region.height * m + 2 * frame + 2
            title = wrapped(crop.label, font, cell_w, 3)
            for number, text in enumerate(title):
                _text(draw, (cx, label_y + number * line), text, font, theme.text, cell_w, centre=True)
            _text(draw, (cx, label_y + len(title) * line), crop.lines[0] if crop.lines else "", font, theme.muted,
                  cell_w, centre=True)
        y += rows * (cell_h + pad)
    return np.array(picture)


def _paper_scores(comparison: Comparison, result: MethodResult, convention: Convention, region: Region) -> str:
    """PSNR / SSIM of ``region`` of ``result`` against the same rectangle of the
    reference, measured with ``convention`` (no border shaved from a region; SSIM "-"
    for a region under 11x11)."""
    if result.image is None:
        return "could not run"
    reference = comparison.reference
    if reference is None or reference.shape != result.image.shape:
        return "no reference"
    inside = region.within(reference.shape)
    metrics = compute_metrics(inside.take(reference), inside.take(result.image), convention=convention, shave=0)
    return f"{format_metric('psnr', metrics.psnr)} / {format_metric('ssim', metrics.ssim)}"


def _paper_caption(comparison: Comparison, convention: Convention) -> str:
    what = "luma" if convention == "paper" else "all channels"
    return f"PSNR (dB) / SSIM of each region against the same region of the {_reference_name(comparison)} ({what})"


def _reference_name(comparison: Comparison) -> str:
    if comparison.settings.reference is not None:
        return f"'{comparison.settings.reference}' result"
    return "ground truth" if comparison.ground_truth is not None else "reference"
