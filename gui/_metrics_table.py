"""The metrics table: one row per method, sortable, the best value of each column marked.

The MAE and max-error headers name their unit, which depends on the metric convention and
the image's type: levels of 0-255 or 0-65535 for 8- and 16-bit images on all channels,
0-1 for floating-point images and on the paper convention (luma). Main thread only.
"""

from __future__ import annotations

import math
from typing import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

import core
from core import MethodResult

from ._help import rich_tooltip
from ._settings_panel import changed_params_text, method_tooltip

#: (header, how to read it from a result, True when higher is better)
COLUMNS: tuple[tuple[str, object, bool], ...] = (
    ("Method", None, False),
    ("Time (ms)", lambda r: r.seconds * 1000.0, False),
    ("PSNR (dB)", lambda r: r.metrics.psnr if r.metrics else None, True),
    ("SSIM", lambda r: r.metrics.ssim if r.metrics else None, True),
    ("MAE", lambda r: r.metrics.mae if r.metrics else None, False),
    ("Max error", lambda r: r.metrics.max_abs if r.metrics else None, False),
)
MAE_COLUMN, MAX_COLUMN = 4, 5
SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
KEY_ROLE = QtCore.Qt.ItemDataRole.UserRole
BEST_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2
NOTE_ROLE = QtCore.Qt.ItemDataRole.UserRole + 3  # the cell's own tooltip, under "Best in this column"
#: Why a measured method shows "-" for its metrics when nothing else says why.
NO_REFERENCE_NOTE = (
    "Not measured: there is no reference. Upscale mode has no ground truth; pick a method as the "
    "reference in Settings to measure the others against it."
)


def image_units(dtype: np.dtype | type) -> str:
    """The unit of an image's values and errors: ``"levels 0-255"`` (uint8),
    ``"levels 0-65535"`` (uint16), ``"0-1"`` for floating-point images."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        return f"levels {np.iinfo(dtype).min}-{np.iinfo(dtype).max}"
    return "0-1"


@dataclass(frozen=True)
class ErrorUnits:
    """How MAE and max error read for one comparison: ``unit`` as the headers name it
    (``"levels 0-255"``, ``"0-1"``, ``"luma 0-1"``), ``integer`` when the max error is a
    whole number of levels, ``tooltip`` what was measured."""

    unit: str
    integer: bool
    measured: str

    @classmethod
    def of(cls, metrics: core.Metrics, dtype: np.dtype | type) -> ErrorUnits:
        """The units of ``metrics`` measured on images of type ``dtype``."""
        if metrics.convention == "paper":
            border = f", a border of {metrics.shave} px shaved off" if metrics.shave else ""
            return cls("luma 0-1", False, f"on BT.601 luma in the 0-1 range (paper convention{border})")
        integer = np.issubdtype(np.dtype(dtype), np.integer)
        unit = image_units(dtype)
        return cls(unit, integer, f"over every pixel and channel, in the image's own {unit}")


def _header_tooltips(units: ErrorUnits | None) -> list[str]:
    measured = units.measured if units is not None else "against the reference"
    return [
        "The method and the parameters changed from their defaults.",
        "Time the method took to compute its result, in milliseconds (metrics not included).",
        "Peak signal-to-noise ratio against the reference, in dB: 10 log10(peak\u00b2 / MSE), the peak "
        "being 255, 65535 or 1 by the image's type (1 on the paper convention). Higher is better.",
        "Structural similarity (Wang et al. 2004) against the reference, up to 1. Higher is better.",
        f"Mean absolute error against the reference, {measured}. Lower is better.",
        f"Largest absolute error against the reference, {measured}. Lower is better.",
    ]

class _SortableItem(QtWidgets.QTableWidgetItem):
    """Sorts by the number in `SORT_ROLE` (missing values last), not by its text."""

    def __lt__(self, other: QtWidgets.QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if isinstance(mine, str) or isinstance(theirs, str):
            return str(mine) < str(theirs)
        mine = math.inf if mine is None else mine
        theirs = math.inf if theirs is None else theirs
        return mine < theirs


def format_number(column: int, value: float | None, units: ErrorUnits | None = None) -> str:
    """The text of one cell: fixed-point, never an exponent; a max error in integer
    levels as a whole number."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "\u221e"
    if column == 1:
        return f"{value:.1f}"
    if column == 2:
        return f"{value:.2f}"
    if column == 3:
        return f"{value:.4f}"
    levels = units is not None and units.integer
    if column == MAX_COLUMN and levels:
        return f"{value:.0f}"
    return f"{value:.2f}" if levels else f"{value:.5f}"


