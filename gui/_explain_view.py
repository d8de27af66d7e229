"""Explain pixel: keeps the dock showing how the output pixel under the cursor, in the
panel under the cursor, was made (`core.Comparison.explain`, docs/METHODS.md#explain).

The explanation and the display copy of the input around its taps are made in the
runner's analysis pool while the dock can be seen; only the latest pixel asked for is
computed (a move of the cursor while one is on its way replaces the request), and what
arrives for a pixel no longer under the cursor, or from an earlier comparison, is
dropped. Main thread only.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtWidgets

import core

from ._shown_comparison import PreparedJob
from .canvas import REFERENCE_KEY
from .docks._explain_pixel import ExplainedPixel, ExplainPixel

if TYPE_CHECKING:
    from ._main_window import MainWindow

#: Input pixels drawn around the taps (or the receptive field) on each side.
MARGIN = 1
#: The most input pixels the plot shows a side (a receptive field may be larger).
MAX_SIDE = 40
HINT = "Move the cursor over a method's panel: the input pixels that made the pixel under it appear here."

Request = tuple[str, int, int]  # panel key, output row, column


def explain(result: core.MethodResult, y: int, x: int, title: str, comparison: core.Comparison) -> ExplainedPixel | str:
    """The explanation of pixel ``(y, x)`` of ``result`` and a display copy of the input
    around it, or why there is none. Runs in a worker."""
    try:
        explanation = comparison.explain(result, y, x)
    except core.UpscopeError as exc:
        return f"{title}: {exc}"
    box = _box(explanation)
    crop = np.ascontiguousarray(box.take(comparison.input))
    rgb = np.ascontiguousarray(core.to_display(crop, origin=(box.y, box.x)))
    shown = None
    if result.image is not None:
        value = np.asarray(result.image[y, x]).reshape(-1)
        shown = tuple(float(v) for v in value)
    return ExplainedPixel(title, explanation, box, rgb, shown)


def _box(e: core.PixelExplanation) -> core.Region:
    """The input pixels to draw: the taps (or the receptive field, or the pixel's source)
    with a margin, at most `MAX_SIDE` a side, within the input."""
    if e.taps:
        ys, xs = [t.y for t in e.taps], [t.x for t in e.taps]
        top, left, bottom, right = min(ys), min(xs), max(ys) + 1, max(xs) + 1
    elif e.receptive_field is not None:
        field = e.receptive_field
        top, left, bottom, right = field.y, field.x, field.y + field.height, field.x + field.width
    else:
        top = int(e.y * e.in_size[0] / e.out_size[0])
        left = int(e.x * e.in_size[1] / e.out_size[1])
        bottom, right = top + 1, left + 1
    top, left = max(0, top - MARGIN), max(0, left - MARGIN)
    bottom, right = min(e.in_size[0], bottom + MARGIN, top + MAX_SIDE), min(e.in_size[1], right + MARGIN, left + MAX_SIDE)
    return core.Region(left, top, right - left, bottom - top)


class ExplainView(QtCore.QObject):
    """The Explain pixel dock of ``window`` and the work behind it."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.widget = ExplainPixel()
        self.widget.clear(HINT)
        dock = QtWidgets.QDockWidget("Explain pixel", window)
        dock.setObjectName("dock-explain-pixel")
        dock.setWidget(self.widget)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        window.docks["explain"] = dock
        self.dock = dock
        self._wanted: Request | None = None
        self._running: Request | None = None
        window.runner.prepared.connect(self._on_prepared)
        window.grid.panel_hovered.connect(self._on_panel_hover)
        dock.visibilityChanged.connect(self._on_visibility)

    def _on_visibility(self, visible: bool) -> None:
        if visible:
            self._ask()

    def _on_prepared(self, _job: PreparedJob) -> None:
        self._wanted = self._running = None
        self.widget.clear(HINT)

    def _on_panel_hover(self, key: str, x: float, y: float) -> None:
        job = self.window.shown.job
        if job is None:
            return
        height, width = job.comparison.output_size
        row, column = math.floor(y), math.floor(x)
        if 0 <= row < height and 0 <= column < width and (key, row, column) != self._wanted:
            self.explain_at(key, row, column)

    def explain_at(self, key: str, row: int, column: int) -> None:
        """Explain output pixel ``(row, column)`` of panel ``key`` (as a hover there does)."""
        if key == REFERENCE_KEY or not key:
            self.widget.clear("The reference is an input, not a method's output: hover a method's panel.")
            self._wanted = None
            return
        self._wanted = (key, row, column)
        self._ask()

    def _ask(self) -> None:
        """Start the latest request unless one is computing (it follows when that arrives)."""
        wanted = self._wanted
        if wanted is None or self._running is not None or not self._visible():
            return
        key, row, column = wanted
        result = self.window.results.get(key)
        if result is None or result.image is None:
            reason = "its result is on its way" if result is None else f"it could not run: {result.reason}"
            self.widget.clear(f"Nothing to explain in this panel yet: {reason}.")
            return
        panel = self.window.grid.panel(key)
        title = panel.label if panel is not None else key
        self._running = wanted
        self.window.runner.run_for_job(functools.partial(explain, result, row, column, title),
                                       functools.partial(self._on_explained, wanted))

    def _visible(self) -> bool:
        # A dock behind another's tab counts as visible to Qt, but nothing of it shows.
        return self.dock.isVisible() and not self.dock.visibleRegion().isEmpty()

    def _on_explained(self, request: Request, value: object) -> None:
        self._running = None
        if request == self._wanted and isinstance(value, ExplainedPixel):
            self.widget.show_pixel(value)
        elif request == self._wanted:
            self.widget.clear(str(value))
        else:
            self._ask()
