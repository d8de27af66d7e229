"""File > Open evaluation... (pytest-qt, offscreen): the summary and rows of an evaluation
made with `core.evaluate`, filtered and sorted, and a row opened as its comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtCore
from test_analysis_gui import TIMEOUT_MS
from test_evaluation import SETTINGS, photos

import core
from gui import MainWindow
from gui.canvas import REFERENCE_KEY


def test_an_evaluation_opens_filters_and_opens_a_rows_comparison(qtbot, window: MainWindow, tmp_path: Path) -> None:
    data = photos(tmp_path / "set", count=2)
    core.evaluate([data], SETTINGS, tmp_path / "out", jobs=1)
    view = window.evaluation
    view.open_folder(tmp_path / "out")
    qtbot.waitUntil(lambda: view.shown is not None, timeout=TIMEOUT_MS)
    assert window.docks["evaluation"].isVisible()
    assert view.rows_table.rowCount() == 2 * 2 * 3 and view.summary_table.rowCount() == 2 * 3
    headers = [view.summary_table.horizontalHeaderItem(c).text() for c in range(view.summary_table.columnCount())]
    psnr = headers.index("PSNR (dB)")
    # The summary cells are the means of the rows.
    rows = view.shown.rows
    line = view.shown.summary[0]
    members = [r for r in rows if (r["scale"], r["method"]) == (line.scale, line.method)]
    assert line.means["psnr"] == pytest.approx(sum(r["psnr"] for r in members) / len(members))
    assert view.summary_table.item(0, psnr).text() == f"{line.means['psnr']:.2f}"
    view.filters["scale"].setCurrentText("x3")
    view.filters["method"].setCurrentText("bicubic[a=-0.5]")
    assert view.rows_table.rowCount() == 2 and view.summary_table.rowCount() == 1
    # Double-clicking a row compares that image at that scale with the evaluation's methods.
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        view._on_double_click(0, 0)
    assert window.job.comparison.scale == (3.0, 3.0)
    assert set(window.grid.panels) == {REFERENCE_KEY, "nearest", "bicubic", "bicubic[a=-0.5]"}
    opened = next(r for r in rows if r["method"] == "bicubic[a=-0.5]" and r["scale"] == 3.0
                  and r["image"] == view.rows_table.item(0, 1).text())
    assert window.results["bicubic[a=-0.5]"].metrics.psnr == pytest.approx(opened["psnr"], abs=1e-9)


def test_a_folder_without_an_evaluation_is_named(qtbot, window: MainWindow, tmp_path: Path) -> None:
    window.evaluation.open_folder(tmp_path)
    qtbot.waitUntil(lambda: "holds no evaluation" in window.message_bar.text(), timeout=TIMEOUT_MS)
    assert window.evaluation.shown is None
    # An evaluation opened afterwards takes the out-of-date message away.
    data = photos(tmp_path / "set", count=1)
    core.evaluate([data], core.EvaluationSettings(scales=(2.0,), methods=("bilinear", "transposed-conv")),
                  tmp_path / "out", jobs=1)
    window.evaluation.open_folder(tmp_path / "out")
    qtbot.waitUntil(lambda: window.evaluation.shown is not None, timeout=TIMEOUT_MS)
    assert window.message_bar.text() == ""
    # Checkerboard scores are written as the metrics table writes them, not rounded to -0.00.
    view = window.evaluation
    headers = [view.rows_table.horizontalHeaderItem(c).text() for c in range(view.rows_table.columnCount())]
    column = headers.index("Checkerboard (%)")
    assert view.rows_table.rowCount() == 2
    for row in range(view.rows_table.rowCount()):
        entry = view.rows_table.item(row, 0).data(QtCore.Qt.ItemDataRole.UserRole)
        assert view.rows_table.item(row, column).text() == core.format_metric("checkerboard", entry["checkerboard"])
        assert view.rows_table.item(row, column).text() != "-0.00"
