"""What the Help menu, the metrics table, the pixel inspector and the line profile say
(pytest-qt, offscreen): units in headers, changed parameters in the method column, a
legend beside the plot whose curves can be hidden, and the Help pages."""

from __future__ import annotations

import platform
import tomllib
from pathlib import Path

import cv2
import numpy as np
import pyqtgraph as pg
import PySide6
import pytest
from PySide6 import QtCore, QtGui

import core
from gui import MainWindow
from gui.docks import LineProfilePlot, MetricsTable, PixelInspector

ROOT = Path(__file__).resolve().parents[1]


def result(method_id: str, image: np.ndarray, metrics: core.Metrics | None, params: dict | None = None) -> core.MethodResult:
    return core.MethodResult(
        job_id=1, method_id=method_id, label=core.get_method(method_id).label, params=params or {},
        image=image, seconds=0.0123, metrics=metrics,
    )


def metrics(mae: float, max_abs: float, convention: str = "all", shave: int = 0) -> core.Metrics:
    return core.Metrics(mse=mae * mae, mae=mae, max_abs=max_abs, psnr=30.0, ssim=0.9, convention=convention, shave=shave)


@pytest.fixture
def table(qtbot):
    widget = MetricsTable()
    qtbot.addWidget(widget)
    return widget


# Metrics table ----------------------------------------------------------------------------


def test_16_bit_errors_read_as_whole_levels_with_their_unit(table: MetricsTable) -> None:
    assert table.header_texts()[4:6] == ["MAE", "Max error"]
    image = np.zeros((8, 8, 3), np.uint16)
    table.add_result(result("bilinear", image, metrics(123.456, 65250.0)))
    table.add_result(result("nearest", image, metrics(200.0, 65535.0)))
    assert table.header_texts() == [
        "Method", "Time (ms)", "PSNR (dB)", "SSIM", "MAE (levels 0-65535)", "Max error (levels 0-65535)", "FLIP",
        "Checkerboard (%)",
    ]
    assert table.column_texts(5) == ["65250", "65535"]  # not 6.525e+04
    assert table.column_texts(4) == ["123.46", "200.00"]
    assert "0-65535" in table.horizontalHeaderItem(5).toolTip()


def test_8_bit_float_and_paper_units(table: MetricsTable) -> None:
    table.add_result(result("bilinear", np.zeros((8, 8, 3), np.uint8), metrics(1.5, 17.0)))
    assert table.header_texts()[4:6] == ["MAE (levels 0-255)", "Max error (levels 0-255)"]
    assert table.column_texts(5) == ["17"]
    table.clear_results()
    table.add_result(result("bilinear", np.zeros((8, 8), np.float32), metrics(0.0012345, 0.25)))
    assert table.header_texts()[4:6] == ["MAE (0-1)", "Max error (0-1)"]
    assert table.column_texts(4) == ["0.00123"] and table.column_texts(5) == ["0.25000"]
    table.clear_results()
    # The paper convention measures luma in 0-1, whatever the image's type.
    table.add_result(result("bilinear", np.zeros((8, 8, 3), np.uint16), metrics(0.004, 0.5, "paper", 4)))
    assert table.header_texts()[4:6] == ["MAE (luma 0-1)", "Max error (luma 0-1)"]
    assert table.column_texts(4) == ["0.00400"] and table.column_texts(5) == ["0.50000"]
    tip = table.horizontalHeaderItem(4).toolTip()
    assert "luma" in tip and "4 px" in tip


def test_the_method_column_names_changed_parameters(table: MetricsTable) -> None:
    image = np.zeros((8, 8, 3), np.uint8)
    table.add_result(result("bicubic", image, metrics(1.0, 2.0), {"a": -0.5}))
    table.add_result(result("transposed-conv", image, metrics(1.0, 2.0), {"kernel": "bilinear", "kernel_size": 5}))
    table.add_result(result("bilinear", image, metrics(1.0, 2.0)))
    assert table.column_texts(0) == ["Bicubic (a=-0.5)", "Transposed convolution (kernel_size=5)", "Bilinear"]
    assert QtGui.Qt.mightBeRichText(table.item(0, 0).toolTip())  # wrapped by Qt, not one long line


# Pixel inspector --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "dtype", "value_header", "error_header"),
    [
        ((6, 6, 3), np.uint8, "Value (R, G, B)", "Error (levels 0-255)"),
        ((6, 6, 4), np.uint8, "Value (R, G, B, A)", "Error (levels 0-255)"),
        ((6, 6), np.uint16, "Value (grey)", "Error (levels 0-65535)"),
        ((6, 6, 3), np.float32, "Value (R, G, B)", "Error (0-1)"),
    ],
)
def test_inspector_headers_name_channels_and_units(
    qtbot, shape: tuple[int, ...], dtype: type, value_header: str, error_header: str
) -> None:
    inspector = PixelInspector()
    qtbot.addWidget(inspector)
    image = np.full(shape, 3, dtype)
    reference = np.full(shape, 1, dtype)
    inspector.show_pixel(2, 3, labels={"bilinear": "Bilinear"}, images={"bilinear": image}, reference=reference,
                         reference_name="Ground truth", input_image=None)
    assert inspector.header(1) == value_header
    assert inspector.header(2) == error_header


# Line profile -----------------------------------------------------------------------------


