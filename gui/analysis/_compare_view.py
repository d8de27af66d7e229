"""Swipe and blink: two panels of the grid in one large view.

Main thread only. The view draws what its `CompareModel` says with the pictures the two
grid panels show (so channel views, exposure and difference maps carry over), at the
grid's one `ViewState`: its gestures change that state and the grid's `view_changed`
brings every view, this one included, to it.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

import core

from ..canvas import ComparisonGrid, ImagePanel
from ..canvas._pixel_items import PixelImageItem, PixelOverlayItem
from ._models import CompareModel

#: Keys under which the runner makes this view's zoomed-out copies (apart from the panels').
LEVEL_KEYS = {"a": "compare-a", "b": "compare-b"}


class CompareView(QtWidgets.QWidget):
    """One `ImagePanel` showing image A, with image B over it clipped to the far side of
    a draggable divider (swipe), or shown whole in turn with A (blink)."""

    hovered = QtCore.Signal(float, float)  # image x, y under the cursor
    level_needed = QtCore.Signal(str, object, object)  # level key, source array, core.DisplayWindow
    divider_moved = QtCore.Signal(float)  # the divider's new fraction

    def __init__(self, grid: ComparisonGrid, model: CompareModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid, self.model = grid, model
        self.panel = ImagePanel("compare", "Swipe", QtGui.QColor("white"), self)
        box = self.panel.view_box
        # Image A under everything the panel draws; B (clipped) just above it.
        self.panel.image_item.setZValue(-3)
        self.panel.overlay_item.setZValue(-2.5)
        self._clip = QtWidgets.QGraphicsRectItem()
        self._clip.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
        self._clip.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)
        self._clip.setZValue(-2)
        box.addItem(self._clip, ignoreBounds=True)
        self.image_b = PixelImageItem()
        self.overlay_b = PixelOverlayItem()
        self.image_b.setParentItem(self._clip)
        self.overlay_b.setParentItem(self._clip)
        self.divider = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(255, 255, 255, 230, width=2),
                                       hoverPen=pg.mkPen(255, 220, 0, width=3))
        self.divider.setZValue(30)
        self.divider.setCursor(QtCore.Qt.CursorShape.SplitHCursor)
        self.divider.setToolTip("Drag to move the divider between the two images")
        box.addItem(self.divider, ignoreBounds=True)
        self.divider.sigPositionChanged.connect(self._on_divider_dragged)
        box.wheel_zoomed.connect(self._on_wheel)
        box.drag_panned.connect(self._on_pan)
        box.sigResized.connect(lambda _box: self.apply_view())
        self.panel.hovered.connect(self.hovered)
        self.panel.image_item.level_wanted.connect(lambda s, w: self.level_needed.emit(LEVEL_KEYS["a"], s, w))
        self.image_b.level_wanted.connect(lambda s, w: self.level_needed.emit(LEVEL_KEYS["b"], s, w))
        self.readout = QtWidgets.QLabel(" ")
        self.readout.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.readout)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self._placing = False
        grid.view_changed.connect(self.apply_view)

    # What is shown -----------------------------------------------------------------------

    def item_for(self, slot: str) -> PixelImageItem:
        """The item that draws image A ("a") or B ("b")."""
        return self.panel.image_item if slot == "a" else self.image_b

    def refresh(self) -> None:
        """Show the pictures the two chosen grid panels show now, where the model says."""
        if self.model.mode == "off":
            return
        width, height = self.grid.state.image_width, self.grid.state.image_height
        swipe = self.model.mode == "swipe"
        if swipe:
            first, second = self.model.key_a, self.model.key_b
        else:  # blink: the image shown now draws as A, whole; B is hidden
            first, second = self.model.shown_key, ""
        self._mirror(first, self.panel.image_item, self.panel.overlay_item, width, height)
        self._mirror(second, self.image_b, self.overlay_b, width, height)
        self._clip.setVisible(swipe)
        self.divider.setVisible(swipe)
        vertical = self.model.orientation == "vertical"
        position = self.model.divider_at(width, height)
        if vertical:
            self._clip.setRect(QtCore.QRectF(position, 0, max(width - position, 0), height))
        else:
            self._clip.setRect(QtCore.QRectF(0, position, width, max(height - position, 0)))
        self._placing = True
        self.divider.setAngle(90 if vertical else 0)
        self.divider.setPos(position)
        self.divider.setBounds((0, width if vertical else height))
        self._placing = False
        self.divider.setCursor(QtCore.Qt.CursorShape.SplitHCursor if vertical else QtCore.Qt.CursorShape.SplitVCursor)
        self.panel.set_title(self._title(), self._details())
        self.panel.set_status(None if self.model.key_a else "Open an image to compare two of its panels.")

    def _label(self, key: str) -> str:
        panel = self.grid.panel(key)
        return panel.label if panel is not None else key

    def _title(self) -> str:
        if self.model.mode == "blink":
            return f"Blink: {self._label(self.model.shown_key)}"
        before, after = ("left", "right") if self.model.orientation == "vertical" else ("top", "bottom")
        return f"{self._label(self.model.key_a)} ({before}) | {self._label(self.model.key_b)} ({after})"

    def _details(self) -> list[str | tuple[str, str]]:
        if self.model.mode == "blink":
            other = self.model.key_b if self.model.showing == "a" else self.model.key_a
            return [f"next: {self._label(other)}", f"{self.model.blink_hz:g} Hz or B"]
        return ["drag the divider"]

    def _mirror(self, key: str, item: PixelImageItem, overlay: PixelOverlayItem, width: int, height: int) -> None:
        panel = self.grid.panel(key) if key else None
        display = panel.image_item.array if panel is not None else None
        values = panel.overlay_item.values if panel is not None else None
        if display is item.array and (values is overlay.values):
            return
        item.set_array(display, width, height)
        overlay.set_values(values, display, width, height)

    def shown_arrays(self) -> dict[str, np.ndarray | None]:
        """The pictures drawn now: "a" (whole, or before the divider) and "b" (after it;
        None while blinking)."""
        return {"a": self.panel.image_item.array, "b": self.image_b.array if self._clip.isVisible() else None}

    def set_level(self, key: str, source: np.ndarray, window: core.DisplayWindow, level: np.ndarray) -> None:
        """A zoomed-out copy arrived: use it if its item still shows ``source``."""
        for slot, level_key in LEVEL_KEYS.items():
            item = self.item_for(slot)
            if key == level_key and item.array is source:
                item.set_level(window, level)

    # The shared view -------------------------------------------------------------------------

    def viewport(self) -> tuple[float, float]:
        return self.panel.viewport_size()

    def apply_view(self) -> None:
        """Show the grid's view: its centre and zoom (fitted to this view when it fits)."""
        if not self.isVisible():
            return
        state = self.grid.state
        width, height = self.viewport()
        zoom = state.effective_zoom(width, height)
        cx, cy = (state.image_width / 2, state.image_height / 2) if state.fit else (state.cx, state.cy)
        half_w, half_h = width / (2 * zoom), height / (2 * zoom)
        self.panel.apply_range(cx - half_w, cx + half_w, cy - half_h, cy + half_h)
        self.panel.image_item.update()
        self.image_b.update()

    def _on_wheel(self, factor: float, x: float, y: float) -> None:
        self.grid.state.zoom_about(factor, x, y, *self.viewport())
        self.grid.apply_view()

    def _on_pan(self, dx: float, dy: float) -> None:
        self.grid.state.pan(dx, dy, *self.viewport())
        self.grid.apply_view()

    def _on_divider_dragged(self) -> None:
        if self._placing:
            return
        width, height = self.grid.state.image_width, self.grid.state.image_height
        extent = width if self.model.orientation == "vertical" else height
        value = self.divider.value()
        if extent > 0 and isinstance(value, (int, float)) and math.isfinite(value):
            self.model.set_divider(value / extent)
            self.refresh()
            self.divider_moved.emit(self.model.divider)

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.apply_view()
