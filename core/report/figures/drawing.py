"""Drawing a figure's pieces: tiles of exact pixels (magnified as sharp squares),
label text with Pillow's bundled scalable font, and the metrics table."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import ImageFont

from core.common.errors import ParameterError
from core.common.region import Region
from core.comparison.comparison import Comparison
from core.comparison.results import MethodResult
from core.display.screen import to_display
from core.report.figures.layout import GridLayout, Theme, line_height
from core.report.format import INFINITY
from core.report.table import COLUMN_KEYS, result_table


@dataclass(frozen=True)
class Tile:
    """One panel of a figure: a label, the pixels, lines of text under it."""

    label: str
    pixels: np.ndarray
    lines: tuple[str, ...] = ()


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
    title = wrapped(tile.label, font, layout.cell_width, 3 - len(tile.lines[:2]))
    for number, text in enumerate(title):
        _text(draw, (x, y + number * line), text, font, theme.text, layout.cell_width, centre=True)
    for number, text in enumerate(tile.lines[:2], start=len(title)):
        _text(draw, (x, y + number * line), text, font, theme.muted, layout.cell_width, centre=True)


def wrapped(text: str, font, width: float, max_lines: int) -> list[str]:  # noqa: ANN001
    """``text`` broken at spaces into at most ``max_lines`` lines of at most ``width``
    pixels (a title and its parameters, ``Transposed convolution (kernel=box, ...)``); the
    last line keeps the rest, for `_text` to shorten with an ellipsis."""
    words = _drawable(text).split(" ")
    lines = [words[0]]
    for word in words[1:]:
        if font.getlength(f"{lines[-1]} {word}") <= width or len(lines) == max(1, max_lines):
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


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


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font at ``size`` pixels (the same on every machine)."""
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow before 10.1 had a bitmap font only
        raise RuntimeError("Upscope needs Pillow 10.1 or newer (a scalable bundled font)")
    return font