class MetricsTable(QtWidgets.QTableWidget):
    """Method, time, PSNR, SSIM, MAE and max error. Clicking a row asks for its panel.

    The error columns take their unit from the results' metrics (`core.Metrics.convention`)
    and image type; their headers name it ("MAE (levels 0-255)", "MAE (luma 0-1)")."""

    method_clicked = QtCore.Signal(str)  # method id of the clicked row

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().lineSpacing() + 8)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.setSortingEnabled(True)
        # No sort until the user clicks a header: rows start in panel order.
        self.horizontalHeader().setSortIndicator(-1, QtCore.Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(True)
        self._results: dict[str, MethodResult] = {}
        self._order: list[str] = []
        self.reference: str | None = None
        self.units: ErrorUnits | None = None
        self._show_headers()
        self.cellClicked.connect(self._on_cell_clicked)

    def clear_results(self, order: Sequence[str] = (), reference: str | None = None) -> None:
        """Empty the table for a new comparison whose methods are ``order`` (rows keep
        that order as results arrive) and whose reference method is ``reference`` (its
        row is marked as such and never counted as best: it scores perfectly by
        definition)."""
        self._results.clear()
        self.setRowCount(0)
        self.units = None
        self._order = list(order)
        self.reference = reference
        self._show_headers()

    def header_texts(self) -> list[str]:
        return [self.horizontalHeaderItem(c).text() for c in range(self.columnCount())]

    def _show_headers(self) -> None:
        tips = _header_tooltips(self.units)
        for column, (title, _, _) in enumerate(COLUMNS):
            if self.units is not None and column in (MAE_COLUMN, MAX_COLUMN):
                title = f"{title} ({self.units.unit})"
            item = QtWidgets.QTableWidgetItem(title)
            item.setToolTip(rich_tooltip(tips[column]))
            self.setHorizontalHeaderItem(column, item)

    def add_result(self, result: MethodResult) -> None:
        """Add or replace the row of ``result``'s method, then re-mark the best values."""
        self._results[result.method_id] = result
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)
        if result.ok and result.metrics is not None:
            units = ErrorUnits.of(result.metrics, result.image.dtype)
            if units != self.units:  # the first measured result, or a new convention
                self.units = units
                self._show_headers()
                for row in range(self.rowCount()):
                    self._fill_row(row, self._results[self.item(row, 0).data(KEY_ROLE)])
        row = self._row_of(result.method_id)
        if row is None:
            row = self._place_for(result.method_id)
            self.insertRow(row)
        self._fill_row(row, result)
        self.setSortingEnabled(sorting)
        self._mark_best()

    def _place_for(self, method_id: str) -> int:
        """Where a new row goes: after the rows of methods that come before it in the
        comparison's order (the panels' order), whatever order results arrive in."""
        if method_id not in self._order:
            return self.rowCount()
        rank = self._order.index(method_id)
        shown = [self.item(r, 0).data(KEY_ROLE) for r in range(self.rowCount())]
        return sum(1 for key in shown if key in self._order and self._order.index(key) < rank)

    def _fill_row(self, row: int, result: MethodResult) -> None:
        for column, (_, read, _) in enumerate(COLUMNS):
            if read is None:
                title = result.label
                changed = changed_params_text(result.method_id, result.params)
                if changed:
                    title = f"{title} ({changed})"
                if result.method_id == self.reference and not changed:
                    title = f"{title} (reference)"
                item = _SortableItem(title)
                item.setData(SORT_ROLE, title)
                item.setToolTip(self._method_tooltip(result))
            else:
                value = read(result) if result.ok else None
                item = _SortableItem(format_number(column, value, self.units))
                item.setData(SORT_ROLE, self._sort_value(column, value))
                if result.ok and result.metrics is None and column >= 2:
                    item.setData(NOTE_ROLE, rich_tooltip(result.note or NO_REFERENCE_NOTE))
                elif result.ok and value is None and column == 3:
                    item.setData(NOTE_ROLE, "SSIM needs at least 11x11 pixels.")
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
            item.setData(KEY_ROLE, result.method_id)
            self.setItem(row, column, item)

    @staticmethod
    def _method_tooltip(result: MethodResult) -> str:
        if not result.ok:
            return rich_tooltip(result.reason or "This method did not run.", f"{result.label}: cannot run")
        try:
            return method_tooltip(core.get_method(result.method_id))
        except core.UpscopeError:
            return rich_tooltip(result.label)

    @staticmethod
    def _sort_value(column: int, value: float | None) -> float | None:
        """Ascending order puts the best first: higher-is-better columns are negated."""
        if value is None:
            return None
        return -value if COLUMNS[column][2] else value

    def _row_of(self, method_id: str) -> int | None:
        for row in range(self.rowCount()):
            item = self.item(row, 0)
            if item is not None and item.data(KEY_ROLE) == method_id:
                return row
        return None

    def _mark_best(self) -> None:
        for column in range(1, len(COLUMNS)):
            keys = [
                None if column >= 2 and self._is_reference_row(r) else self.item(r, column).data(SORT_ROLE)
                for r in range(self.rowCount())
            ]
            present = [k for k in keys if k is not None]
            best = min(present) if present else None
            for row, key in enumerate(keys):
                item = self.item(row, column)
                is_best = best is not None and key is not None and key == best and len(present) > 1
                font = item.font()
                font.setBold(is_best)
                item.setFont(font)
                item.setData(BEST_ROLE, is_best)
                item.setBackground(QtGui.QColor(60, 140, 60, 90) if is_best else QtGui.QBrush())
                item.setToolTip("Best in this column" if is_best else item.data(NOTE_ROLE) or "")

    def _is_reference_row(self, row: int) -> bool:
        result = self._results.get(self.item(row, 0).data(KEY_ROLE))
        return result is not None and result.method_id == self.reference and not result.params

    def column_texts(self, column: int) -> list[str]:
        return [self.item(r, column).text() for r in range(self.rowCount())]

    def method_order(self) -> list[str]:
        return [self.item(r, 0).data(KEY_ROLE) for r in range(self.rowCount())]

    def best_methods(self, column: int) -> list[str]:
        return [self.item(r, 0).data(KEY_ROLE) for r in range(self.rowCount()) if self.item(r, column).data(BEST_ROLE)]

    def _on_cell_clicked(self, row: int, _column: int) -> None:
        item = self.item(row, 0)
        if item is not None:
            self.method_clicked.emit(item.data(KEY_ROLE))
