"""One camera for every panel: a centre and a magnification, applied to all views.

Linking pyqtgraph views to each other drifts on resize; keeping one state of our own and
deriving each view's range from it cannot drift, because nothing is fed back.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Magnifications (screen pixels per image pixel) the keys and wheel may reach.
MAX_ZOOM = 128.0
#: At and above this magnification a pixel grid is drawn.
GRID_ZOOM = 8.0
#: At and above this magnification each pixel's value is written inside it.
VALUES_ZOOM = 32.0
#: Each wheel notch (120 units) or +/- key press multiplies the zoom by this.
ZOOM_STEP = 1.25


@dataclass
class ViewState:
    """Centre ``(cx, cy)`` in image coordinates (pixel ``(r, c)`` spans ``[c, c+1)`` and
    ``[r, r+1)``), ``zoom`` in screen pixels per image pixel, and whether the view fits
    the image (then ``zoom`` follows the viewport size)."""

    cx: float = 0.0
    cy: float = 0.0
    zoom: float = 1.0
    fit: bool = True
    image_width: int = 1
    image_height: int = 1

    def set_image_size(self, width: int, height: int) -> None:
        """Adopt a new image size; keep the view when the size is unchanged."""
        if (width, height) != (self.image_width, self.image_height):
            self.image_width, self.image_height = width, height
            self.fit = True
            self.cx, self.cy = width / 2, height / 2

    def fit_zoom(self, viewport_width: float, viewport_height: float) -> float:
        """The zoom at which the whole image fits a viewport of this size (in pixels)."""
        return max(min(viewport_width / self.image_width, viewport_height / self.image_height), 1e-6)

    def effective_zoom(self, viewport_width: float, viewport_height: float) -> float:
        return self.fit_zoom(viewport_width, viewport_height) if self.fit else self.zoom

    def _leave_fit(self, viewport_width: float, viewport_height: float) -> None:
        if self.fit:
            self.zoom = self.fit_zoom(viewport_width, viewport_height)
            self.cx, self.cy = self.image_width / 2, self.image_height / 2
            self.fit = False

    def zoom_about(self, factor: float, x: float, y: float, viewport_width: float, viewport_height: float) -> None:
        """Multiply the zoom by ``factor`` keeping image point ``(x, y)`` where it is on
        screen. Zooming out never goes below the fit zoom (the view snaps to fit)."""
        self._leave_fit(viewport_width, viewport_height)
        fit = self.fit_zoom(viewport_width, viewport_height)
        new_zoom = min(self.zoom * factor, max(MAX_ZOOM, fit))
        if new_zoom <= fit * (1 + 1e-9):
            self.fit = True
            return
        applied = new_zoom / self.zoom
        self.cx = x + (self.cx - x) / applied
        self.cy = y + (self.cy - y) / applied
        self.zoom = new_zoom

    def set_zoom(self, zoom: float, viewport_width: float, viewport_height: float) -> None:
        """Set an absolute zoom about the current centre (``1`` is one-to-one)."""
        self._leave_fit(viewport_width, viewport_height)
        self.zoom = min(max(zoom, 1e-6), MAX_ZOOM)

    def pan(self, dx: float, dy: float, viewport_width: float, viewport_height: float) -> None:
        """Move the centre by ``(dx, dy)`` image pixels, keeping part of the image in view."""
        self._leave_fit(viewport_width, viewport_height)
        self.cx = min(max(self.cx + dx, 0.0), float(self.image_width))
        self.cy = min(max(self.cy + dy, 0.0), float(self.image_height))
