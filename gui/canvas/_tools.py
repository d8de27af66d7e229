"""The grid's tools: the profile line and the regions of the paper figure, each drawn by a
drag on any panel while its tool is on.

Plain Python (no Qt): a tool follows the stages of a drag in image coordinates and holds
what it drew; `ComparisonGrid` routes drags to the tool that is on and shows the result
on every panel. One tool at a time takes the drag (the window's actions see to that).
"""

from __future__ import annotations

import math

import core

Point = tuple[float, float]
Line = tuple[Point, Point]
#: How near (in screen pixels) a press must land to an end of the line to grab it.
GRAB_REACH_PX = 8.0


def pixel_box(a: Point, b: Point, width: int, height: int) -> core.Region | None:
    """The whole pixels a drag from ``a`` to ``b`` (image ``(x, y)``) covers, clipped to a
    ``width x height`` image; None when that leaves nothing."""
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
    right, bottom = min(width, math.ceil(x1)), min(height, math.ceil(y1))
    if right <= left or bottom <= top:
        return None
    return core.Region(left, top, right - left, bottom - top)


class LineTool:
    """The profile line: a drag draws a new one; a press near an end of the line moves
    that end instead."""

    def __init__(self) -> None:
        self.active = False
        self.line: Line | None = None
        self._drag: str | None = None  # "new", "start" or "end" while a drag runs
        self._anchor: Point = (0.0, 0.0)

    def set(self, start: Point | None, end: Point | None) -> None:
        """Put the line from ``start`` to ``end`` (either None: no line)."""
        self.line = None if start is None or end is None else ((start[0], start[1]), (end[0], end[1]))

    def drag(self, stage: str, x: float, y: float, zoom: float) -> bool:
        """Follow a drag ``stage`` ("start", "move", "finish") at image point ``(x, y)``,
        at ``zoom`` screen pixels per image pixel; True when the line changed."""
        if stage == "start":
            self._drag = "new"
            if self.line is not None:
                reach = GRAB_REACH_PX / zoom
                for name, (ex, ey) in zip(("start", "end"), self.line, strict=True):
                    if math.hypot(ex - x, ey - y) <= reach:
                        self._drag = name
            if self._drag == "new":
                self._anchor = (x, y)
            return False
        if self._drag is None:
            return False
        if self._drag == "new" or self.line is None:
            self.set(self._anchor, (x, y))
        elif self._drag == "start":
            self.set((x, y), self.line[1])
        else:
            self.set(self.line[0], (x, y))
        if stage == "finish":
            self._drag = None
        return True


class RegionTool:
    """Regions of interest, at most one per colour of `core.REGION_COLOURS`: each drag
    marks one; one more replaces the oldest."""

    def __init__(self) -> None:
        self.active = False
        self.regions: list[core.Region] = []
        #: The region a drag in progress covers (not marked until the drag ends).
        self.preview: core.Region | None = None
        self._anchor: Point | None = None

    @staticmethod
    def most() -> int:
        """How many regions can be marked at once."""
        return len(core.REGION_COLOURS)

    def set(self, regions: list[core.Region]) -> None:
        """Mark ``regions`` (the latest ones when there are too many)."""
        self.regions = list(regions)[-self.most():]
        self.preview = None

    def drag(self, stage: str, x: float, y: float, width: int, height: int) -> bool:
        """Follow a drag ``stage`` ("start", "move", "finish") at image point ``(x, y)`` on
        a ``width x height`` image; True when a drag ended (the regions changed), False
        while it runs (`preview` shows it)."""
        if stage == "start":
            self._anchor = (x, y)
            if len(self.regions) == self.most():
                self.regions = self.regions[1:]
            return False
        if self._anchor is None:
            return False
        region = pixel_box(self._anchor, (x, y), width, height)
        if stage != "finish":
            self.preview = region
            return False
        self._anchor = None
        self.set(self.regions + ([region] if region is not None else []))
        return True

    def shown(self) -> list[core.Region]:
        """What the panels outline: the regions, and the one being dragged."""
        shown = self.regions + ([self.preview] if self.preview is not None else [])
        return shown[-self.most():]
