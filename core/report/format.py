"""Numbers as every table, title and figure writes them, and the units they are in.

One formatter: the viewer's metrics dock, its panel titles, the exported figures and the
command line all show a metric the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.metrics.measures import Metrics

INFINITY = "\u221e"
MISSING = "-"


def image_units(dtype: np.dtype | type) -> str:
    """The unit of an image's values and errors: ``"levels 0-255"`` (uint8),
    ``"levels 0-65535"`` (uint16), ``"0-1"`` for floating-point images."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        return f"levels {np.iinfo(dtype).min}-{np.iinfo(dtype).max}"
    return "0-1"


@dataclass(frozen=True)
class ErrorUnits:
    """How MAE and max error read for one comparison: ``unit`` as headers name it
    (``"levels 0-255"``, ``"0-1"``, ``"luma 0-1"``), ``integer`` when the max error is a
    whole number of levels, ``measured`` a sentence on what was measured."""

    unit: str
    integer: bool
    measured: str

    @classmethod
    def of(cls, metrics: Metrics, dtype: np.dtype | type) -> ErrorUnits:
        """The units of ``metrics`` measured on images of type ``dtype``."""
        if metrics.convention == "paper":
            border = f", a border of {metrics.shave} px shaved off" if metrics.shave else ""
            return cls("luma 0-1", False, f"on BT.601 luma in the 0-1 range (paper convention{border})")
        integer = bool(np.issubdtype(np.dtype(dtype), np.integer))
        unit = image_units(dtype)
        return cls(unit, integer, f"over every pixel and channel, in the image's own {unit}")


def format_metric(key: str, value: float | None, units: ErrorUnits | None = None) -> str:
    """The text of one metric: ``key`` is a column of `core.report.table.COLUMNS`
    (``time_ms``, ``psnr``, ``ssim``, ``mae``, ``max_error``, ``flip``, ``checkerboard``). Fixed point, never an
    exponent; a max error in integer levels as a whole number; ``"-"`` for a missing
    value, ``"∞"`` for an infinite PSNR."""
    if value is None:
        return MISSING
    if math.isinf(value):
        return INFINITY if value > 0 else "-" + INFINITY
    if key == "time_ms":
        return f"{value:.1f}"
    if key == "psnr":
        return f"{value:.2f}"
    if key in ("ssim", "flip"):
        return f"{value:.4f}"
    if key == "checkerboard":
        return f"{value:.3f}" if abs(value) >= 0.0005 else "0.000"  # no "-0.000"
    levels = units is not None and units.integer
    if key == "max_error" and levels:
        return f"{value:.0f}"
    return f"{value:.2f}" if levels else f"{value:.5f}"
