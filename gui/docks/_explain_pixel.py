"""The Explain pixel dock: how the output pixel under the cursor was made.

A plot of the input's pixels around the taps (each tap shaded by its weight, blue for
positive and red for negative, with the weight written on it; the source coordinate
marked with a cross; the output pixel's footprint dashed), and below it the formulas,
the sum written out with the input's values, ending in the value the panel shows, and
the notes (clamping, taps that fell outside, the checkerboard's cause). For a method that
is not linear the plot outlines the receptive field instead.

Main thread only: it draws a `core.PixelExplanation` and a display copy of the input
crop made off the GUI thread, and computes nothing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

import core

from ..canvas._pixel_items import qimage_view

#: Weights written on the taps at most: beyond (Lanczos has 64) they would cover each
#: other at a dock's size; the shading and the list below the plot still give them all.
MAX_LABELS = 25
_POSITIVE, _NEGATIVE = QtGui.QColor(40, 110, 230), QtGui.QColor(220, 50, 40)


@dataclass(frozen=True)
class ExplainedPixel:
    """What the dock shows: the panel's title, the explanation, the crop of the input it
    is drawn over (``box``, and its display copy ``rgb``), and the value the panel shows."""

    title: str
    explanation: core.PixelExplanation
    box: core.Region
    rgb: np.ndarray
    shown: tuple[float, ...] | None


class ExplainPixel(QtWidgets.QWidget):
    """The input's pixel grid with the taps over it, and the arithmetic in words."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QtWidgets.QLabel("Move the cursor over a method's panel.")
        self.heading.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumHeight(120)
        self.plot.setLabel("bottom", "input column")
        self.plot.setLabel("left", "input row")
        self.text = QtWidgets.QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.setMinimumHeight(60)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.text)
        split.setChildrenCollapsible(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(split, 1)
        #: What is drawn now (None: nothing), for the window's tests and exports.
        self.shown: ExplainedPixel | None = None
        self._items: list[QtWidgets.QGraphicsItem] = []
        self._image: QtGui.QImage | None = None

    def clear(self, message: str) -> None:
        self.shown = None
        self._remove_items()
        self.heading.setText(message)
        self.text.clear()

    def show_pixel(self, pixel: ExplainedPixel) -> None:
        self.shown = pixel
        self._remove_items()
        e = pixel.explanation
        self.heading.setText(f"{pixel.title}: output pixel x {e.x}, y {e.y} "
                             f"(input {e.in_size[1]}x{e.in_size[0]} to {e.out_size[1]}x{e.out_size[0]})")
        self._draw_input(pixel)
        if e.linear:
            self._draw_taps(e)
        elif e.receptive_field is not None:
            box = e.receptive_field
            self._add(self._rect(box.x, box.y, box.width, box.height, QtGui.QColor(255, 200, 0), None, width=2))
        self._draw_footprint(e)
        self.plot.getViewBox().setRange(QtCore.QRectF(pixel.box.x, pixel.box.y, pixel.box.width, pixel.box.height),
                                        padding=0.02)
        self.text.setHtml(explanation_html(pixel))

    # Drawing ---------------------------------------------------------------------------------

    def _remove_items(self) -> None:
        for item in self._items:
            self.plot.removeItem(item)
        self._items.clear()

    def _add(self, item: QtWidgets.QGraphicsItem) -> None:
        self.plot.addItem(item)
        self._items.append(item)

    def _draw_input(self, pixel: ExplainedPixel) -> None:
        self._image = qimage_view(pixel.rgb)
        picture = QtWidgets.QGraphicsPixmapItem(QtGui.QPixmap.fromImage(self._image))
        picture.setTransformationMode(QtCore.Qt.TransformationMode.FastTransformation)
        picture.setPos(pixel.box.x, pixel.box.y)
        picture.setZValue(-10)
        self._add(picture)

    def _draw_taps(self, e: core.PixelExplanation) -> None:
        merged: dict[tuple[int, int], float] = {}
        channels: dict[tuple[int, int], list[str]] = {}
        for tap in e.taps:  # max unpooling's taps are per channel: each is drawn, named by its channel
            merged[(tap.y, tap.x)] = merged.get((tap.y, tap.x), 0.0) + tap.weight
            if tap.channel is not None:
                channels.setdefault((tap.y, tap.x), []).append("RGBA"[tap.channel] if tap.channel < 4 else str(tap.channel))
        largest = max((abs(w) for w in merged.values()), default=1.0) or 1.0
        for (y, x), weight in merged.items():
            colour = QtGui.QColor(_POSITIVE if weight >= 0 else _NEGATIVE)
            colour.setAlphaF(0.15 + 0.55 * min(1.0, abs(weight) / largest))
            self._add(self._rect(x, y, 1, 1, QtGui.QColor(_POSITIVE if weight >= 0 else _NEGATIVE), colour))
            if len(merged) <= MAX_LABELS:
                named = channels.get((y, x))
                text = f"{''.join(named)} 1" if named else f"{weight:.3g}"
                label = pg.TextItem(text, color=(255, 255, 255), anchor=(0.5, 0.5), fill=(0, 0, 0, 140))
                label.setPos(x + 0.5, y + 0.5)
                self._add(label)

    def _draw_footprint(self, e: core.PixelExplanation) -> None:
        """The output pixel's area in input pixels (dashed) and its source coordinate (a cross)."""
        sy, sx = e.in_size[0] / e.out_size[0], e.in_size[1] / e.out_size[1]
        footprint = self._rect(e.x * sx, e.y * sy, sx, sy, QtGui.QColor(255, 255, 255), None, width=1)
        pen = QtGui.QPen(QtGui.QColor(255, 255, 255), 0, QtCore.Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        footprint.setPen(pen)
        self._add(footprint)
        src_y, src_x = e.source
        if src_y is not None and src_x is not None:
            cross = pg.ScatterPlotItem([src_x + 0.5], [src_y + 0.5], symbol="+", size=16,
                                       pen=pg.mkPen("y", width=2), brush=None)
            self._add(cross)

    @staticmethod
    def _rect(x: float, y: float, w: float, h: float, edge: QtGui.QColor, fill: QtGui.QColor | None,
              width: int = 1) -> QtWidgets.QGraphicsRectItem:
        item = QtWidgets.QGraphicsRectItem(QtCore.QRectF(x, y, w, h))
        pen = QtGui.QPen(edge, width)
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setBrush(QtGui.QBrush(fill) if fill is not None else QtGui.QBrush(QtCore.Qt.BrushStyle.NoBrush))
        return item


def explanation_html(pixel: ExplainedPixel) -> str:
    """The dock's text: formulas, taps, sums ending in the panel's value, notes."""
    e = pixel.explanation
    parts = []
    if e.formulas:
        parts.append("<br>".join(f"<code>{html.escape(line)}</code>" for line in e.formulas))
    if e.linear:
        parts.append(f"{len(e.taps)} input {'pixels contribute' if len(e.taps) != 1 else 'pixel contributes'} "
                     "(shaded by weight in the plot; the cross marks the source coordinate):")
        parts.append("<br>".join(f"<code>{html.escape(line)}</code>" for line in e.sums))
        if pixel.shown is not None and e.rounded is not None:
            shown = ", ".join(_value_text(v) for v in pixel.shown)
            computed = ", ".join(_value_text(float(v)) for v in e.rounded)
            same = shown == computed
            parts.append(f"The panel shows <b>{html.escape(shown)}</b>"
                         + ("." if same else f" (the sum rounds to {html.escape(computed)}: the method's own "
                                             "arithmetic, OpenCV's fixed point for example, rounds within one level)."))
    parts.extend(f"<i>{html.escape(note)}</i>" for note in e.notes)
    return "<p>" + "</p><p>".join(parts) + "</p>"


def _value_text(value: float) -> str:
    return f"{value:.6g}"
