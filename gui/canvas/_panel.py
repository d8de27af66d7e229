"""One panel of the comparison grid: a title, a pixel view, a crosshair and a status line.

Main thread only. The panel does not own its view range: it reports wheel, drag and
hover in image coordinates, and `ComparisonGrid` tells every panel what to show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseDragEvent
from PySide6 import QtCore, QtGui, QtWidgets

import core

from ._pixel_items import PixelImageItem, PixelOverlayItem
from ._titles import PanelTitle
from ._view_state import ZOOM_STEP

#: What a double-click on a panel does, said under its title's tooltip.
PANEL_TOOLTIP = "Double-click to show this panel alone; double-click again to bring back the grid."


class PanelViewBox(pg.ViewBox):
    """A ViewBox that reports gestures instead of changing its own range."""

    wheel_zoomed = QtCore.Signal(float, float, float)  # factor, image x, image y
    drag_panned = QtCore.Signal(float, float)  # image dx, dy to move the centre by
    line_dragged = QtCore.Signal(str, float, float)  # "start" / "move" / "finish", image x, y
    region_dragged = QtCore.Signal(str, float, float)  # the same, while marking a region

    def __init__(self) -> None:
        super().__init__(invertY=True, enableMenu=False)
        self.setMouseEnabled(False, False)
        self.line_mode = False
        self.region_mode = False

    def wheelEvent(self, ev: QtWidgets.QGraphicsSceneWheelEvent, axis: int | None = None) -> None:  # noqa: N802 (Qt override)
        steps = ev.delta() / 120.0
        if steps == 0:
            return
        point = self.mapSceneToView(ev.scenePos())
        self.wheel_zoomed.emit(ZOOM_STEP**steps, point.x(), point.y())
        ev.accept()

    def mouseDragEvent(self, ev: MouseDragEvent, axis: int | None = None) -> None:  # noqa: N802 (Qt override)
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        here = self.mapToView(ev.pos())
        if self.line_mode or self.region_mode:
            signal = self.region_dragged if self.region_mode else self.line_dragged
            if ev.isStart():
                start = self.mapToView(ev.buttonDownPos())
                signal.emit("start", start.x(), start.y())
            signal.emit("finish" if ev.isFinish() else "move", here.x(), here.y())
            return
        before = self.mapToView(ev.lastPos())
        self.drag_panned.emit(before.x() - here.x(), before.y() - here.y())

    def mouseDoubleClickEvent(self, ev: QtWidgets.QGraphicsSceneMouseEvent) -> None:  # noqa: N802 (Qt override)
        ev.ignore()


class ImagePanel(QtWidgets.QFrame):
    """A titled pixel view of one image (the reference or one method's result)."""

    hovered = QtCore.Signal(float, float)  # image x, y under the cursor
    maximise_requested = QtCore.Signal()  # the user double-clicked the panel

    def __init__(self, key: str, label: str, colour: QtGui.QColor, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.label = label
        self.colour = colour
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setObjectName(f"panel-{key}")
        self._title = PanelTitle()
        self._title.hint = PANEL_TOOLTIP
        self.view = pg.GraphicsView()
        self.view.setBackground(QtGui.QColor(32, 32, 32))
        self.view_box = PanelViewBox()
        self.view.setCentralItem(self.view_box)
        self.image_item = PixelImageItem()
        self.overlay_item = PixelOverlayItem()
        self.view_box.addItem(self.image_item)
        self.view_box.addItem(self.overlay_item)
        pen = pg.mkPen(255, 255, 0, 160, width=1, cosmetic=True)
        self._cross_x = pg.InfiniteLine(angle=90, pen=pen, movable=False)
        self._cross_y = pg.InfiniteLine(angle=0, pen=pen, movable=False)
        self.line_item = pg.PlotDataItem(pen=pg.mkPen(255, 200, 0, width=2), symbol="o", symbolSize=7, symbolBrush=(255, 200, 0))
        self.region_items: list[QtWidgets.QGraphicsRectItem] = []
        for rgb in core.REGION_COLOURS:
            outline = QtWidgets.QGraphicsRectItem()
            outline_pen = QtGui.QPen(QtGui.QColor(*rgb), 2)
            outline_pen.setCosmetic(True)  # two screen pixels wide at every zoom
            outline.setPen(outline_pen)
            outline.setVisible(False)
            outline.setZValue(20)
            self.region_items.append(outline)
            self.view_box.addItem(outline, ignoreBounds=True)
        for item in (self._cross_x, self._cross_y, self.line_item):
            item.setVisible(False)
            self.view_box.addItem(item, ignoreBounds=True)
        self._status = QtWidgets.QLabel(self.view)
        self._status.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._status.setWordWrap(True)
        self._status.setStyleSheet("color: #ddd; background: rgba(0, 0, 0, 150); padding: 8px; border-radius: 4px;")
        self._status.hide()
        self._layout = layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addWidget(self._title)
        layout.addWidget(self.view, 1)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view.viewport().installEventFilter(self)
        self.set_title(label)

    # What the panel shows -------------------------------------------------------------

    def set_title(self, label: str, details: Sequence[str | tuple[str, str]] = ()) -> None:
        """The method's name and details, most important first (see `PanelTitle`)."""
        self._title.set_title(label, details, self.colour)

    @property
    def title_lines_wanted_changed(self) -> QtCore.SignalInstance:
        """Emitted when the title needs another number of lines (see `PanelTitle`)."""
        return self._title.lines_wanted_changed

    def title_lines_wanted(self, width: int | None = None) -> int:
        """Lines the title needs when the panel is ``width`` pixels wide (default: now)."""
        if width is None:
            return self._title.lines_wanted
        margins = self._layout.contentsMargins()
        return self._title.lines_for(width - margins.left() - margins.right())

    def set_title_lines(self, count: int) -> None:
        self._title.set_line_count(count)

    def title_text(self) -> str:
        """Everything the title says (the tooltip)."""
        return self._title.full_text()

    def shown_title(self) -> str:
        """The title as it fits the panel now."""
        return self._title.shown_text()

    def set_image(
        self, display: np.ndarray | None, values: np.ndarray | None, width: int | None = None, height: int | None = None
    ) -> None:
        """Show ``display`` (uint8, see `core.to_display`) over ``width x height`` image
        units; ``values`` (same size as ``display``) are the numbers written at high zoom."""
        self.image_item.set_array(display, width, height)
        self.overlay_item.set_values(values, display, width, height)
        if display is None:
            # An item with no area repaints nothing: the old picture must not linger.
            self.view.viewport().update()

    def set_status(self, text: str | None) -> None:
        """A message over the view ("computing...", or why the method cannot run); None
        hides it."""
        if text:
            self._status.setText(text)
            self._status.show()
            self._place_status()
        else:
            self._status.hide()

    def status_text(self) -> str | None:
        return None if self._status.isHidden() else self._status.text()

    @property
    def shown_array(self) -> np.ndarray | None:
        return self.image_item.array

    def viewport_size(self) -> tuple[float, float]:
        rect = self.view_box.boundingRect()
        return max(rect.width(), 1.0), max(rect.height(), 1.0)

    def apply_range(self, x0: float, x1: float, y0: float, y1: float) -> None:
        self.view_box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        return (x0, x1), (y0, y1)

    def set_crosshair(self, x: float | None, y: float | None) -> None:
        visible = x is not None and y is not None
        self._cross_x.setVisible(visible)
        self._cross_y.setVisible(visible)
        if visible:
            self._cross_x.setValue(x)
            self._cross_y.setValue(y)

    def set_regions(self, regions: Sequence[tuple[float, float, float, float]]) -> None:
        """Outline up to two regions ``(x, y, width, height)`` in image pixels, in the
        colours the paper figure uses for them."""
        for index, item in enumerate(self.region_items):
            if index < len(regions):
                item.setRect(QtCore.QRectF(*regions[index]))
                item.setVisible(True)
            else:
                item.setVisible(False)

    def set_line(self, start: tuple[float, float] | None, end: tuple[float, float] | None) -> None:
        if start is None or end is None:
            self.line_item.setVisible(False)
            return
        self.line_item.setData([start[0], end[0]], [start[1], end[1]])
        self.line_item.setVisible(True)

    # Events ---------------------------------------------------------------------------

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            return
        point = self.view_box.mapSceneToView(scene_pos)
        if math.isfinite(point.x()) and math.isfinite(point.y()):
            self.hovered.emit(point.x(), point.y())

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.MouseButtonDblClick:
            self.maximise_requested.emit()
            return True
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._place_status()

    def _place_status(self) -> None:
        width = min(self.view.width() - 20, 420)
        self._status.setFixedWidth(max(width, 60))
        self._status.adjustSize()
        self._status.move((self.view.width() - self._status.width()) // 2, (self.view.height() - self._status.height()) // 2)
