"""The comparison canvas: the grid of synchronised panels and what draws on them.

`ComparisonGrid` lays out one `ImagePanel` per image and keeps them on one `ViewState`;
its tools (`LineTool`, `RegionTool`) draw the profile line and the paper figure's regions
on every panel at once; the pixel items draw sharp pixels, reduced copies and values;
titles shorten their text rather than widen the window. Main thread only.
"""

from ._grid import METHOD_COLOURS, REFERENCE_KEY, ComparisonGrid, choose_columns, method_colour
from ._panel import PANEL_TOOLTIP, ImagePanel, PanelViewBox
from ._titles import ElidedLabel, PanelTitle
from ._tools import LineTool, RegionTool, pixel_box
from ._view_state import GRID_ZOOM, MAX_ZOOM, VALUES_ZOOM, ZOOM_STEP, ViewState

__all__ = [
    "ComparisonGrid",
    "ElidedLabel",
    "GRID_ZOOM",
    "ImagePanel",
    "LineTool",
    "MAX_ZOOM",
    "METHOD_COLOURS",
    "method_colour",
    "PANEL_TOOLTIP",
    "PanelTitle",
    "PanelViewBox",
    "pixel_box",
    "REFERENCE_KEY",
    "RegionTool",
    "VALUES_ZOOM",
    "ViewState",
    "ZOOM_STEP",
    "choose_columns",
]
