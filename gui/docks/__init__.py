"""The window's docks: settings, the images opened, the metrics table, the pixel
inspector, the line profile and the radial power profile. Each shows what it is given
and says what the user did through its signals; none computes pixels. Main thread only.
"""

from ._image_list import ImageList
from ._line_profile import LineProfilePlot
from ._metrics_table import SORT_ROLE, MetricsTable, SortableItem
from ._pixel_inspector import PixelInspector
from ._radial_profile import RadialProfilePlot
from ._settings_panel import CONVENTION_TEXT, DEFAULT_METHODS, MODE_TEXT, SettingsPanel, method_tooltip
from ._wheel_guard import guard_wheel

__all__ = [
    "CONVENTION_TEXT",
    "DEFAULT_METHODS",
    "guard_wheel",
    "ImageList",
    "LineProfilePlot",
    "method_tooltip",
    "MODE_TEXT",
    "MetricsTable",
    "PixelInspector",
    "RadialProfilePlot",
    "SettingsPanel",
    "SORT_ROLE",
    "SortableItem",
]
