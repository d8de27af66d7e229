"""File > Open evaluation...: a dataset evaluation's summary and rows in a dock.

The folder is read off the GUI thread (`core.report.evaluation.read_store`, the summary
by `summarise`); what the dock shows lives in `ShownEvaluation` (no Qt), which the tests
read. The rows can be filtered by dataset, scale and method and sorted by any column;
double-clicking a row opens that image's comparison at that scale with the evaluation's
methods. Main thread only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtWidgets

import core
from core.report.evaluation import read_store
from core.report.evaluation.datasets import BUILTIN_PREFIX, read_source
from core.report.evaluation.summary import SUMMARY_COLUMNS, SummaryRow, best_keys, protocol_lines, summarise

from ._runner import LatestTask
from .docks import SORT_ROLE, SortableItem

if TYPE_CHECKING:
    from ._main_window import MainWindow

ALL = "(all)"
#: The rows' columns of words, sorted by their text (the others by their numbers).
WORD_COLUMNS = ("dataset", "image", "label", "reason")
ROW_COLUMNS = (("dataset", "Dataset"), ("image", "Image"), ("scale", "Scale"), ("label", "Method"),
               ("psnr", "PSNR (dB)"), ("ssim", "SSIM"), ("mae", "MAE"), ("checkerboard", "Checkerboard (%)"),
               ("time_ms", "Time (ms)"), ("reason", "Why not measured"))


@dataclass
class ShownEvaluation:
    """An evaluation on screen: its folder, settings, rows and summary, and the filters."""

    folder: str
    settings: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: list[SummaryRow]
    filters: dict[str, str] = field(default_factory=lambda: {"dataset": ALL, "scale": ALL, "method": ALL})

    def choices(self, key: str) -> list[str]:
        """The values a filter offers: every dataset, scale or method of the rows."""
        values = dict.fromkeys(_text(key, row[key]) for row in self.rows)
        return [ALL, *values]

    def visible_rows(self) -> list[dict[str, Any]]:
        return [row for row in self.rows
                if all(value == ALL or _text(key, row[key]) == value for key, value in self.filters.items())]

    def visible_summary(self) -> list[SummaryRow]:
        wanted = self.filters
        return [row for row in self.summary
                if (wanted["dataset"] in (ALL, row.dataset)) and (wanted["scale"] in (ALL, _text("scale", row.scale)))
                and (wanted["method"] in (ALL, row.method))]


def _text(key: str, value: Any) -> str:
    if key == "scale":
        return f"x{float(value):g}"
    return str(value)


def load_evaluation(folder: str) -> ShownEvaluation:
    """Read the evaluation in ``folder`` and summarise it. Runs in a worker."""
    settings, rows = read_store(folder)
    return ShownEvaluation(folder, settings, rows, summarise(rows, settings.get("methods", ())))


def _cell(key: str, value: Any) -> str:
    """A cell's text: a metric as the metrics table writes it (`core.format_metric`); an
    error in the image's units (8 or 16 bits, or float) with two decimals."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if key in ("psnr", "ssim", "checkerboard", "time_ms"):
            return core.format_metric(key, value)
        return "inf" if math.isinf(value) else f"{value:.2f}"
    return str(value)


def _item(text: str, sort: str | float | None) -> SortableItem:
    """A cell showing ``text`` that sorts by ``sort``: its number (missing ones last), or
    its words."""
    item = SortableItem(text)
    item.setData(SORT_ROLE, sort)
    return item


