"""The Explain pixel dock (pytest-qt, offscreen): hovering a method's pixel lists the
input pixels that made it, whose weighted sum is the value the panel shows, draws them
over the input's pixel grid, and says why for borders and non-linear methods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from test_analysis_gui import TIMEOUT_MS, open_compared, photo_file
from test_viewer import screen_point

import core
from gui import MainWindow


def hover(qtbot, window: MainWindow, key: str, x: int, y: int) -> core.PixelExplanation:
    """Move the mouse onto pixel (x, y) of panel ``key`` and wait for the dock to explain it."""
    panel = window.grid.panel(key)
    qtbot.mouseMove(panel.view.viewport(), screen_point(panel, x + 0.5, y + 0.5))
    widget = window.explain.widget
    qtbot.waitUntil(lambda: widget.shown is not None and (widget.shown.explanation.y, widget.shown.explanation.x) == (y, x)
                    and widget.shown.title == panel.label, timeout=TIMEOUT_MS)
    return widget.shown.explanation


def test_hovering_a_pixel_explains_it_with_the_panels_value(qtbot, window: MainWindow, tmp_path: Path) -> None:
    methods = ("bilinear", "bicubic")
    open_compared(qtbot, window, photo_file(tmp_path, 48), methods)
    window.docks["explain"].raise_()
    window.grid.look_at(20.0, 20.0, 8.0)
    qtbot.wait(50)
    explanation = hover(qtbot, window, "bicubic", 21, 19)
    low = window.job.comparison.input
    result = window.results["bicubic"].image
    for channel in range(3):
        total = sum(t.weight * float(low[t.y, t.x, channel]) for t in explanation.taps_of(channel))
        assert abs(round(total) - int(result[19, 21, channel])) <= 1
    assert len(explanation.taps) == 16  # 4x4 neighbours inside the image
    text = window.explain.widget.text.toPlainText()
    assert "src_x = (21 + 0.5) * 24 / 48 - 0.5 = 10.25" in text
    shown = ", ".join(f"{int(v)}" for v in result[19, 21])
    assert f"The panel shows {shown}" in text
    # Each tap is drawn over the input's pixel grid, shaded and labelled with its weight.
    drawn = window.explain.widget.shown
    assert drawn.box.x <= min(t.x for t in explanation.taps) and drawn.rgb.shape[:2] == (drawn.box.height, drawn.box.width)
    labels = [item for item in window.explain.widget._items if hasattr(item, "textItem")]
    assert len(labels) == 16
    # Another panel, another pixel: the dock follows.
    assert len(hover(qtbot, window, "bilinear", 18, 17).taps) == 4
    window.explain.explain_at("bilinear", 0, 0)  # as a hover there would
    qtbot.waitUntil(lambda: window.explain.widget.shown.explanation.x == 0, timeout=TIMEOUT_MS)
    text = window.explain.widget.text.toPlainText()
    assert "src_x = (0 + 0.5) * 24 / 48 - 0.5 = -0.25" in text and "the edge value is held" in text


def test_the_border_of_a_transposed_convolution_and_a_learned_method_are_explained(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    methods = ("transposed-conv", "espcn")
    open_compared(qtbot, window, photo_file(tmp_path, 48), methods)
    window.docks["explain"].raise_()
    window.grid.look_at(6.0, 6.0, 10.0)
    qtbot.wait(50)
    border = hover(qtbot, window, "transposed-conv", 0, 0)
    assert "border darkens" in window.explain.widget.text.toPlainText()
    assert border.linear and all(t.kernel is not None for t in border.taps)
    learned = hover(qtbot, window, "espcn", 3, 2)
    assert not learned.linear and learned.receptive_field is not None
    assert "is not linear" in window.explain.widget.text.toPlainText()


def test_the_reference_panel_says_there_is_nothing_to_explain(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_compared(qtbot, window, photo_file(tmp_path, 32), ("bilinear",))
    window.docks["explain"].raise_()
    qtbot.wait(50)
    panel = window.grid.panel("reference")
    qtbot.mouseMove(panel.view.viewport(), screen_point(panel, 5.5, 5.5))
    qtbot.waitUntil(lambda: "reference is an input" in window.explain.widget.heading.text(), timeout=TIMEOUT_MS)
    assert window.explain.widget.shown is None


def test_the_dock_sits_behind_the_pixel_inspector(window: MainWindow) -> None:
    assert window.docks["explain"] in window.tabifiedDockWidgets(window.docks["inspector"])
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert any(a.text() == "Explain pixel" for a in view_menu.actions()) or isinstance(view_menu, QtWidgets.QMenu)


@pytest.mark.parametrize("size", [(1, 1)])
def test_a_one_pixel_image_is_explained(qtbot, window: MainWindow, tmp_path: Path, size) -> None:
    image = np.full((*size, 3), 77, np.uint8)
    path = tmp_path / "dot.png"
    core.save_image(path, image)
    settings = core.ComparisonSettings(mode="upscale", scale=4, methods=("bicubic",))
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        window.open_at_start([str(path)], None, settings)
    window.docks["explain"].raise_()
    qtbot.wait(50)
    window.explain.explain_at("bicubic", 3, 2)
    qtbot.waitUntil(lambda: window.explain.widget.shown is not None, timeout=TIMEOUT_MS)
    explanation = window.explain.widget.shown.explanation
    assert [(t.y, t.x) for t in explanation.taps] == [(0, 0)] and explanation.value[0] == pytest.approx(77)
    assert QtCore.QRectF  # the plot drew a 1x1 input
