"""Comparison figures as RGB arrays: the grid a viewer shows, and the paper figure.

Both are drawn with NumPy (pixels) and Pillow (typeset text, with the scalable font that
ships inside Pillow), so the command line makes exactly the figure the app makes, with no
display. Image tiles are never resampled smoothly: a tile is the result's own pixels,
repeated ``magnification`` times along each axis, so a figure can be checked pixel by
pixel against the arrays it shows.
"""

from core.report.figures.grid import comparison_figure, reference_tile
from core.report.figures.layout import (
    REGION_COLOURS,
    THEMES,
    GridLayout,
    GridOptions,
    check_figure,
    grid_layout,
)
from core.report.figures.paper import paper_figure

__all__ = [
    "GridLayout", "GridOptions", "REGION_COLOURS", "THEMES", "check_figure", "comparison_figure", "grid_layout",
    "paper_figure", "reference_tile",
]