class EvaluationView(QtWidgets.QWidget):
    """The Evaluation dock: the protocol, filters, the summary and the rows."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.main = window
        self.shown: ShownEvaluation | None = None
        self.protocol = QtWidgets.QLabel("File > Open evaluation... shows an evaluation made with --evaluate here.")
        self.protocol.setWordWrap(True)
        self.filters = {key: QtWidgets.QComboBox() for key in ("dataset", "scale", "method")}
        row = QtWidgets.QHBoxLayout()
        for key, combo in self.filters.items():
            row.addWidget(QtWidgets.QLabel(key.capitalize()))
            row.addWidget(combo, 1)
            combo.currentIndexChanged.connect(lambda _i, k=key: self._on_filter(k))
        self.summary_table = QtWidgets.QTableWidget()
        self.rows_table = QtWidgets.QTableWidget()
        for table in (self.summary_table, self.rows_table):
            table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
            table.verticalHeader().setVisible(False)
            table.setSortingEnabled(True)
        self.rows_table.setToolTip("Double-click a row to open that image's comparison at that scale")
        self.rows_table.cellDoubleClicked.connect(self._on_double_click)
        tabs = QtWidgets.QTabWidget()
        tabs.addTab(self.summary_table, "Summary")
        tabs.addTab(self.rows_table, "Rows")
        self.tabs = tabs
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.protocol)
        layout.addLayout(row)
        layout.addWidget(tabs, 1)
        self._loading = LatestTask(window.runner, self._on_loaded, window.message_bar.show_message, self)
        self._opening = LatestTask(window.runner, self._on_opened, window.message_bar.show_message, self)
        dock = QtWidgets.QDockWidget("Evaluation", window)
        dock.setObjectName("dock-evaluation")
        dock.setWidget(self)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()
        window.docks["evaluation"] = dock
        self.dock = dock

    # Opening --------------------------------------------------------------------------------

    def open_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.main, "Open an evaluation's folder")
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str | Path) -> int:
        """Read the evaluation in ``folder`` in the background; returns the task id."""
        text = str(folder)
        return self._loading.run(lambda: load_evaluation(text))

    def _on_loaded(self, value: object) -> None:
        if isinstance(value, ShownEvaluation):
            self.show_evaluation(value)

    def _on_opened(self, value: object) -> None:
        if isinstance(value, tuple):
            image, name = value
            self.main.set_image(image, name)

    def show_evaluation(self, shown: ShownEvaluation) -> None:
        self.main.message_bar.clear_error()  # an earlier failure to open one is out of date
        self.shown = shown
        settings = shown.settings
        lines = protocol_lines(settings) if settings else []
        self.protocol.setText(f"<b>{shown.folder}</b>: {len(shown.rows)} rows, degraded with "
                              f"{settings.get('downsampler', '?')}, {settings.get('convention', '?')} convention "
                              "(the whole protocol in this line's tooltip)")
        self.protocol.setToolTip("\n".join(lines))
        for key, combo in self.filters.items():
            with QtCore.QSignalBlocker(combo):
                combo.clear()
                combo.addItems(shown.choices(key))
        self._fill()
        self.dock.show()
        self.dock.raise_()
        self.main.resizeDocks([self.dock], [int(self.main.height() * 0.45)], QtCore.Qt.Orientation.Vertical)

    def _on_filter(self, key: str) -> None:
        if self.shown is None:
            return
        self.shown.filters[key] = self.filters[key].currentText() or ALL
        self._fill()

    # Tables ----------------------------------------------------------------------------------

    def _fill(self) -> None:
        shown = self.shown
        if shown is None:
            return
        best = best_keys(shown.summary)
        summary = shown.visible_summary()
        headers = ["Dataset", "Scale", "Method", *[title for _k, title, _b in SUMMARY_COLUMNS], "Images"]
        table = self.summary_table
        table.setSortingEnabled(False)
        table.clear()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(summary))
        for r, line in enumerate(summary):
            cells: list[tuple[str, str | float | None]] = [(line.dataset, line.dataset), (f"x{line.scale:g}", line.scale),
                                                           (line.label, line.label)]
            cells += [(_cell(k, line.means[k]), line.means[k]) for k, _t, _b in SUMMARY_COLUMNS]
            cells.append((str(line.images), float(line.images)))
            for c, (text, number) in enumerate(cells):
                item = _item(text, number)
                if 3 <= c < 3 + len(SUMMARY_COLUMNS) and (line.dataset, line.scale, line.method,
                                                          SUMMARY_COLUMNS[c - 3][0]) in best:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(r, c, item)
        table.setSortingEnabled(True)
        table.resizeColumnsToContents()
        rows = shown.visible_rows()
        table = self.rows_table
        table.setSortingEnabled(False)
        table.clear()
        table.setColumnCount(len(ROW_COLUMNS))
        table.setHorizontalHeaderLabels([title for _k, title in ROW_COLUMNS])
        table.setRowCount(len(rows))
        for r, entry in enumerate(rows):
            for c, (key, _title) in enumerate(ROW_COLUMNS):
                value = entry.get(key)
                text = _text(key, value) if key == "scale" else _cell(key, value)
                item = _item(text, text if key in WORD_COLUMNS else (float(value) if value is not None else None))
                item.setData(QtCore.Qt.ItemDataRole.UserRole, entry)
                table.setItem(r, c, item)
        table.setSortingEnabled(True)
        table.resizeColumnsToContents()

    def _on_double_click(self, row: int, _column: int) -> None:
        item = self.rows_table.item(row, 0)
        line = item.data(QtCore.Qt.ItemDataRole.UserRole) if item is not None else None
        if isinstance(line, dict):
            self.open_row(line)

    def open_row(self, line: dict[str, Any]) -> None:
        """Compare row ``line``'s image at its scale with the evaluation's methods."""
        shown = self.shown
        if shown is None:
            return
        methods = []
        for key in dict.fromkeys(row["method"] for row in shown.rows):
            sample = next(row for row in shown.rows if row["method"] == key)
            params = json.loads(sample["params"]) if sample.get("params") else {}
            methods.append(core.MethodChoice(key.split("[", 1)[0], params) if params else key.split("[", 1)[0])
        settings = core.ComparisonSettings(mode="degrade", scale=float(line["scale"]), methods=tuple(methods),
                                           downsampler=shown.settings.get("downsampler", "bicubic-aa"),
                                           convention=shown.settings.get("convention", "paper"))
        self.main.settings_panel.apply_settings(settings)
        source = str(line.get("source") or "")
        if source.startswith(BUILTIN_PREFIX):
            name = f"{line['dataset']}/{line['image']}"
            self._opening.run(lambda: (read_source(source), name))
        else:
            self.main.open_paths([source])