def test_line_profile_legend_sits_outside_the_plot_and_hides_curves(qtbot) -> None:
    profile = LineProfilePlot()
    qtbot.addWidget(profile)
    profile.show()
    smooth = np.full((20, 20, 3), 100, np.uint8)
    spiky = smooth.copy()
    spiky[10, ::4] = 255  # max unpooling's lone maxima
    images = {"reference": smooth, "bilinear": smooth + 10, "max-unpool": spiky}
    labels = {"reference": "Ground truth", "bilinear": "Bilinear", "max-unpool": "Max unpooling"}
    colours = {key: QtGui.QColor(c) for key, c in zip(images, ("white", "orange", "cyan"))}
    profile.update_profile((0.5, 10.5), (19.5, 10.5), images, labels, colours)
    assert profile.plot.getPlotItem().legend is None  # nothing drawn over the curves
    assert not profile.plot.isAncestorOf(profile.legend)
    assert [profile.legend.item(i).text() for i in range(profile.legend.count())] == list(labels.values())
    assert profile.shown_keys() == list(images)
    profile.legend_item("max-unpool").setCheckState(QtCore.Qt.CheckState.Unchecked)
    assert profile.shown_keys() == ["reference", "bilinear"]
    assert not profile.curves["max-unpool"].isVisible()
    (_, _), (_, high) = profile.plot.getViewBox().childrenBounds()
    assert 110 <= high < 120  # the scale now fits the curves still shown, not the spikes at 255
    # Moving the line keeps the hidden curve hidden, and its entry unticked.
    profile.update_profile((10.5, 0.5), (10.5, 19.5), images, labels, colours)
    assert profile.shown_keys() == ["reference", "bilinear"]
    assert profile.legend_item("max-unpool").checkState() == QtCore.Qt.CheckState.Unchecked
    assert "max-unpool" in profile.data  # still sampled, for when it is shown again
    profile.legend_item("max-unpool").setCheckState(QtCore.Qt.CheckState.Checked)
    assert profile.curves["max-unpool"].isVisible()


# Help menu --------------------------------------------------------------------------------


@pytest.fixture
def window(qtbot, tmp_path: Path):
    win = MainWindow(QtCore.QSettings(str(tmp_path / "help.ini"), QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    for page in win.help.pages.values():
        page.close()
    win.close()
    assert win.runner.pool.activeThreadCount() == 0


def test_help_menu_lists_its_pages(window: MainWindow) -> None:
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles[-1] == "&Help"
    entries = [a.text() for a in window.help.menu.actions() if not a.isSeparator()]
    assert entries == ["&Keyboard shortcuts", "&How to read this window", "&About Upscope"]


def test_keyboard_shortcuts_page_lists_every_key(qtbot, window: MainWindow) -> None:
    window.help.shortcuts_action.trigger()
    page = window.help.pages["shortcuts"]
    qtbot.waitUntil(page.isVisible)
    lines = page.text().splitlines()  # the table reads key, then what it does
    for key in ("F", "1", "+ / -", "Arrows", "D", "L", "R", "Ctrl+E", "Ctrl+Shift+E", "Ctrl+O", "Ctrl+V", "Ctrl+S"):
        assert key in lines, key
    what = lines[lines.index("Double-click a panel") + 1]
    assert what == "Show that panel alone; double-click again to bring back the grid"
    # The page's keys are the window's: each listed key sequence is bound to an action.
    bound = {seq.toString() for action in window.findChildren(QtGui.QAction) for seq in action.shortcuts()}
    for key in ("F", "1", "+", "-", "Left", "D", "L", "R", "Ctrl+E", "Ctrl+Shift+E", "Ctrl+O", "Ctrl+V", "Ctrl+S"):
        assert key in bound, key


def test_how_to_read_this_window_covers_every_part(qtbot, window: MainWindow) -> None:
    window.help.guide_action.trigger()
    page = window.help.pages["guide"]
    qtbot.waitUntil(page.isVisible)
    text = page.text()
    for heading in ("Panels", "The reference", "Difference maps", "Pixel inspector", "Metrics", "Line profile", "Regions",
                    "Where the numbers come from"):
        assert heading in text, heading
    assert "Double-click a panel" in text
    assert "no ground truth" in text
    assert "luma" in text and "0-65535" in text


def test_about_names_versions_and_the_backend_in_use(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.compute.state is not None, timeout=60_000)
    window.help.about_action.trigger()
    page = window.help.pages["about"]
    qtbot.waitUntil(page.isVisible)
    text = page.text()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for name, value in (
        ("Upscope", version), ("Qt", QtCore.qVersion()), ("PySide6", PySide6.__version__), ("OpenCV", cv2.__version__),
        ("NumPy", np.__version__), ("pyqtgraph", pg.__version__), ("Python", platform.python_version()),
        ("Compute backend", window.compute.state.current.summary()),
    ):
        assert f"\n{name}\n{value}\n" in text, (name, value, text)


def test_unmeasured_metrics_say_why(table: MetricsTable) -> None:
    table.add_result(result("bilinear", np.zeros((8, 8, 3), np.uint8), None))
    assert table.column_texts(2) == ["-"]
    tip = table.item(0, 2).toolTip()
    assert "no reference" in tip and "Upscale mode has no ground truth" in tip
