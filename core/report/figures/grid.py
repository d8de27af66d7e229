"""The comparison grid: the reference and every method side by side (the whole image
or a crop, magnified), with an optional row of difference maps and the metrics table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.backends.run import upsample
from core.common.region import Region
from core.common.vocabulary import DIFF_FORMULAS, MEASURE_MAP_KINDS
from core.comparison.comparison import Comparison
from core.comparison.results import MethodResult
from core.display.colour import DifferenceDisplay, colorize_difference, colormap_lut
from core.methods.naming import method_title
from core.metrics.measures import Metrics
from core.metrics.spectrum import spectrum
from core.report.figures.drawing import (
    Tile,
    _font,
    _label,
    _metrics_table,
    _paste,
    _shape_text,
    _text,
)
from core.report.figures.layout import (
    GridLayout,
    GridOptions,
    Theme,
    _check_size,
    _theme,
    grid_layout,
    line_height,
)
from core.report.format import format_metric, image_units


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
    options: GridOptions | None = None,
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
    options = options or GridOptions()
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
    if options.include_spectrum:
        _spectrum_section(picture, draw, layout, first, results, region, 1 + int(options.include_diff), font, theme)
    if table is not None:
        table.draw(draw, ((layout.width - table.width) // 2, layout.table_top), theme)
    return np.array(picture)


#: Decades of magnitude the spectrum grid shows below its brightest frequency.
SPECTRUM_DECADES = 5.0


def _spectrum_section(
    picture: Image.Image, draw: ImageDraw.ImageDraw, layout: GridLayout, first: Tile, results: Sequence[MethodResult],
    region: Region, section: int, font: ImageFont.FreeTypeFont, theme: Theme,
) -> None:
    """The spectra of the shown region of the reference and of every result, on one
    scale (`SPECTRUM_DECADES` below the brightest of them all), coloured by magma."""
    images = [first.pixels] + [r.image for r in results]
    spectra = [None if image is None else spectrum(region.take(image)) for image in images]
    top = max((float(s.max()) for s in spectra if s is not None), default=0.0)
    lut = colormap_lut("magma")
    titles = [first.label] + [method_title(r.method_id, r.params) for r in results]
    scores = [None] + [r.checkerboard for r in results]
    whole = Region(0, 0, region.width, region.height)
    for index, (centred, title, score) in enumerate(zip(spectra, titles, scores)):
        if centred is not None:
            level = np.clip((centred - (top - SPECTRUM_DECADES)) * (255.0 / SPECTRUM_DECADES), 0, 255)
            rgb = lut[np.rint(level).astype(np.uint8)]
            y, x = layout.tile_origin(index, section)
            block = _magnified(rgb, whole, layout.magnification)
            picture.paste(Image.fromarray(block), (x, y))
        detail = "" if score is None else f"checkerboard {format_metric('checkerboard', score)} %"
        note = "centred; edges 0.5 cycles/pixel" if index == 0 else detail
        _label(draw, layout, index, section, Tile(f"{title}: spectrum", None, (note,)), font, theme)  # type: ignore[arg-type]
    if any(s is not None for s in spectra):
        _spectrum_scale(draw, layout, section, (top - SPECTRUM_DECADES, top), font, theme)


def _spectrum_scale(
    draw: ImageDraw.ImageDraw, layout: GridLayout, section: int, span: tuple[float, float], font: ImageFont.FreeTypeFont,
    theme: Theme,
) -> None:
    """The spectra's colour scale, a horizontal magma bar with its ends in log10 |F|,
    on the third line under the reference's spectrum."""
    y, x = layout.cell_origin(0, section)
    line = layout.label_height // 3
    y += layout.tile_height + 2 + 2 * line
    low, high = (f"{v:.1f}" for v in span)
    prefix = "log10 |F|  "
    left = font.getlength(prefix + low) + 6
    right = font.getlength(high) + 6
    bar_w = int(layout.cell_width - left - right)
    if bar_w < 16:
        _text(draw, (x, y), f"{prefix}{low} to {high}", font, theme.muted, layout.cell_width, centre=True)
        return
    _text(draw, (x, y), prefix + low, font, theme.muted, left)
    lut = colormap_lut("magma")
    bar_top, bar_h = y + line // 4, max(4, line // 2)
    for column in range(bar_w):
        colour = tuple(int(c) for c in lut[round(255 * column / max(bar_w - 1, 1))])
        draw.line([(x + left + column, bar_top), (x + left + column, bar_top + bar_h)], fill=colour)
    _text(draw, (x + left + bar_w + 6, y), high, font, theme.muted, right)


