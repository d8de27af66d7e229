"""Where everything of a figure goes: its options, themes and layout (sizes of tiles,
cells, label strips), and the check that refuses a figure before any method runs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from core.common.errors import ParameterError
from core.common.limits import limits
from core.common.region import Region
from core.common.vocabulary import DiffKind
from core.comparison.comparison import Comparison
from core.display.colour import ColormapName

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
        Add the metrics table (time, PSNR, SSIM, MAE, max error, FLIP, checkerboard;
        best values marked).
    include_spectrum:
        Add a grid of spectra: the centred log-magnitude spectrum of the reference and of
        every result (`core.spectrum`), on one colour scale.
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
    include_spectrum: bool = False
    background: Background = "light"
    diff_kind: DiffKind = "abs"
    diff_gain: float = 1.0
    diff_colormap: ColormapName | None = None
    font_size: int = 15


@dataclass(frozen=True)
class GridLayout:
    """Where everything of a grid export lies, in pixels of the figure.

    Tile ``i`` of section ``s`` (0: images, then the differences and the spectra when
    asked for) has its top-left corner at
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
    sections = 1 + int(options.include_diff) + int(options.include_spectrum)
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


_FRAME = 3  # pixels of the coloured frame around a crop of a paper figure


def _paper_layout(
    shape: Sequence[int], regions: Sequence[Region], count: int, magnification: int | None, columns: int | None,
    font_size: int, title_lines: Callable[[int], int] = lambda _width: 1,
) -> tuple[list[tuple[Region, int, int, int, int, int]], int, int, int, int]:
    """Where a paper figure of ``count`` crops of an image of ``shape`` puts things:
    per region ``(region, magnification, columns, rows, cell width, cell height)``, then
    the figure's width and height and the overview's width and height. A cell's label
    is ``title_lines(cell width)`` lines of titles (the longest title, wrapped) and one
    of scores. Raises
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
        cell_h = region.height * m + 2 * _FRAME + (title_lines(cell_w) + 1) * line + 4
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


def _check_size(height: int, width: int) -> None:
    if height * width > limits.max_output_pixels:
        raise ParameterError(
            f"the figure would be {width}x{height} = {height * width:,} pixels, over the limit of "
            f"{limits.max_output_pixels:,} output pixels (core.limits.max_output_pixels); export a crop of it "
            "(such as the current view) or use a smaller magnification"
        )


def _theme(background: str) -> Theme:
    if background not in THEMES:
        raise ParameterError(f"background must be 'light' or 'dark'; got {background!r}")
    return THEMES[background]
