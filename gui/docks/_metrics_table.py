"""The metrics dock: one row per method, then one per method and marked region, sortable,
the best value of each column (among the rows of the same region) marked.

It shows `core.result_table` as it is: the same rows, numbers, units, headers and best
values as the exported figure and the metrics files. The MAE and max-error headers name
their unit, which depends on the metric convention and the image's type. Main thread only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

import core
from core import MethodResult

from .._help import rich_tooltip
from ._settings_panel import method_tooltip

#: The first column, before `core.TABLE_COLUMNS`: the method and its changed parameters.
METHOD_HEADER = ("Method", "The method and the parameters changed from their defaults.")
SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
KEY_ROLE = QtCore.Qt.ItemDataRole.UserRole
BEST_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2
BEST_TINT = QtGui.QColor(60, 140, 60, 90)
#: Why a measured method shows "-" for its metrics when nothing else says why.
NO_REFERENCE_NOTE = (
    "Not measured: there is no reference. Upscale mode has no ground truth; pick a method as the "
    "reference in Settings to measure the others against it."
)
SSIM_TOO_SMALL_NOTE = "SSIM needs at least 11x11 pixels."


class SortableItem(QtWidgets.QTableWidgetItem):
    """Sorts by the number in `SORT_ROLE` (missing values last), not by its text."""

    def __lt__(self, other: QtWidgets.QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if isinstance(mine, str) or isinstance(theirs, str):
            return str(mine) < str(theirs)
        mine = math.inf if mine is None else mine
        theirs = math.inf if theirs is None else theirs
        return bool(mine < theirs)


class MetricsTable(QtWidgets.QTableWidget):
    """The method, then the columns of `core.TABLE_COLUMNS` (time, PSNR, SSIM, MAE, max
    error). Clicking a row asks for its panel.

    Rows keep the comparison's order (the panels') until a header is clicked; the best
    value of each column is bold and tinted; the reference method's row is marked
    "(reference)" and never counts as best (it scores perfectly by definition)."""

    method_clicked = QtCore.Signal(str)  # method id of the clicked row

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, 1 + len(core.TABLE_COLUMNS), parent)
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
        #: Results measured on the marked regions, by method id, in the regions' order.
        self._region_results: dict[str, list[MethodResult]] = {}
        self.regions: tuple[core.Region, ...] = ()
        self._shown_results: list[MethodResult] = []
        self._order: list[str] = []
        self.reference: str | None = None
        self.shown_table: core.ResultTable = core.result_table([])
        self._show()
        self.cellClicked.connect(self._on_cell_clicked)

    @property
    def units(self) -> core.ErrorUnits | None:
        """The units of the error columns (None until a result is measured)."""
        return self.shown_table.units

    def clear_results(self, order: Sequence[str] = (), reference: str | None = None) -> None:
        """Empty the table for a new comparison whose methods are ``order`` (rows keep
        that order as results arrive) and whose reference method is ``reference``."""
        self._results.clear()
        self._region_results.clear()
        self._order = list(order)
        self.reference = reference
        self._show()

    def add_result(self, result: MethodResult) -> None:
        """Add or replace the row of ``result``'s run of its method (`MethodResult.choice_key`)."""
        self._results[result.choice_key] = result
        self._show()

    def set_regions(self, regions: Sequence[core.Region]) -> None:
        """The marked regions are ``regions`` now: the rows of regions no longer marked
        go; the others keep their rows (renumbered) until `add_region_result` replaces
        them."""
        self.regions = tuple(regions)
        for key, results in self._region_results.items():
            self._region_results[key] = [r for r in results if r.region in self.regions]
        self._show()

    def add_region_results(self, results: Sequence[MethodResult]) -> None:
        """Add or replace the row of each result's method on its ``region`` (results of
        `core.Comparison.measure_region`); those of regions no longer marked are dropped."""
        for result in results:
            if result.region not in self.regions:
                continue
            held = [r for r in self._region_results.get(result.choice_key, []) if r.region != result.region]
            self._region_results[result.choice_key] = sorted(held + [result], key=lambda r: self.regions.index(r.region))
        self._show()

    def region_results(self) -> list[MethodResult]:
        """The region rows' results, in the order they are listed before any sort."""
        return [r for r in self._in_order() if r.region is not None]

    def _in_order(self) -> list[MethodResult]:
        """The results in the comparison's order, others after them as they came; then
        each marked region's rows in the same order."""
        rank = {key: index for index, key in enumerate(self._order)}
        arrived = list(self._results)
        ordered = sorted(arrived, key=lambda k: (rank.get(k, len(rank)), arrived.index(k)))
        whole = [self._results[k] for k in ordered]
        by_region = [
            r for region in self.regions for k in ordered for r in self._region_results.get(k, []) if r.region == region
        ]
        return whole + by_region

    def _show(self) -> None:
        """Show the model of the results held (`core.result_table`), sorted as the user
        chose."""
        self._shown_results = results = self._in_order()
        self.shown_table = table = core.result_table(results, self.reference, self.regions)
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)
        self._show_headers(table)
        self.setRowCount(len(table.rows))
        for row_index, (row, result) in enumerate(zip(table.rows, results, strict=True)):
            self._set_method_cell(row_index, row, result)
            for column, metric in enumerate(core.TABLE_COLUMNS, start=1):
                self.setItem(row_index, column, self._metric_cell(table, row, result, metric.key))
        self.setSortingEnabled(sorting)

    def _show_headers(self, table: core.ResultTable) -> None:
        headers = [METHOD_HEADER] + [(table.header(c.key), table.tooltip(c.key)) for c in core.TABLE_COLUMNS]
        for column, (title, tip) in enumerate(headers):
            item = QtWidgets.QTableWidgetItem(title)
            item.setToolTip(rich_tooltip(tip))
            self.setHorizontalHeaderItem(column, item)

    def _set_method_cell(self, row_index: int, row: core.TableRow, result: MethodResult) -> None:
        item = SortableItem(row.title)
        item.setData(SORT_ROLE, row.title)
        item.setData(KEY_ROLE, result.choice_key)
        item.setToolTip(self._method_tooltip(result))
        self.setItem(row_index, 0, item)

    @staticmethod
    def _metric_cell(table: core.ResultTable, row: core.TableRow, result: MethodResult, key: str) -> SortableItem:
        """One number: its text and sort value from the model, bold and tinted when it is
        the best of its column; a "-" says why in its tooltip."""
        item = SortableItem(table.text(row, key))
        item.setData(SORT_ROLE, table.sort_value(row, key))
        item.setData(KEY_ROLE, result.choice_key)
        item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        is_best = row.key in table.best(key)
        item.setData(BEST_ROLE, is_best)
        if is_best:
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            item.setBackground(BEST_TINT)
            item.setToolTip("Best in this column")
        elif result.ok and result.metrics is None and key != "time_ms":
            item.setToolTip(rich_tooltip(row.note or NO_REFERENCE_NOTE))
        elif result.ok and row.values[key] is None and key == "ssim":
            item.setToolTip(SSIM_TOO_SMALL_NOTE)
        return item

    @staticmethod
    def _method_tooltip(result: MethodResult) -> str:
        if not result.ok:
            return rich_tooltip(result.reason or "This method did not run.", f"{result.label}: cannot run")
        try:
            return method_tooltip(core.get_method(result.method_id))
        except core.UpscopeError:
            return rich_tooltip(result.label)

    def _cell(self, row: int, column: int) -> QtWidgets.QTableWidgetItem:
        item = self.item(row, column)
        if item is None:  # every cell is filled by `_show`
            raise LookupError(f"no cell at row {row}, column {column}")
        return item

    def header_texts(self) -> list[str]:
        """The column titles as shown."""
        return [self.model().headerData(c, QtCore.Qt.Orientation.Horizontal) for c in range(self.columnCount())]

    def column_texts(self, column: int) -> list[str]:
        """The texts of one column, top to bottom as shown."""
        return [self._cell(r, column).text() for r in range(self.rowCount())]

    def method_order(self) -> list[str]:
        """The method ids of the rows, top to bottom as shown."""
        return [self._cell(r, 0).data(KEY_ROLE) for r in range(self.rowCount())]

    def best_methods(self, column: int) -> list[str]:
        """The method ids whose value is marked best in ``column``."""
        return [self._cell(r, 0).data(KEY_ROLE) for r in range(self.rowCount()) if self._cell(r, column).data(BEST_ROLE)]

    def _on_cell_clicked(self, row: int, _column: int) -> None:
        item = self.item(row, 0)
        if item is not None:
            self.method_clicked.emit(item.data(KEY_ROLE))
