"""Graphics items that draw an image as sharp pixels, with a grid and values when zoomed.

Main thread only. The arrays these items show are never modified after they are handed
over (they are the results themselves, or display copies made by `core`).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

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
    """Draws a display array stretched over ``width x height`` image units, each source
    pixel a sharp rectangle (no smoothing at any zoom)."""

    def __init__(self) -> None:
        super().__init__()
        self._array: np.ndarray | None = None
        self._qimage: QtGui.QImage | None = None
        self._rect = QtCore.QRectF()
        # A reduced copy for zoomed-out views (see `core.reduce_for_display`).
        self.wanted_factor = 1
        self._level_factor = 1
        self._level: np.ndarray | None = None
        self._level_qimage: QtGui.QImage | None = None

    def set_level(self, factor: int, level: np.ndarray | None) -> None:
        """Use ``level`` (the display array reduced ``factor`` times) while the view wants
        that reduction."""
        self._level_factor, self._level = factor, level
        self._level_qimage = None if level is None else qimage_view(level)
        self.update()

    @property
    def level_factor(self) -> int:
        return self._level_factor if self._level is not None else 1

    def set_array(self, array: np.ndarray | None, width: int | None = None, height: int | None = None) -> None:
        """Show ``array`` (see `qimage_view`) over ``width x height`` units (default: its
        own size, one unit per pixel); None clears the item."""
        self.prepareGeometryChange()
        if array is not self._array:
            self.set_level(1, None)
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
        if self._qimage is None:
            return
        if self.wanted_factor > 1 and self._level_qimage is not None and self._level_factor == self.wanted_factor:
            # Zoomed out: block averages, smoothed, instead of skipped pixels (moire).
            painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(self._rect, self._level_qimage)
            return
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        h, w = self._array.shape[:2]
        sx, sy = self._rect.width() / w, self._rect.height() / h
        # Draw only the source pixels that are exposed: at high zoom that is a handful.
        exposed = option.exposedRect.intersected(self._rect)
        if exposed.isEmpty():
            return
        c0, c1 = max(int(exposed.left() / sx), 0), min(math.ceil(exposed.right() / sx), w)
        r0, r1 = max(int(exposed.top() / sy), 0), min(math.ceil(exposed.bottom() / sy), h)
        if c1 <= c0 or r1 <= r0:
            return
        source = QtCore.QRectF(c0, r0, c1 - c0, r1 - r0)
        target = QtCore.QRectF(c0 * sx, r0 * sy, (c1 - c0) * sx, (r1 - r0) * sy)
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
