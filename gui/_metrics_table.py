"""The metrics table: one row per method, sortable, the best value of each column marked.

Main thread only.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from core import MethodResult

#: (header, how to read it from a result, True when higher is better)
COLUMNS: tuple[tuple[str, object, bool], ...] = (
    ("Method", None, False),
    ("Time (ms)", lambda r: r.seconds * 1000.0, False),
    ("PSNR (dB)", lambda r: r.metrics.psnr if r.metrics else None, True),
    ("SSIM", lambda r: r.metrics.ssim if r.metrics else None, True),
    ("MAE", lambda r: r.metrics.mae if r.metrics else None, False),
    ("Max error", lambda r: r.metrics.max_abs if r.metrics else None, False),
)
SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
KEY_ROLE = QtCore.Qt.ItemDataRole.UserRole
BEST_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2


class _SortableItem(QtWidgets.QTableWidgetItem):
    """Sorts by the number in `SORT_ROLE` (missing values last), not by its text."""

    def __lt__(self, other: QtWidgets.QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if isinstance(mine, str) or isinstance(theirs, str):
            return str(mine) < str(theirs)
        mine = math.inf if mine is None else mine
        theirs = math.inf if theirs is None else theirs
        return mine < theirs


def format_number(column: int, value: float | None) -> str:
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
    return f"{value:.4g}"


class MetricsTable(QtWidgets.QTableWidget):
    """Method, time, PSNR, SSIM, MAE and max error. Clicking a row asks for its panel."""

    method_clicked = QtCore.Signal(str)  # method id of the clicked row

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.setSortingEnabled(True)
        # No sort until the user clicks a header: rows start in panel order.
        self.horizontalHeader().setSortIndicator(-1, QtCore.Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(True)
        self._results: dict[str, MethodResult] = {}
        self.cellClicked.connect(self._on_cell_clicked)

    def clear_results(self) -> None:
        self._results.clear()
        self.setRowCount(0)

    def add_result(self, result: MethodResult) -> None:
        """Add or replace the row of ``result``'s method, then re-mark the best values."""
        self._results[result.method_id] = result
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)
        row = self._row_of(result.method_id)
        if row is None:
            row = self.rowCount()
            self.insertRow(row)
        for column, (_, read, _) in enumerate(COLUMNS):
            if read is None:
                item = _SortableItem(result.label)
                item.setData(SORT_ROLE, result.label)
                if not result.ok:
                    item.setToolTip(result.reason or "")
            else:
                value = read(result) if result.ok else None
                item = _SortableItem(format_number(column, value))
                item.setData(SORT_ROLE, self._sort_value(column, value))
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
            item.setData(KEY_ROLE, result.method_id)
            self.setItem(row, column, item)
        self.setSortingEnabled(sorting)
        self._mark_best()

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
            keys = [self.item(r, column).data(SORT_ROLE) for r in range(self.rowCount())]
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
                item.setToolTip("Best in this column" if is_best else "")

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
