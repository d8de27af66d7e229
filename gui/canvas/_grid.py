"""The grid of panels: reference first, one panel per method, one shared view.

Main thread only. Every gesture on any panel changes the one `ViewState`; the grid then
sets every panel's range from it, so panels cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6 import QtCore, QtGui, QtWidgets

import core

from ._panel import ImagePanel
from ._tools import Line, LineTool, Point, RegionTool, pixel_box
from ._view_state import ViewState

#: Distinct, colour-blind-friendly colours (Okabe-Ito, then Tableau) for the methods'
#: curves and title swatches; the reference is drawn in white.
METHOD_COLOURS = [
    "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7",
    "#8c564b", "#17becf", "#bcbd22", "#7f7f7f", "#9467bd", "#ff9896", "#98df8a",
]
REFERENCE_KEY = "reference"


def method_colour(key: str) -> QtGui.QColor:
    """The colour of a method's swatch and curve: fixed by its place among all registered
    methods, so a method keeps its colour whichever others are ticked. Another run of
    one method (``bicubic[a=-0.5]``, a panel key) takes a lighter or darker shade of it."""
    ids = [spec.id for spec in core.list_methods()]
    base = key.split("[", 1)[0]
    index = ids.index(base) if base in ids else sum(map(ord, base))
    colour = QtGui.QColor(METHOD_COLOURS[index % len(METHOD_COLOURS)])
    if base != key:
        factor, lighter = ((135, True), (135, False), (170, True), (170, False))[sum(map(ord, key)) % 4]
        colour = colour.lighter(factor) if lighter else colour.darker(factor)
    return colour


def choose_columns(count: int, width: float, height: float, aspect: float) -> int:
    """The number of columns that shows ``count`` panels of image aspect ``aspect``
    (width / height) largest in a ``width x height`` area."""
    if count <= 0:
        return 1
    best, best_scale = 1, -1.0
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        scale = min(width / columns / aspect, height / rows)
        if scale > best_scale + 1e-9:
            best, best_scale = columns, scale
    return best


class ComparisonGrid(QtWidgets.QWidget):
    """Panels in a grid that fills the widget, with synchronised zoom and crosshair, and
    the tools that draw on every panel at once: the profile line and the regions."""

    hovered = QtCore.Signal(int, int)  # image row, column under the cursor (-1, -1: none)
    panel_hovered = QtCore.Signal(str, float, float)  # the panel's key, image x, y under the cursor
    line_changed = QtCore.Signal(object, object)  # start (x, y), end (x, y), or None, None
    regions_changed = QtCore.Signal(object)  # list of core.Region (at most two)
    view_changed = QtCore.Signal()  # zoom or centre changed
    maximise_requested = QtCore.Signal(str)  # panel key
    level_needed = QtCore.Signal(str, object, object)  # panel key, its array, core.DisplayWindow its view needs

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = ViewState()
        self.panels: dict[str, ImagePanel] = {}
        #: The viewport size of a view showing the images in the grid's place, if any.
        self.shown_elsewhere: Callable[[], tuple[float, float]] | None = None
        self._order: list[str] = []
        self._maximised: str | None = None
        self._columns = 1
        # Panels are placed by hand (see `_relayout`), not by a layout: a layout would add
        # up the panels' minimum sizes into the window's, so the window could only grow.
        self.spacing = 3
        self.setMinimumSize(120, 90)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.line_tool = LineTool()
        self.region_tool = RegionTool()
        #: Whether the region boxes are hidden (the panels show spectra).
        self.regions_hidden = False

    # Panels ---------------------------------------------------------------------------

    def set_panels(self, entries: list[tuple[str, str]], image_size: tuple[int, int]) -> None:
        """Show panels for ``entries`` (key, label) in order, for images of
        ``image_size`` (height, width). Panels whose key and label are unchanged are
        kept (building a view costs several milliseconds of the GUI thread). The view,
        the profile line and the marked regions are kept when the size is unchanged, and
        cleared otherwise."""
        wanted = dict(entries)
        for key in [k for k, p in self.panels.items() if wanted.get(k) != p.label]:
            panel = self.panels.pop(key)
            panel.hide()
            panel.deleteLater()
        order = [key for key, _ in entries]
        for key, label in entries:
            colour = QtGui.QColor("#ffffff") if key == REFERENCE_KEY else method_colour(key)
            if key not in self.panels:
                self.panels[key] = self._new_panel(key, label)
            panel = self.panels[key]
            panel.colour = colour
            panel.set_title(label)
            panel.set_image(None, None)
            panel.set_status(None)
            panel.setToolTip("")
        self.panels = {key: self.panels[key] for key in order}
        self._order = order
        self._maximised = None
        if (image_size[1], image_size[0]) != (self.state.image_width, self.state.image_height):
            # Marks are in pixels of the old grid: on another image they would mark
            # something else (and a figure would crop the wrong place).
            self.line_tool.set(None, None)
            if self.regions:
                self.set_regions([])
        self.state.set_image_size(image_size[1], image_size[0])
        self._relayout(force=True)
        self.set_line(*(self.line or (None, None)))
        self._show_regions()

    def _new_panel(self, key: str, label: str) -> ImagePanel:
        panel = ImagePanel(key, label, QtGui.QColor("white"), self)
        panel.view_box.line_mode = self.line_tool.active
        panel.view_box.region_mode = self.region_tool.active
        panel.view_box.region_dragged.connect(self._on_region_drag)
        panel.view_box.wheel_zoomed.connect(self.zoom_by)
        panel.view_box.drag_panned.connect(self._on_pan)
        panel.view_box.line_dragged.connect(self._on_line_drag)
        panel.view_box.sigResized.connect(lambda _vb, p=panel: self._apply_view_to(p))
        panel.image_item.level_wanted.connect(lambda source, window, k=key: self.level_needed.emit(k, source, window))
        panel.hovered.connect(self._on_hover)
        panel.hovered.connect(lambda x, y, k=key: self.panel_hovered.emit(k, x, y))
        panel.maximise_requested.connect(lambda k=key: self.maximise_requested.emit(k))
        panel.title_lines_wanted_changed.connect(self._sync_title_lines)
        return panel

    def _sync_title_lines(self, width: int | None = None) -> None:
        """Give every visible title the most lines any of them needs at panel ``width``
        (default: their width now), so all panels keep exactly the same view size (and
        so the same range)."""
        visible = self.visible_panels()
        count = max((p.title_lines_wanted(width) for p in visible), default=1)
        for panel in visible:
            panel.set_title_lines(count)

    def panel(self, key: str) -> ImagePanel | None:
        return self.panels.get(key)

    @property
    def columns(self) -> int:
        return self._columns

    @property
    def maximised(self) -> str | None:
        return self._maximised

    def toggle_maximise(self, key: str) -> None:
        """Show panel ``key`` alone; the same call again (or another key) restores or
        switches."""
        self._maximised = None if self._maximised == key else key
        self._relayout(force=True)
        # The panel that had the focus may be hidden now: keep the view keys working.
        self.setFocus()

    def visible_panels(self) -> list[ImagePanel]:
        keys = [self._maximised] if self._maximised in self.panels else self._order
        return [self.panels[k] for k in keys]

    def _relayout(self, force: bool = False) -> None:
        """Place the visible panels in the best number of columns. Every panel gets
        exactly the same size, so the same view state gives every panel the same range
        (a layout's stretch would leave them a pixel apart); the panels follow the
        grid's size and never ask it to grow."""
        visible = self.visible_panels()
        aspect = self.state.image_width / max(self.state.image_height, 1)
        columns = choose_columns(len(visible), max(self.width(), 1), max(self.height(), 1), aspect)
        if columns != self._columns or force:
            self._columns = columns
            shown = set(map(id, visible))
            for panel in self.panels.values():
                if id(panel) not in shown:
                    panel.setVisible(False)
        rows = max(math.ceil(len(visible) / self._columns), 1)
        spacing = self.spacing
        width = max((self.width() - spacing * (self._columns - 1)) // self._columns, 1)
        height = max((self.height() - spacing * (rows - 1)) // rows, 1)
        for index, panel in enumerate(visible):
            row, column = divmod(index, self._columns)
            panel.setGeometry(column * (width + spacing), row * (height + spacing), width, height)
            panel.setVisible(True)
        self._sync_title_lines(width)
        self.apply_view()

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return QtCore.QSize(800, 600)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._relayout()

    # The shared view ------------------------------------------------------------------

    def reference_viewport(self) -> tuple[float, float]:
        """The viewport size the zoom is computed for: the smallest visible panel's, so
        "fit" shows the whole image in every panel; while another view shows the images
        in the grid's place (swipe, blink: `shown_elsewhere`), that view's."""
        if self.shown_elsewhere is not None:
            return self.shown_elsewhere()
        sizes = [p.viewport_size() for p in self.visible_panels()] or [(1.0, 1.0)]
        return min(w for w, _ in sizes), min(h for _, h in sizes)

    def apply_view(self) -> None:
        for panel in self.visible_panels():
            self._apply_view_to(panel)
        self.request_levels()
        self.view_changed.emit()

    def request_levels(self) -> None:
        """Repaint every panel's image. Below a zoom of 1 a panel's image item works out,
        as it paints, the area-reduced copy its view needs (from its actual transform,
        device pixel ratio included) and asks for it through `level_needed`."""
        for panel in self.panels.values():
            panel.image_item.update()

    def _apply_view_to(self, panel: ImagePanel) -> None:
        width, height = panel.viewport_size()
        if self.state.fit:
            # Every panel fits at the zoom of the smallest one, so all show the same scale.
            zoom = self.state.fit_zoom(*self.reference_viewport())
            cx, cy = self.state.image_width / 2, self.state.image_height / 2
        else:
            zoom, cx, cy = self.state.zoom, self.state.cx, self.state.cy
        half_w, half_h = width / (2 * zoom), height / (2 * zoom)
        panel.apply_range(cx - half_w, cx + half_w, cy - half_h, cy + half_h)

    def zoom(self) -> float:
        """Screen pixels per image pixel now."""
        return self.state.effective_zoom(*self.reference_viewport())

    def zoom_by(self, factor: float, x: float | None = None, y: float | None = None) -> None:
        if x is None or y is None:
            visible = self.visible_panels()
            if visible and self.shown_elsewhere is None:
                (x0, x1), (y0, y1) = visible[0].view_range()
                x, y = (x0 + x1) / 2, (y0 + y1) / 2
            elif self.state.fit:
                x, y = self.state.image_width / 2, self.state.image_height / 2
            else:
                x, y = self.state.cx, self.state.cy
        self.state.zoom_about(factor, x, y, *self.reference_viewport())
        self.apply_view()

    def look_at(self, x: float, y: float, zoom: float) -> None:
        """Centre every panel on image point ``(x, y)`` at ``zoom`` screen pixels per
        image pixel."""
        self.state.set_zoom(zoom, *self.reference_viewport())
        self.state.cx, self.state.cy = x, y
        self.apply_view()

    def fit(self) -> None:
        self.state.fit = True
        self.apply_view()

    def one_to_one(self) -> None:
        self.state.set_zoom(1.0, *self.reference_viewport())
        self.apply_view()

    def pan_by_screen(self, dx_screen: float, dy_screen: float) -> None:
        zoom = self.zoom()
        self.state.pan(dx_screen / zoom, dy_screen / zoom, *self.reference_viewport())
        self.apply_view()

    def _on_pan(self, dx: float, dy: float) -> None:
        self.state.pan(dx, dy, *self.reference_viewport())
        self.apply_view()

    # Crosshair ------------------------------------------------------------------------

    def hover_at(self, x: float, y: float) -> None:
        """Show the crosshair and report the pixel at image point ``(x, y)``, as a hover
        over a panel does (for views that show the panels' images elsewhere)."""
        self._on_hover(x, y)

    def _on_hover(self, x: float, y: float) -> None:
        # Only a move inside a panel changes the pixel: when the cursor leaves the panels,
        # the crosshair and the inspector stay on the last one, so the inspector can be read
        # (and scrolled) with the mouse over it.
        column, row = math.floor(x), math.floor(y)
        inside = 0 <= column < self.state.image_width and 0 <= row < self.state.image_height
        for panel in self.panels.values():
            panel.set_crosshair(column + 0.5 if inside else None, row + 0.5 if inside else None)
        self.hovered.emit(row if inside else -1, column if inside else -1)

    # Profile line ---------------------------------------------------------------------

    @property
    def line_mode(self) -> bool:
        return self.line_tool.active

    def set_line_mode(self, enabled: bool) -> None:
        """While on, a drag on any panel draws the profile line (or moves an end of it)."""
        self.line_tool.active = enabled
        for panel in self.panels.values():
            panel.view_box.line_mode = enabled

    @property
    def line(self) -> Line | None:
        return self.line_tool.line

    def set_line(self, start: Point | None, end: Point | None) -> None:
        self.line_tool.set(start, end)
        self._show_line()

    def _show_line(self) -> None:
        for panel in self.panels.values():
            panel.set_line(*(self.line or (None, None)))
        self.line_changed.emit(*(self.line or (None, None)))

    def _on_line_drag(self, stage: str, x: float, y: float) -> None:
        if self.line_tool.drag(stage, x, y, self.zoom()):
            self._show_line()

    # Regions of interest (for the paper figure) -------------------------------------------

    @property
    def region_mode(self) -> bool:
        return self.region_tool.active

    def set_region_mode(self, enabled: bool) -> None:
        """While on, a drag on any panel marks a region; a third one replaces the first."""
        self.region_tool.active = enabled
        for panel in self.panels.values():
            panel.view_box.region_mode = enabled

    @property
    def regions(self) -> list[core.Region]:
        """The marked regions, oldest first."""
        return self.region_tool.regions

    def set_regions(self, regions: Sequence[core.Region]) -> list[str]:
        """Mark ``regions``, each clipped to the image (as a drag is); returns why any was
        dropped (one lying wholly outside the image), for the caller to say."""
        kept, dropped = [], []
        shape = (self.state.image_height, self.state.image_width)
        for number, region in enumerate(regions, start=1):
            try:
                kept.append(region.within(shape, f"region {number}") if min(shape) > 0 else region)
            except core.ParameterError as exc:
                dropped.append(f"{exc}; it was left out")
        self.region_tool.set(kept)
        self._show_regions()
        self.regions_changed.emit(list(self.regions))
        return dropped

    def _show_regions(self) -> None:
        boxes = [] if self.regions_hidden else [(r.x, r.y, r.width, r.height) for r in self.region_tool.shown()]
        for panel in self.panels.values():
            panel.set_regions(boxes)

    def hide_regions(self, hidden: bool) -> None:
        """Hide the region boxes while the panels show something other than images (their
        spectra, whose coordinates are frequencies), or show them again."""
        self.regions_hidden = hidden
        self._show_regions()

    def _on_region_drag(self, stage: str, x: float, y: float) -> None:
        ended = self.region_tool.drag(stage, x, y, self.state.image_width, self.state.image_height)
        self._show_regions()
        if ended:
            self.regions_changed.emit(list(self.regions))

    def visible_region(self) -> core.Region:
        """The whole pixels the panels show now (the "current view" of an export)."""
        panel = next(iter(self.visible_panels()), None)
        width, height = self.state.image_width, self.state.image_height
        if panel is None:
            return core.Region(0, 0, width, height)
        (x0, x1), (y0, y1) = panel.view_range()
        return pixel_box((x0, y0), (x1, y1), width, height) or core.Region(0, 0, width, height)
