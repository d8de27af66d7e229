"""Graphics items that draw an image as sharp pixels (zoomed out: its area average on the
screen grid), with a grid and readable values when zoomed in.

Main thread only. The arrays these items show are never modified after they are handed
over (they are the results themselves, or display copies made by `core`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

import core

from ._view_state import GRID_ZOOM, VALUES_ZOOM

_FORMATS = {
    2: QtGui.QImage.Format.Format_Grayscale8,
    3: QtGui.QImage.Format.Format_RGB888,
    4: QtGui.QImage.Format.Format_RGBA8888,
}


def qimage_view(array: np.ndarray) -> QtGui.QImage:
    """A QImage that reads ``array`` in place (no copy): uint8, C-contiguous, ``(H, W)``,
    ``(H, W, 3)`` or ``(H, W, 4)``. The caller keeps ``array`` alive as long as the image."""
    if array.dtype != np.uint8 or not array.flags.c_contiguous:
        raise ValueError("display arrays must be C-contiguous uint8")
    key = 2 if array.ndim == 2 else array.shape[2]
    height, width = array.shape[:2]
    return QtGui.QImage(array.data, width, height, array.strides[0], _FORMATS[key])


class PixelImageItem(pg.GraphicsObject):
    """Draws a display array stretched over ``width x height`` image units.

    From a zoom of 1 up (screen pixels per array pixel, as painted), each array pixel is a
    sharp rectangle. Below 1, the item shows a copy reduced by area averaging to exactly
    the screen pixels it covers (`core.reduce_for_display`), drawn one to one, so every
    screen pixel is the mean of the array pixels under it and no moire is added. Its
    corner sits on the device pixel nearest to where the view puts it and its size is the
    on-screen size rounded, so no screen pixel is more than a pixel from its exact place
    (half a pixel at the corner). The copy is made off the GUI thread: when a paint finds
    it lacks the copy its zoom and view need, it emits `level_wanted` and meanwhile draws
    the nearest copy it has (smoothed) over the sharp pixels. Main thread only.
    """

    level_wanted = QtCore.Signal(object, object)  # source array, core.DisplayWindow to reduce it to

    def __init__(self) -> None:
        super().__init__()
        self._array: np.ndarray | None = None
        self._qimage: QtGui.QImage | None = None
        self._rect = QtCore.QRectF()
        self._level_window: core.DisplayWindow | None = None
        self._level: np.ndarray | None = None
        self._level_qimage: QtGui.QImage | None = None
        self._requested: core.DisplayWindow | None = None
        #: The window the last paint drew one to one (None: it drew anything else).
        self.drawn_window: core.DisplayWindow | None = None

    def set_level(self, window: core.DisplayWindow | None, level: np.ndarray | None) -> None:
        """Use ``level``, the shown array reduced to ``window`` (see
        `core.reduce_for_display`); None drops the copy."""
        self._level_window, self._level = window, level
        self._level_qimage = None if level is None else qimage_view(level)
        if self._requested == window:
            self._requested = None
        self.update()

    @property
    def level_window(self) -> core.DisplayWindow | None:
        """The window of the reduced copy the item holds, if any."""
        return self._level_window if self._level is not None else None

    def _held_level(self) -> tuple[core.DisplayWindow, QtGui.QImage] | None:
        """The reduced copy held, if any: its window and its picture."""
        if self._level_window is None or self._level_qimage is None:
            return None
        return self._level_window, self._level_qimage

    def set_array(self, array: np.ndarray | None, width: int | None = None, height: int | None = None) -> None:
        """Show ``array`` (see `qimage_view`) over ``width x height`` units (default: its
        own size, one unit per pixel); None clears the item."""
        self.prepareGeometryChange()
        if array is not self._array:
            self.set_level(None, None)
        self._requested = None
        self._array = array
        if array is None:
            self._qimage, self._rect = None, QtCore.QRectF()
        else:
            self._qimage = qimage_view(array)
            h, w = array.shape[:2]
            self._rect = QtCore.QRectF(0, 0, width or w, height or h)
        self.update()

    @property
    def array(self) -> np.ndarray | None:
        return self._array

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return QtCore.QRectF(self._rect)

    def paint(
        self, painter: QtGui.QPainter, option: QtWidgets.QStyleOptionGraphicsItem, widget: QtWidgets.QWidget | None = None
    ) -> None:
        self.drawn_window = None
        array, image = self._array, self._qimage
        if array is None or image is None:
            return
        h, w = array.shape[:2]
        unit_x, unit_y = self._rect.width() / w, self._rect.height() / h
        transform = painter.transform()
        device = painter.device()
        ratio = device.devicePixelRatio() if device is not None else 1.0
        # Screen (device) pixels per array pixel, as this paint draws them.
        zoom = (transform.m22() * ratio * unit_y, transform.m11() * ratio * unit_x)
        plain = transform.m12() == 0 and transform.m21() == 0 and 0 < zoom[0] < 1 and 0 < zoom[1] < 1
        if not plain:  # magnified (or turned, which this viewer never does): sharp pixels
            self._paint_pixels(painter, option, image, unit_x, unit_y)
            return
        visible = self._visible_pixels(unit_x, unit_y)
        wanted = core.display_window((h, w), zoom, visible)
        held = self._held_level()
        if held is not None and held[0].fits(zoom) and held[0].covers(visible, (h, w)):
            self._paint_one_to_one(painter, *held, unit_x, unit_y, ratio)
            return
        # The copy for this view is on its way: the nearest one we have meanwhile.
        if held is None or not held[0].covers(visible, (h, w)):
            self._paint_pixels(painter, option, image, unit_x, unit_y)
        if held is not None:
            level, level_image = held
            painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
            target = QtCore.QRectF(level.left * unit_x, level.top * unit_y, level.width * unit_x, level.height * unit_y)
            painter.drawImage(target, level_image)
        asked = self._requested
        if asked is None or not (asked.fits(zoom) and asked.covers(visible, (h, w))):
            self._requested = wanted
            self.level_wanted.emit(array, wanted)

    def _visible_pixels(self, unit_x: float, unit_y: float) -> tuple[float, float, float, float]:
        """The part of the array in view: top, left, bottom, right in array pixels."""
        box = self.getViewBox()
        shown = box.viewRect() if box is not None else self._rect
        return (shown.top() / unit_y, shown.left() / unit_x, shown.bottom() / unit_y, shown.right() / unit_x)

    def _paint_one_to_one(
        self,
        painter: QtGui.QPainter,
        level: core.DisplayWindow,
        level_image: QtGui.QImage,
        unit_x: float,
        unit_y: float,
        ratio: float,
    ) -> None:
        """Draw the reduced copy with one of its pixels on each device pixel, its corner
        on the device pixel nearest to where its part starts."""
        corner = painter.transform().map(QtCore.QPointF(level.left * unit_x, level.top * unit_y))
        x, y = math.floor(corner.x() * ratio + 0.5), math.floor(corner.y() * ratio + 0.5)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        level_image.setDevicePixelRatio(ratio)
        painter.drawImage(QtCore.QPointF(x / ratio, y / ratio), level_image)
        painter.restore()
        self.drawn_window = level

    def _paint_pixels(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionGraphicsItem,
        image: QtGui.QImage,
        unit_x: float,
        unit_y: float,
    ) -> None:
        """Each pixel of ``image`` (the array's picture) as a sharp rectangle; only the
        exposed ones are drawn."""
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        h, w = image.height(), image.width()
        exposed = option.exposedRect.intersected(self._rect)
        if exposed.isEmpty():
            return
        c0, c1 = max(int(exposed.left() / unit_x), 0), min(math.ceil(exposed.right() / unit_x), w)
        r0, r1 = max(int(exposed.top() / unit_y), 0), min(math.ceil(exposed.bottom() / unit_y), h)
        if c1 <= c0 or r1 <= r0:
            return
        source = QtCore.QRectF(c0, r0, c1 - c0, r1 - r0)
        target = QtCore.QRectF(c0 * unit_x, r0 * unit_y, (c1 - c0) * unit_x, (r1 - r0) * unit_y)
        painter.drawImage(target, image, source)


class PixelOverlayItem(pg.GraphicsObject):
    """A pixel grid from `GRID_ZOOM` and each pixel's value from `VALUES_ZOOM` on.

    ``values`` is the array whose numbers are written (the result itself, or the
    unscaled difference map); it covers ``width x height`` units like `PixelImageItem`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._values: np.ndarray | None = None
        self._display: np.ndarray | None = None
        self._rect = QtCore.QRectF()
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._laid_out: dict[tuple[str, int], tuple[QtGui.QStaticText, float]] = {}
        # Above the crosshair and the profile line (both at 0), so that values stay
        # readable in the pixel under the cursor; below the region outlines (20).
        self.setZValue(5)

    def set_values(
        self, values: np.ndarray | None, display: np.ndarray | None, width: int | None = None, height: int | None = None
    ) -> None:
        self.prepareGeometryChange()
        self._values, self._display = values, display
        if values is None:
            self._rect = QtCore.QRectF()
        else:
            h, w = values.shape[:2]
            self._rect = QtCore.QRectF(0, 0, width or w, height or h)
        self.update()

    @property
    def values(self) -> np.ndarray | None:
        """The array whose numbers are written."""
        return self._values

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return QtCore.QRectF(self._rect)

    def paint(
        self, painter: QtGui.QPainter, option: QtWidgets.QStyleOptionGraphicsItem, widget: QtWidgets.QWidget | None = None
    ) -> None:
        values = self._values
        if values is None:
            return
        device = painter.transform()
        zoom = math.hypot(device.m11(), device.m12())
        h, w = values.shape[:2]
        sx, sy = self._rect.width() / w, self._rect.height() / h
        cell = zoom * min(sx, sy)  # screen pixels per source pixel
        if cell < GRID_ZOOM:
            return
        exposed = option.exposedRect.intersected(self._rect)
        c0, c1 = max(int(exposed.left() / sx), 0), min(math.ceil(exposed.right() / sx), w)
        r0, r1 = max(int(exposed.top() / sy), 0), min(math.ceil(exposed.bottom() / sy), h)
        if c1 <= c0 or r1 <= r0:
            return
        pen = QtGui.QPen(QtGui.QColor(128, 128, 128, 150))
        pen.setCosmetic(True)
        painter.setPen(pen)
        lines = [QtCore.QLineF(c * sx, r0 * sy, c * sx, r1 * sy) for c in range(c0, c1 + 1)]
        lines += [QtCore.QLineF(c0 * sx, r * sy, c1 * sx, r * sy) for r in range(r0, r1 + 1)]
        painter.drawLines(lines)
        if cell >= VALUES_ZOOM and (c1 - c0) * (r1 - r0) <= 4096:
            self._paint_values(painter, device, values[r0:r1, c0:c1], (r0, r1, c0, c1), (sx, sy), cell)

    def _paint_values(
        self,
        painter: QtGui.QPainter,
        device: QtGui.QTransform,
        block: np.ndarray,
        box: tuple[int, int, int, int],
        steps: tuple[float, float],
        cell: float,
    ) -> None:
        """Write the values of ``block``, the cells ``box`` (rows r0:r1, columns c0:c1)
        of the values, each ``steps`` units wide and ``cell`` screen pixels."""
        r0, r1, c0, c1 = box
        sx, sy = steps
        font = QtGui.QFont(painter.font())
        style = choose_value_style(block, cell, font)
        if style is None:
            return  # too small for any legible text: the grid alone
        font.setPixelSize(style.font_px)
        integer = np.issubdtype(block.dtype, np.integer)
        names = channel_names(1 if block.ndim == 2 else block.shape[2])
        dark = self._dark_pixels(r0, r1, c0, c1)
        # The view only scales and translates, so each cell's screen rectangle follows
        # from two numbers per axis (no per-pixel transform call).
        w, h = device.m11() * sx, device.m22() * sy
        box_w, box_h = style.width + 2 * _PAD, style.line_height * len(names) + 2 * _PAD
        # Gather first, then draw by colour: two brush and a few pen changes per paint
        # instead of several per cell.
        boxes: dict[bool, list[QtCore.QRectF]] = {True: [], False: []}
        lines: dict[tuple[str, bool], list[tuple[QtCore.QPointF, QtGui.QStaticText]]] = {}
        texts: dict[tuple[str, float], tuple[QtGui.QStaticText, float]] = {}
        for i, row in enumerate(block.reshape(r1 - r0, c1 - c0, len(names)).tolist()):
            top = device.dy() + (r0 + i) * h + (h - box_h) / 2
            for j, pixel in enumerate(row):
                left = device.dx() + (c0 + j) * w + (w - box_w) / 2
                on_dark = dark[i][j]
                boxes[on_dark].append(QtCore.QRectF(left, top, box_w, box_h))
                for k, (name, value) in enumerate(zip(names, pixel, strict=True)):
                    laid = texts.get((name, value))
                    if laid is None:
                        laid = texts[name, value] = self._static_text(value_text(name, value, integer, style), font)
                    text, width = laid
                    corner = QtCore.QPointF(left + (box_w - width) / 2, top + _PAD + k * style.line_height)
                    lines.setdefault((name, on_dark), []).append((corner, text))
        painter.save()
        painter.resetTransform()
        painter.setFont(font)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        for on_dark, rects in boxes.items():
            if rects:
                painter.setBrush(_BOX_DARK if on_dark else _BOX_LIGHT)
                painter.drawRects(rects)
        for (name, on_dark), written in lines.items():
            painter.setPen(_ink(name, on_dark))
            for corner, text in written:
                painter.drawStaticText(corner, text)
        painter.restore()

    def _static_text(self, text: str, font: QtGui.QFont) -> tuple[QtGui.QStaticText, float]:
        """``text`` laid out once in ``font`` (values repeat from paint to paint), and its
        width in pixels."""
        key = (text, font.pixelSize())
        laid = self._laid_out.get(key)
        if laid is None:
            if len(self._laid_out) > 8192:
                self._laid_out.clear()
            static = QtGui.QStaticText(text)
            static.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            static.prepare(QtGui.QTransform(), font)
            laid = self._laid_out[key] = (static, static.size().width())
        return laid

    def _dark_pixels(self, r0: int, r1: int, c0: int, c1: int) -> list[list[bool]]:
        """Whether each shown pixel is dark (its values go in a dark box, light text) or
        light (a light box, dark text): the box then stands out from the crosshair and
        grid without hiding the pixel's colour around it."""
        if self._display is None:
            return [[True] * (c1 - c0) for _ in range(r1 - r0)]
        shown = self._display[r0:r1, c0:c1].astype(np.float32)
        luma = shown if shown.ndim == 2 else shown[:, :, :3] @ np.array([0.299, 0.587, 0.114], np.float32)
        return (luma <= 140).tolist()


# Values written in pixels -----------------------------------------------------------------

#: Space in screen pixels between a value box and its text, and kept free around the box
#: inside its cell (so the pixel's own colour and the grid line stay visible).
_PAD = 1
_MARGIN = 1
_BOX_DARK = QtGui.QColor(0, 0, 0, 175)
_BOX_LIGHT = QtGui.QColor(255, 255, 255, 190)
#: Text colours by channel name: (on a dark box, on a light box).
_INKS = {
    "R": (QtGui.QColor(255, 150, 150), QtGui.QColor(170, 0, 0)),
    "G": (QtGui.QColor(140, 235, 140), QtGui.QColor(0, 110, 0)),
    "B": (QtGui.QColor(160, 190, 255), QtGui.QColor(0, 55, 200)),
}
_PLAIN_INK = (QtGui.QColor(255, 255, 255), QtGui.QColor(0, 0, 0))
#: (channel labels written, significant digits of float values, smallest font in pixels),
#: tried in order until the widest text of the cells in view fits its cell.
_STYLES_LABELLED = ((True, 4, 9), (True, 3, 8), (False, 3, 7), (False, 2, 6))
_STYLES_SINGLE = ((False, 4, 8), (False, 3, 7), (False, 2, 6))
_LARGEST_FONT = 16
_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")


@dataclass(frozen=True)
class ValueStyle:
    """How the values of the cells in view are written: ``font_px`` pixel font, channel
    ``labels`` or not, ``digits`` significant digits for floats; ``width`` is the widest
    line and ``line_height`` the height of one, in screen pixels."""

    font_px: int
    labels: bool
    digits: int
    width: float
    line_height: float


def channel_names(channels: int) -> tuple[str, ...]:
    """The name of each channel of a pixel: "" for one channel (grey or a difference),
    L and A for grey with alpha, R, G, B (and A)."""
    return {1: ("",), 2: ("L", "A"), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}.get(channels, ("",) * channels)


def _ink(name: str, on_dark: bool) -> QtGui.QColor:
    light, dark = _INKS.get(name, _PLAIN_INK)
    return light if on_dark else dark


def format_value(value: float, integer: bool, digits: int) -> str:
    """A short form of one value: integers in full; whole floats below 10^5 without a
    decimal point; others with ``digits`` significant digits and a compact exponent
    ("6.5e4", "-1.2e-4") when very large or very small."""
    if integer:
        return str(int(value))
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e5:
        return str(int(value))
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        mantissa, exponent = f"{value:.{max(digits - 1, 0)}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.{digits}g}"


def value_text(name: str, value: float, integer: bool, style: ValueStyle) -> str:
    """One line of a cell: the channel's label (when the style has them) and its value."""
    text = format_value(value, integer, style.digits)
    return f"{name} {text}" if style.labels and name else text


def choose_value_style(block: np.ndarray, cell: float, font: QtGui.QFont) -> ValueStyle | None:
    """The largest legible way to write ``block``'s values (``(h, w)`` or ``(h, w, C)``,
    the cells in view) so that every cell's text, in its box, fits a ``cell``-pixel
    square with `_MARGIN` to spare: labelled lines first, then colour-coded lines without
    labels, then fewer digits; None when nothing fits (the grid is drawn alone)."""
    channels = 1 if block.ndim == 2 else block.shape[2]
    names = channel_names(channels)
    integer = np.issubdtype(block.dtype, np.integer)
    pixels = block.reshape(-1, channels)
    if integer and pixels.size:
        # Written in full, so the longest are those of the extremes of each channel.
        extremes = np.stack([pixels.min(axis=0), pixels.max(axis=0)]).tolist()
    else:
        extremes = np.unique(pixels, axis=0).tolist() if pixels.size else []
    room = cell - 2 * _MARGIN - 2 * _PAD
    metrics_font = QtGui.QFont(font)
    for labels, digits, smallest in _STYLES_LABELLED if channels > 1 else _STYLES_SINGLE:
        probe = ValueStyle(0, labels, digits, 0.0, 0.0)
        texts = {value_text(n, v, integer, probe) for row in extremes for n, v in zip(names, row, strict=True)}
        if not texts:
            return None
        # Texts that differ only in their digits are as wide as each other once every
        # digit is the font's widest one: measuring those few shapes bounds them all.
        shapes = {text.translate(_DIGITS_TO_ZERO) for text in texts}
        for px in range(_LARGEST_FONT, smallest - 1, -1):
            metrics_font.setPixelSize(px)
            metrics = QtGui.QFontMetricsF(metrics_font)
            if metrics.height() * channels > room:
                continue
            widest_digit = max("0123456789", key=metrics.horizontalAdvance)
            width = max(metrics.horizontalAdvance(shape.replace("0", widest_digit)) for shape in shapes)
            if width <= room:
                return ValueStyle(px, labels, digits, width, metrics.height())
    return None