def _magnified(rgb: np.ndarray, region: Region, magnification: int) -> np.ndarray:
    block = region.take(rgb)
    return np.repeat(np.repeat(block, magnification, axis=0), magnification, axis=1)


def _result_tile(result: MethodResult) -> Tile:
    if result.image is None:
        return Tile(method_title(result.method_id, result.params), None, ("could not run:", result.reason or ""))  # type: ignore[arg-type]
    lines = [_metrics_line(result.metrics), f"{format_metric('time_ms', result.seconds * 1000)} ms"]
    return Tile(method_title(result.method_id, result.params), result.image, tuple(lines))


def _metrics_line(metrics: Metrics | None) -> str:
    if metrics is None:
        return "no reference"
    ssim = "" if metrics.ssim is None else f"   SSIM {format_metric('ssim', metrics.ssim)}"
    return f"PSNR {format_metric('psnr', metrics.psnr)} dB{ssim}"


def _difference_tile(result: MethodResult, shown: DifferenceDisplay | None, options: GridOptions) -> Tile:
    if shown is None:
        return Tile(result.label, None, ("no difference map",))  # type: ignore[arg-type]
    metrics = result.metrics
    if options.diff_kind == "ssim":
        detail = "" if metrics is None or metrics.ssim is None else f"SSIM {format_metric('ssim', metrics.ssim)}"
        return Tile(f"{method_title(result.method_id, result.params)}: local SSIM", None, (detail,))  # type: ignore[arg-type]
    if options.diff_kind == "flip":
        detail = "" if result.flip is None else f"mean FLIP {format_metric('flip', result.flip)}"
        return Tile(f"{method_title(result.method_id, result.params)}: FLIP", None, (detail,))  # type: ignore[arg-type]
    detail = "" if metrics is None else f"MAE {metrics.mae:.3g}   max {metrics.max_abs:.3g}"
    return Tile(f"{method_title(result.method_id, result.params)}: {options.diff_kind} difference", None, (detail,))  # type: ignore[arg-type]


def _coloured_difference(
    comparison: Comparison, result: MethodResult, options: GridOptions, region: Region
) -> DifferenceDisplay | None:
    """The coloured difference of ``region`` only (a pixel's colour depends on that
    pixel alone), so a crop of a large image costs the crop's memory."""
    values = comparison.difference(result, kind=options.diff_kind, crop=region)
    if values is None or result.image is None:
        return None
    return colorize_difference(values, options.diff_kind, result.image.dtype, gain=options.diff_gain,
                               colormap=options.diff_colormap)


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
    lut = colormap_lut(shown.colormap)
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
    if options.diff_kind in MEASURE_MAP_KINDS:  # measures in their own units
        gain = "" if options.diff_gain == 1 else f", gain x{options.diff_gain:g}"
        lines: tuple[str, ...] = (f"{DIFF_FORMULAS[options.diff_kind]}{gain}",)
    else:
        lines = (f"{options.diff_kind} difference, gain x{options.diff_gain:g}", f"in{squared} {units}")
    tile = Tile("Colour scale", None, lines)  # type: ignore[arg-type]
    _label(draw, layout, 0, 1, tile, font, theme)


def _default_title(comparison: Comparison, region: Region) -> str:
    settings = comparison.settings
    sy, sx = comparison.scale
    scale = f"x{sy:g}" if sy == sx else f"x{sy:g} (y) x{sx:g} (x)"
    if settings.mode == "degrade":
        what = f"Degrade-then-restore {scale} ({settings.downsampler} down, {_shape_text(comparison.input)} input)"
    else:
        what = f"Upscale {scale} from {_shape_text(comparison.input)}"
    full = region.x == 0 and region.y == 0 and (region.height, region.width) == tuple(comparison.output_size)
    last_x, last_y = region.x + region.width - 1, region.y + region.height - 1
    extent = "whole image" if full else f"view x {region.x}-{last_x}, y {region.y}-{last_y}"
    return f"{what}; {extent}"
