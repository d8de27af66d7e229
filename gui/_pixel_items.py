"""Graphics items that draw an image as sharp pixels (zoomed out: its area average on the
screen grid), with a grid and values when zoomed.

Main thread only. The arrays these items show are never modified after they are handed
over (they are the results themselves, or display copies made by `core`).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

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

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:  # noqa: ANN001
        self.drawn_window = None
        if self._qimage is None:
            return
        h, w = self._array.shape[:2]
        unit_x, unit_y = self._rect.width() / w, self._rect.height() / h
        transform = painter.transform()
        device = painter.device()
        ratio = device.devicePixelRatio() if device is not None else 1.0
        # Screen (device) pixels per array pixel, as this paint draws them.
        zoom = (transform.m22() * ratio * unit_y, transform.m11() * ratio * unit_x)
        plain = transform.m12() == 0 and transform.m21() == 0 and 0 < zoom[0] < 1 and 0 < zoom[1] < 1
        if not plain:  # magnified (or turned, which this viewer never does): sharp pixels
            self._paint_pixels(painter, option, unit_x, unit_y)
            return
        visible = self._visible_pixels(unit_x, unit_y)
        wanted = core.display_window((h, w), zoom, visible)
        level = self.level_window
        if level is not None and level.fits(zoom) and level.covers(visible, (h, w)):
            self._paint_one_to_one(painter, level, unit_x, unit_y, ratio)
            return
        # The copy for this view is on its way: the nearest one we have meanwhile.
        if level is None or not level.covers(visible, (h, w)):
            self._paint_pixels(painter, option, unit_x, unit_y)
        if level is not None:
            painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
            target = QtCore.QRectF(level.left * unit_x, level.top * unit_y, level.width * unit_x, level.height * unit_y)
            painter.drawImage(target, self._level_qimage)
        asked = self._requested
        if asked is None or not (asked.fits(zoom) and asked.covers(visible, (h, w))):
            self._requested = wanted
            self.level_wanted.emit(self._array, wanted)

    def _visible_pixels(self, unit_x: float, unit_y: float) -> tuple[float, float, float, float]:
        """The part of the array in view: top, left, bottom, right in array pixels."""
        box = self.getViewBox()
        shown = box.viewRect() if box is not None else self._rect
        return (shown.top() / unit_y, shown.left() / unit_x, shown.bottom() / unit_y, shown.right() / unit_x)

    def _paint_one_to_one(
        self, painter: QtGui.QPainter, level: core.DisplayWindow, unit_x: float, unit_y: float, ratio: float
    ) -> None:
        """Draw the reduced copy with one of its pixels on each device pixel, its corner
        on the device pixel nearest to where its part starts."""
        corner = painter.transform().map(QtCore.QPointF(level.left * unit_x, level.top * unit_y))
        x, y = math.floor(corner.x() * ratio + 0.5), math.floor(corner.y() * ratio + 0.5)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        self._level_qimage.setDevicePixelRatio(ratio)
        painter.drawImage(QtCore.QPointF(x / ratio, y / ratio), self._level_qimage)
        painter.restore()
        self.drawn_window = level

    def _paint_pixels(self, painter: QtGui.QPainter, option, unit_x: float, unit_y: float) -> None:  # noqa: ANN001
        """Each array pixel as a sharp rectangle; only the exposed ones are drawn."""
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        h, w = self._array.shape[:2]
        exposed = option.exposedRect.intersected(self._rect)
        if exposed.isEmpty():
            return
        c0, c1 = max(int(exposed.left() / unit_x), 0), min(math.ceil(exposed.right() / unit_x), w)
        r0, r1 = max(int(exposed.top() / unit_y), 0), min(math.ceil(exposed.bottom() / unit_y), h)
        if c1 <= c0 or r1 <= r0:
            return
        source = QtCore.QRectF(c0, r0, c1 - c0, r1 - r0)
        target = QtCore.QRectF(c0 * unit_x, r0 * unit_y, (c1 - c0) * unit_x, (r1 - r0) * unit_y)
        painter.drawImage(target, self._qimage, source)


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

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return QtCore.QRectF(self._rect)

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:  # noqa: ANN001
        if self._values is None:
            return
        device = painter.transform()
        zoom = math.hypot(device.m11(), device.m12())
        h, w = self._values.shape[:2]
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
            self._paint_values(painter, device, (r0, r1, c0, c1), (sx, sy), cell)

    def _paint_values(self, painter: QtGui.QPainter, device: QtGui.QTransform, box, steps, cell: float) -> None:  # noqa: ANN001
        r0, r1, c0, c1 = box
        sx, sy = steps
        block = self._values[r0:r1, c0:c1]
        channels = 1 if block.ndim == 2 else block.shape[2]
        integer = np.issubdtype(block.dtype, np.integer)
        texts = [["\n".join(_format_value(v, integer) for v in np.atleast_1d(pixel)) for pixel in row] for row in block]
        dark = self._dark_pixels(r0, r1, c0, c1)
        # The view only scales and translates, so each cell's screen rectangle follows
        # from two numbers per axis (no per-pixel transform call).
        w, h = device.m11() * sx, device.m22() * sy
        painter.save()
        painter.resetTransform()
        font = painter.font()
        font.setPixelSize(max(7, min(int(cell / (channels + 1.5)), 16)))
        painter.setFont(font)
        black, white = QtGui.QColor(0, 0, 0), QtGui.QColor(255, 255, 255)
        centre = QtCore.Qt.AlignmentFlag.AlignCenter
        for i, row in enumerate(texts):
            y = device.dy() + (r0 + i) * h
            for j, text in enumerate(row):
                painter.setPen(white if dark[i][j] else black)
                painter.drawText(QtCore.QRectF(device.dx() + (c0 + j) * w, y, w, h), centre, text)
        painter.restore()

    def _dark_pixels(self, r0: int, r1: int, c0: int, c1: int) -> list[list[bool]]:
        """Whether each shown pixel is dark (white text) or light (black text)."""
        if self._display is None:
            return [[True] * (c1 - c0) for _ in range(r1 - r0)]
        shown = self._display[r0:r1, c0:c1].astype(np.float32)
        luma = shown if shown.ndim == 2 else shown[:, :, :3] @ np.array([0.299, 0.587, 0.114], np.float32)
        return (luma <= 140).tolist()


def _format_value(value: float, integer: bool) -> str:
    if integer:
        return str(int(value))
    return f"{float(value):.3g}" if abs(value) >= 1e-3 or value == 0 else f"{float(value):.1e}"
