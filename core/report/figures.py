"""Comparison figures as RGB arrays: the grid a viewer shows, and the paper figure.

Both are drawn with NumPy (pixels) and Pillow (typeset text, with the scalable font that
ships inside Pillow), so the command line makes exactly the figure the app makes, with no
display. Image tiles are never resampled smoothly: a tile is the result's own pixels,
repeated ``magnification`` times along each axis, so a figure can be checked pixel by
pixel against the arrays it shows.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.backends.run import upsample
from core.common.errors import ParameterError
from core.common.limits import limits
from core.common.region import Region
from core.common.vocabulary import Convention, DiffKind
from core.comparison.comparison import Comparison
from core.comparison.results import MethodResult
from core.comparison.settings import paper_shave
from core.display.colour import DifferenceDisplay, colorize_difference, colormap_lut
from core.display.screen import to_display
from core.metrics.measures import Metrics, compute_metrics
from core.report.format import INFINITY, format_metric, image_units
from core.report.table import COLUMN_KEYS, result_table

Background = Literal["light", "dark"]

#: Outline colours of the first and second region of interest (RGB).
REGION_COLOURS = ((228, 26, 28), (55, 126, 184))

#: A tile is magnified (by a whole number) until its longer side reaches this many pixels.
TILE_TARGET = 320
#: The same for the crops of a paper figure.
CROP_TARGET = 200
#: Label strips are at least this wide, so short crops still get readable labels.
MIN_CELL_WIDTH = 180


@dataclass(frozen=True)
class Theme:
    background: tuple[int, int, int]
    text: tuple[int, int, int]
    muted: tuple[int, int, int]
    rule: tuple[int, int, int]
    best: tuple[int, int, int]


THEMES = {
    "light": Theme((255, 255, 255), (20, 20, 20), (90, 90, 90), (200, 200, 200), (205, 235, 205)),
    "dark": Theme((30, 30, 32), (236, 236, 236), (170, 170, 170), (80, 80, 84), (38, 84, 48)),
}


@dataclass(frozen=True)
class GridOptions:
    """What a comparison grid export contains.

    Attributes
    ----------
    crop:
        None for the whole image, or the `Region` of the output grid to show (the
        viewer's current view).
    magnification:
        Whole-number nearest-neighbour magnification of every tile; None picks the
        largest one that keeps a tile's longer side within `TILE_TARGET` (at least 1).
    columns:
        Tiles per row; None picks a near-square grid.
    include_diff:
        Add a second grid: each method's difference from the reference, coloured, with a
        colour bar (in image units) in the reference's place.
    include_metrics:
        Add the metrics table (time, PSNR, SSIM, MAE, max error; best values marked).
    background:
        ``"light"`` or ``"dark"``.
    diff_kind, diff_gain, diff_colormap:
        How difference maps are computed and coloured (see `colorize_difference`).
    font_size:
        Text height in pixels.
    """

    crop: Region | None = None
    magnification: int | None = None
    columns: int | None = None
    include_diff: bool = False
    include_metrics: bool = False
    background: Background = "light"
    diff_kind: DiffKind = "abs"
    diff_gain: float = 1.0
    diff_colormap: str | None = None
    font_size: int = 15


@dataclass(frozen=True)
class GridLayout:
    """Where everything of a grid export lies, in pixels of the figure.

    Tile ``i`` of section ``s`` (0: images, 1: differences) has its top-left corner at
    `tile_origin`; its size is ``tile_height x tile_width``. The figure is

    - width ``max(columns * cell_width + (columns + 1) * pad, table_width + 2 * pad)``,
      with ``cell_width = max(tile_width, MIN_CELL_WIDTH)``;
    - height ``header_height + pad + sections * rows * (tile_height + label_height + pad)``
      ``+ (table_height + pad if a table)``.
    """

    columns: int
    rows: int
    sections: int
    magnification: int
    tile_height: int
    tile_width: int
    cell_width: int
    pad: int
    header_height: int
    label_height: int
    table_height: int
    table_width: int
    width: int
    height: int

    @property
    def grid_width(self) -> int:
        return self.columns * self.cell_width + (self.columns + 1) * self.pad

    @property
    def section_height(self) -> int:
        return self.rows * (self.tile_height + self.label_height + self.pad)

    def cell_origin(self, index: int, section: int = 0) -> tuple[int, int]:
        """``(y, x)`` of the top-left corner of cell ``index`` (tile and label strip)."""
        row, col = divmod(index, self.columns)
        x = (self.width - self.grid_width) // 2 + self.pad + col * (self.cell_width + self.pad)
        y = self.header_height + self.pad + section * self.section_height
        return y + row * (self.tile_height + self.label_height + self.pad), x

    def tile_origin(self, index: int, section: int = 0) -> tuple[int, int]:
        """``(y, x)`` of the top-left pixel of tile ``index`` of ``section``."""
        y, x = self.cell_origin(index, section)
        return y, x + (self.cell_width - self.tile_width) // 2

    @property
    def table_top(self) -> int:
        return self.header_height + self.pad + self.sections * self.section_height


def auto_magnification(height: int, width: int, target: int = TILE_TARGET) -> int:
    """The largest whole number ``m >= 1`` with ``m * max(height, width) <= target``."""
    return max(1, target // max(height, width, 1))


def grid_columns(count: int) -> int:
    """Columns of a near-square grid of ``count`` tiles (``ceil(sqrt(count))``)."""
    return max(1, math.ceil(math.sqrt(count)))


def line_height(font_size: int) -> int:
    return round(font_size * 1.35)


def grid_layout(count: int, shape: Sequence[int], options: GridOptions, table_width: int = 0) -> GridLayout:
    """The layout of a grid of ``count`` tiles showing ``shape`` ``(H, W)`` pixels each."""
    magnification = options.magnification or auto_magnification(shape[0], shape[1])
    if magnification < 1 or magnification != int(magnification):
        raise ParameterError(f"magnification must be a whole number of at least 1; got {options.magnification!r}")
    columns = options.columns or grid_columns(count)
    if columns < 1:
        raise ParameterError(f"columns must be at least 1; got {options.columns!r}")
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    line = line_height(options.font_size)
    pad = max(8, options.font_size * 3 // 4)
    tile_h, tile_w = shape[0] * magnification, shape[1] * magnification
    cell_w = max(tile_w, MIN_CELL_WIDTH)
    sections = 2 if options.include_diff else 1
    table_h = count * (line + 6) if options.include_metrics else 0  # a header and a row per method
    header_h = pad + line
    label_h = 3 * line + 4
    grid_w = columns * cell_w + (columns + 1) * pad
    width = max(grid_w, table_width + 2 * pad if options.include_metrics else 0)
    height = header_h + pad + sections * rows * (tile_h + label_h + pad) + (table_h + pad if table_h else 0)
    return GridLayout(
        columns, rows, sections, int(magnification), tile_h, tile_w, cell_w, pad, header_h, label_h,
        table_h, table_width, width, height,
    )


@dataclass(frozen=True)
class Tile:
    """One panel of a figure: a label, the pixels, lines of text under it."""

    label: str
    pixels: np.ndarray
    lines: tuple[str, ...] = ()


def reference_tile(comparison: Comparison) -> Tile:
    """The first panel: the ground truth (degrade mode) or the original on the output
    pixel grid (upscale mode, repeated by nearest neighbour as the viewer shows it)."""
    if comparison.ground_truth is not None:
        return Tile("Ground truth", comparison.ground_truth, (_shape_text(comparison.ground_truth),))
    shown = upsample(comparison.input, "nearest", size=comparison.output_size)
    return Tile("Original", shown, (f"{_shape_text(comparison.input)} input, drawn on the output grid",))


def comparison_figure(
    comparison: Comparison,
    results: Sequence[MethodResult],
    options: GridOptions = GridOptions(),
    *,
    title: str = "",
) -> np.ndarray:
    """The comparison grid as one ``(H, W, 3)`` uint8 RGB image.

    The reference tile (see `reference_tile`) and one tile per result in order, each
    labelled with the method's name, PSNR/SSIM and time; a method that could not run
    shows its reason on an empty tile. Options add the difference grid and the metrics
    table (`GridOptions`); `grid_layout` gives the exact size. The heading line gives
    the mode, scale and extent, after ``title`` (an image name, say).

    Raises `ParameterError` when the crop lies outside the image or the figure would
    exceed ``core.limits.max_output_pixels``.
    """
    theme = _theme(options.background)
    first = reference_tile(comparison)
    region = (options.crop or Region(0, 0, first.pixels.shape[1], first.pixels.shape[0])).within(first.pixels.shape, "crop")
    tiles = [first] + [_result_tile(r) for r in results]
    font = _font(options.font_size)
    table = _metrics_table(comparison, results, font) if options.include_metrics else None
    layout = grid_layout(len(tiles), (region.height, region.width), options, table.width if table else 0)
    _check_size(layout.height, layout.width)

    canvas = np.empty((layout.height, layout.width, 3), np.uint8)
    canvas[:] = theme.background
    for index, tile in enumerate(tiles):
        _paste(canvas, layout.tile_origin(index), tile.pixels, region, layout.magnification)
    diffs: list[DifferenceDisplay | None] = []
    if options.include_diff:
        whole_crop = Region(0, 0, region.width, region.height)
        for index, result in enumerate(results, start=1):
            shown = _coloured_difference(comparison, result, options, region)
            diffs.append(shown)
            if shown is not None:
                _paste(canvas, layout.tile_origin(index, 1), shown.rgb, whole_crop, layout.magnification)

    picture = Image.fromarray(canvas)
    del canvas  # the picture holds its own copy
    draw = ImageDraw.Draw(picture)
    heading = "; ".join(t for t in (title, _default_title(comparison, region)) if t)
    _text(draw, (layout.pad, layout.pad // 2), heading, font, theme.text, layout.width - 2 * layout.pad)
    for index, tile in enumerate(tiles):
        _label(draw, layout, index, 0, tile, font, theme)
    if options.include_diff:
        _colour_bar(draw, layout, comparison, options, diffs, font, theme)
        for index, (result, shown) in enumerate(zip(results, diffs), start=1):
            _label(draw, layout, index, 1, _difference_tile(result, shown, options), font, theme)
    if table is not None:
        table.draw(draw, ((layout.width - table.width) // 2, layout.table_top), theme)
    return np.array(picture)


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
    name and its whole-image PSNR/SSIM under each crop, measured with ``convention``
    (``"paper"``: luma, border of ``ceil(scale)`` shaved; ``"all"``: every channel).
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
    layout = _paper_layout(shape, regions, 1 + len(results), magnification, columns, font_size)
    per_region, width, height, overview_w, overview_h = layout
    scores = [_paper_scores(comparison, r, convention) for r in results]
    crops = [Tile(first.label, first.pixels, ("reference",))]
    crops += [Tile(r.label, r.image, (score,)) for r, score in zip(results, scores)]  # type: ignore[arg-type]
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
        box = [ox + region.x * factor, pad + region.y * factor, ox + (region.x + region.width) * factor - 1, pad + (region.y + region.height) * factor - 1]
        draw.rectangle(box, outline=colour, width=max(2, overview_w // 300))
    y = pad + overview_h + pad
    _text(draw, (pad, y), _paper_caption(comparison, convention), font, theme.muted, width - 2 * pad)
    y += line
    for number, ((region, m, cols, rows, cell_w, cell_h), colour) in enumerate(zip(per_region, REGION_COLOURS), start=1):
        _text(draw, (pad, y + pad // 2), f"Region {number}: x {region.x}, y {region.y}, {region.width}x{region.height} pixels, shown x{m}", font, colour, width - 2 * pad)
        y += line + pad
        grid_w = cols * cell_w + (cols + 1) * pad
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
            _text(draw, (cx, label_y), crop.label, font, theme.text, cell_w, centre=True)
            _text(draw, (cx, label_y + line), crop.lines[0] if crop.lines else "", font, theme.muted, cell_w, centre=True)
        y += rows * (cell_h + pad)
    return np.array(picture)


_FRAME = 3  # pixels of the coloured frame around a crop of a paper figure


def _paper_layout(
    shape: Sequence[int], regions: Sequence[Region], count: int, magnification: int | None, columns: int | None,
    font_size: int,
) -> tuple[list[tuple[Region, int, int, int, int, int]], int, int, int, int]:
    """Where a paper figure of ``count`` crops of an image of ``shape`` puts things:
    per region ``(region, magnification, columns, rows, cell width, cell height)``, then
    the figure's width and height and the overview's width and height. Raises
    `ParameterError` when a region lies outside the image or the figure would be over
    the output limit."""
    line = line_height(font_size)
    pad = max(8, font_size * 3 // 4)
    regions = [r.within(shape, f"region {i + 1}") for i, r in enumerate(regions)]
    per_region = []
    for region in regions:
        m = magnification or auto_magnification(region.height, region.width, CROP_TARGET)
        if m < 1 or m != int(m):
            raise ParameterError(f"magnification must be a whole number of at least 1; got {magnification!r}")
        cols = min(columns or math.ceil(count / math.ceil(count / 7)), count)
        if cols < 1:
            raise ParameterError(f"columns must be at least 1; got {columns!r}")
        cell_w = max(region.width * m + 2 * _FRAME, MIN_CELL_WIDTH)
        cell_h = region.height * m + 2 * _FRAME + 2 * line + 4
        rows = math.ceil(count / cols)
        per_region.append((region, m, cols, rows, cell_w, cell_h))
    crops_width = max(cols * cell_w + (cols + 1) * pad for _, _, cols, _, cell_w, _ in per_region)
    # As wide as the crops below, but no taller than 640 pixels (nor wider than 1400).
    overview_w = max(min(crops_width - 2 * pad, round(640 * shape[1] / shape[0]), 1400), 320)
    overview_h = max(1, round(shape[0] * overview_w / shape[1]))
    width = max(crops_width, overview_w + 2 * pad)
    height = pad + overview_h + pad + line + sum(line + pad + rows * (cell_h + pad) for *_, rows, _, cell_h in per_region) + pad
    _check_size(height, width)
    return per_region, width, height, overview_w, overview_h


def check_figure(
    comparison: Comparison, options: GridOptions = GridOptions(), regions: Sequence[Region] = ()
) -> None:
    """Refuse, before any method runs, a figure of ``comparison`` that could not be
    drawn: a crop or region outside the results, a bad magnification or column count,
    or a figure over ``core.limits.max_output_pixels`` (a whole 96-megapixel image in a
    grid of ten tiles, say). ``regions`` non-empty means a paper figure (which takes its
    magnification, columns and font size from ``options``), else a comparison grid."""
    count = 1 + len(comparison.choices)
    shape = tuple(comparison.output_size)
    if regions:
        if not 1 <= len(regions) <= len(REGION_COLOURS):
            raise ParameterError(f"a paper figure needs one or two regions; got {len(regions)}")
        _paper_layout(shape, regions, count, options.magnification, options.columns, options.font_size)
        return
    region = (options.crop or Region(0, 0, shape[1], shape[0])).within(shape, "crop")
    layout = grid_layout(count, (region.height, region.width), options)
    _check_size(layout.height, layout.width)


def _paper_scores(comparison: Comparison, result: MethodResult, convention: Convention) -> str:
    if result.image is None:
        return "could not run"
    reference = comparison.reference
    if reference is None or reference.shape != result.image.shape:
        return "no reference"
    metrics = result.metrics
    if metrics is None or metrics.convention != convention:
        shave = paper_shave(comparison.scale) if convention == "paper" else 0
        metrics = compute_metrics(reference, result.image, convention=convention, shave=shave)
    return f"{format_metric('psnr', metrics.psnr)} / {format_metric('ssim', metrics.ssim)}"


def _paper_caption(comparison: Comparison, convention: Convention) -> str:
    what = "luma, border shaved" if convention == "paper" else "all channels"
    return f"PSNR (dB) / SSIM of the whole image against the {_reference_name(comparison)} ({what})"


def _reference_name(comparison: Comparison) -> str:
    if comparison.settings.reference is not None:
        return f"'{comparison.settings.reference}' result"
    return "ground truth" if comparison.ground_truth is not None else "reference"


def _result_tile(result: MethodResult) -> Tile:
    if result.image is None:
        return Tile(result.label, None, ("could not run:", result.reason or ""))  # type: ignore[arg-type]
    lines = [_metrics_line(result.metrics), f"{format_metric('time_ms', result.seconds * 1000)} ms"]
    return Tile(result.label, result.image, tuple(lines))


def _metrics_line(metrics: Metrics | None) -> str:
    if metrics is None:
        return "no reference"
    ssim = "" if metrics.ssim is None else f"   SSIM {format_metric('ssim', metrics.ssim)}"
    return f"PSNR {format_metric('psnr', metrics.psnr)} dB{ssim}"


def _difference_tile(result: MethodResult, shown: DifferenceDisplay | None, options: GridOptions) -> Tile:
    if shown is None:
        return Tile(result.label, None, ("no difference map",))  # type: ignore[arg-type]
    metrics = result.metrics
    detail = "" if metrics is None else f"MAE {metrics.mae:.3g}   max {metrics.max_abs:.3g}"
    return Tile(f"{result.label}: {options.diff_kind} difference", None, (detail,))  # type: ignore[arg-type]


def _coloured_difference(
    comparison: Comparison, result: MethodResult, options: GridOptions, region: Region
) -> DifferenceDisplay | None:
    """The coloured difference of ``region`` only (a pixel's colour depends on that
    pixel alone), so a crop of a large image costs the crop's memory."""
    values = comparison.difference(result, kind=options.diff_kind, crop=region)
    if values is None:
        return None
    dtype = result.image.dtype if result.image is not None else np.uint8
    return colorize_difference(values, options.diff_kind, dtype, gain=options.diff_gain, colormap=options.diff_colormap)


def _colour_bar(draw, layout: GridLayout, comparison: Comparison, options: GridOptions, diffs, font, theme: Theme) -> None:  # noqa: ANN001
    """The colour bar in the reference's place of the difference grid, labelled in
    the images' units."""
    shown = next((d for d in diffs if d is not None), None)
    y, x = layout.tile_origin(0, 1)
    if shown is None:
        return
    line = line_height(options.font_size)
    bar_h = max(layout.tile_height - line, 16)
    bar_w = max(12, min(28, layout.cell_width // 10))
    lut = colormap_lut(shown.colormap)  # type: ignore[arg-type]
    top = y + line // 2
    for row in range(bar_h):
        colour = tuple(int(c) for c in lut[round(255 * (1 - row / max(bar_h - 1, 1)))])
        draw.line([(x, top + row), (x + bar_w - 1, top + row)], fill=colour)
    for fraction, value in ((0.0, shown.high), (0.5, (shown.high + shown.low) / 2), (1.0, shown.low)):
        ty = top + round(fraction * (bar_h - 1)) - line // 2
        draw.line([(x + bar_w, ty + line // 2), (x + bar_w + 4, ty + line // 2)], fill=theme.text)
        _text(draw, (x + bar_w + 8, ty), f"{value:.4g}", font, theme.text, layout.cell_width - bar_w - 8)
    units = image_units(comparison.reference.dtype if comparison.reference is not None else np.dtype(np.uint8))
    squared = " squared" if options.diff_kind == "squared" else ""
    tile = Tile("Colour scale", None, (f"{options.diff_kind} difference, gain x{options.diff_gain:g}", f"in{squared} {units}"))  # type: ignore[arg-type]
    _label(draw, layout, 0, 1, tile, font, theme)


@dataclass(frozen=True)
class _Table:
    rows: list[list[str]]
    best: list[set[int]]  # per row, the column indices holding a best value
    widths: list[int]
    line: int

    @property
    def width(self) -> int:
        return sum(self.widths)

    def draw(self, draw, origin: tuple[int, int], theme: Theme) -> None:  # noqa: ANN001
        font = _font(round(self.line / 1.35))
        x0, y0 = origin
        step = self.line + 6
        draw.line([(x0, y0 + step - 2), (x0 + self.width, y0 + step - 2)], fill=theme.rule)
        for r, row in enumerate(self.rows):
            x = x0
            for c, (cell, w) in enumerate(zip(row, self.widths)):
                if c in self.best[r]:
                    draw.rectangle([x + 2, y0 + r * step, x + w - 6, y0 + r * step + step - 4], fill=theme.best)
                colour = theme.muted if r == 0 else theme.text
                align_right = c > 0
                cell = _drawable(cell)
                tx = x + w - 12 - font.getlength(cell) if align_right else x + 4
                draw.text((tx, y0 + r * step + 2), cell, font=font, fill=colour)
                x += w


def _metrics_table(comparison: Comparison, results: Sequence[MethodResult], font) -> _Table:  # noqa: ANN001
    """The figure's table, drawn from the one metrics-table model (`result_table`)."""
    table = result_table(results, comparison.settings.reference)
    rows = [["Method"] + [table.header(key) for key in COLUMN_KEYS]]
    best: list[set[int]] = [set()]
    marked = {key: table.best(key) for key in COLUMN_KEYS}
    for row in table.rows:
        rows.append([row.title] + [table.text(row, key) for key in COLUMN_KEYS])
        best.append({c for c, key in enumerate(COLUMN_KEYS, start=1) if row.key in marked[key]})
    widths = [int(max(font.getlength(_drawable(row[c])) for row in rows)) + 24 for c in range(len(rows[0]))]
    return _Table(rows, best, widths, line_height(font.size))


def _label(draw, layout: GridLayout, index: int, section: int, tile: Tile, font, theme: Theme) -> None:  # noqa: ANN001
    y, x = layout.cell_origin(index, section)
    y += layout.tile_height + 2
    line = line_height(font.size)
    _text(draw, (x, y), tile.label, font, theme.text, layout.cell_width, centre=True)
    for number, text in enumerate(tile.lines[:2], start=1):
        _text(draw, (x, y + number * line), text, font, theme.muted, layout.cell_width, centre=True)


#: Characters the bundled font has no glyph for, and what is drawn instead.
_FALLBACK_GLYPHS = {INFINITY: "inf"}


def _drawable(text: str) -> str:
    """``text`` with the characters the figure's font cannot draw spelled out."""
    for character, spelled in _FALLBACK_GLYPHS.items():
        text = text.replace(character, spelled)
    return text


def _text(draw, origin: tuple[float, float], text: str, font, fill, width: float, *, centre: bool = False) -> None:  # noqa: ANN001
    """Draw one line of ``text``, shortened with an ellipsis to fit ``width`` pixels."""
    text = _drawable(text)
    if not text or width <= 0:
        return
    if font.getlength(text) > width:
        while text and font.getlength(text + "...") > width:
            text = text[:-1]
        text += "..."
    x, y = origin
    if centre:
        x += (width - font.getlength(text)) / 2
    draw.text((x, y), text, font=font, fill=fill)


def _paste(canvas: np.ndarray, origin: tuple[int, int], pixels: np.ndarray | None, region: Region, m: int) -> None:
    """Put ``region`` of ``pixels``, magnified ``m`` times, at ``origin`` ``(y, x)``. A
    result of another size than the reference shows what of the region it has."""
    if pixels is None:
        return
    try:
        region = region.within(pixels.shape)
    except ParameterError:
        return
    block = _magnify(_rgb(region.take(pixels), (region.y, region.x)), m)
    y, x = origin
    canvas[y:y + block.shape[0], x:x + block.shape[1]] = block


def _magnify(block: np.ndarray, m: int) -> np.ndarray:
    """Each pixel as an ``m x m`` square (nearest neighbour)."""
    if m == 1:
        return block
    return np.repeat(np.repeat(block, m, axis=0), m, axis=1)


def _rgb(image: np.ndarray, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """8-bit RGB of an image as a screen shows it (`to_display`, transparent pixels over
    the same checkerboard as the viewer; ``origin`` is the ``(y, x)`` of ``image``'s
    first pixel in the whole image, so a crop's checkerboard lines up); grey is repeated
    over three channels."""
    shown = to_display(image, origin=origin)
    if shown.ndim == 2:
        return np.repeat(shown[:, :, None], 3, axis=2)
    return shown[:, :, :3]


def _shape_text(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


def _default_title(comparison: Comparison, region: Region) -> str:
    settings = comparison.settings
    sy, sx = comparison.scale
    scale = f"x{sy:g}" if sy == sx else f"x{sy:g} (y) x{sx:g} (x)"
    if settings.mode == "degrade":
        what = f"Degrade-then-restore {scale} ({settings.downsampler} down, {_shape_text(comparison.input)} input)"
    else:
        what = f"Upscale {scale} from {_shape_text(comparison.input)}"
    full = region.x == 0 and region.y == 0 and (region.height, region.width) == tuple(comparison.output_size)
    extent = "whole image" if full else f"view x {region.x}-{region.x + region.width - 1}, y {region.y}-{region.y + region.height - 1}"
    return f"{what}; {extent}"


def _check_size(height: int, width: int) -> None:
    if height * width > limits.max_output_pixels:
        raise ParameterError(
            f"the figure would be {width}x{height} = {height * width:,} pixels, over the limit of "
            f"{limits.max_output_pixels:,} output pixels (core.limits.max_output_pixels); export a crop instead "
            "(the current view, or --crop X,Y,W,H) or a smaller magnification"
        )


def _theme(background: str) -> Theme:
    if background not in THEMES:
        raise ParameterError(f"background must be 'light' or 'dark'; got {background!r}")
    return THEMES[background]


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font at ``size`` pixels (the same on every machine)."""
    return ImageFont.load_default(size=size)
