"""Swipe, blink, histograms, channel views and exposure as a user meets them (pytest-qt,
offscreen): what the screen shows against the images' own pixels, computed here apart."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from gui import MainWindow
from gui.analysis import DisplayAdjustment
from gui.canvas import REFERENCE_KEY

TIMEOUT_MS = 30_000


def compare_photo(seed: int, size: int = 96, dtype: type = np.uint8) -> np.ndarray:
    """Blocks with noise: a nearest-neighbour result differs clearly from the truth."""
    rng = np.random.default_rng(seed)
    blocks = -(-size // 6)
    small = rng.random((blocks, blocks, 3)).astype(np.float32)
    big = np.kron(small, np.ones((6, 6, 1), np.float32))[:size, :size] + rng.normal(0, 0.05, (size, size, 3))
    unit = np.clip(big, 0.0, 1.0)
    if dtype is np.float32:
        return unit.astype(np.float32)
    return np.rint(unit * np.iinfo(dtype).max).astype(dtype)


def show(qtbot, win: MainWindow, image: np.ndarray) -> None:
    with qtbot.waitSignal(win.comparison_finished, timeout=TIMEOUT_MS):
        win.set_image(image, "photo")


def view_point(panel, x: float, y: float) -> QtCore.QPoint:
    scene = panel.view_box.mapViewToScene(QtCore.QPointF(x, y))
    return panel.view.mapFromScene(scene)


def screen_rgb(picture: QtGui.QImage, point: QtCore.QPoint) -> tuple[int, int, int]:
    colour = picture.pixelColor(point)
    return colour.red(), colour.green(), colour.blue()


def as_rgb(display: np.ndarray, row: int, column: int) -> tuple[int, int, int]:
    value = display[row, column]
    return (int(value),) * 3 if display.ndim == 2 else tuple(int(v) for v in value[:3])


def test_swipe_shows_a_before_the_divider_and_b_after_it(qtbot, window: MainWindow) -> None:
    show(qtbot, window, compare_photo(1))
    analysis = window.analysis
    assert (analysis.compare.key_a, analysis.compare.key_b) == (REFERENCE_KEY, "nearest")  # the defaults
    analysis.set_pair(REFERENCE_KEY, "bicubic")
    analysis.set_mode("swipe")
    # The view lies over the grid, in its place.
    assert analysis.view.isVisible() and analysis.view.geometry() == window.grid.geometry()
    window.grid.look_at(48, 48, 6.0)  # the grid's one view state drives the swipe view too
    view = analysis.view
    view.divider.setValue(40.0)  # what a drag of the divider does
    assert analysis.compare.divider == pytest.approx(40 / 96)
    qtbot.wait(50)
    picture = view.panel.view.grab().toImage()
    truth = window.job.reference_display
    bicubic = window.displays["bicubic"]
    assert view.shown_arrays()["a"] is window.grid.panel(REFERENCE_KEY).shown_array
    assert view.shown_arrays()["b"] is window.grid.panel("bicubic").shown_array
    (x0, x1), (y0, y1) = view.panel.view_range()
    assert (x0 + x1) / 2 == pytest.approx(48) and (y0 + y1) / 2 == pytest.approx(48)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, 96), min(y1, 96)
    checked = {"a": 0, "b": 0}
    for row in range(int(y0) + 1, int(y1) - 1, 3):
        for column in range(int(x0) + 1, int(x1) - 1):
            a, b = as_rgb(truth, row, column), as_rgb(bicubic, row, column)
            if max(abs(p - q) for p, q in zip(a, b)) < 12:
                continue  # the two images agree here: this pixel cannot tell them apart
            seen = screen_rgb(picture, view_point(view.panel, column + 0.5, row + 0.5))
            side = "a" if column < 40 else "b"
            assert seen == (a if side == "a" else b), (row, column, side)
            assert analysis.compare.key_at(column + 0.5, row + 0.5, 96, 96) == (REFERENCE_KEY if side == "a" else "bicubic")
            checked[side] += 1
    assert checked["a"] > 20 and checked["b"] > 20

    # Horizontal: A above the divider, B below it.
    analysis.orientation_action.setChecked(True)
    view.divider.setValue(50.0)
    qtbot.wait(50)
    picture = view.panel.view.grab().toImage()
    for row, expected in ((46, truth), (49, truth), (50, bicubic), (53, bicubic)):
        for column in range(int(x0) + 1, int(x1) - 1, 2):
            assert screen_rgb(picture, view_point(view.panel, column + 0.5, row + 0.5)) == as_rgb(expected, row, column)

    # Hovering reports the pixel of the image shown there; the inspector follows it.
    qtbot.mouseMove(view.panel.view.viewport(), view_point(view.panel, 45.5, 52.5))
    qtbot.waitUntil(lambda: analysis.hovered_readout is not None and analysis.hovered_readout[1:3] == (52, 45), timeout=5000)
    assert analysis.hovered_readout[0] == "bicubic"
    assert analysis.hovered_readout[3] == tuple(float(v) for v in window.results["bicubic"].image[52, 45])
    assert window.inspector.position_label.text() == "Pixel x=45, y=52"
    analysis.set_mode("off")
    assert window.grid.isVisible() and not view.isVisible()


def test_blink_alternates_on_a_timer_and_on_the_b_key(qtbot, window: MainWindow) -> None:
    show(qtbot, window, compare_photo(2))
    analysis = window.analysis
    truth = window.grid.panel(REFERENCE_KEY).shown_array
    nearest = window.grid.panel("nearest").shown_array
    analysis.rate.setValue(10.0)
    analysis.set_mode("blink")
    shown = analysis.view.shown_arrays

    assert shown()["b"] is None
    first = shown()["a"]
    assert first is truth
    qtbot.waitUntil(lambda: shown()["a"] is nearest, timeout=3000)
    qtbot.waitUntil(lambda: shown()["a"] is truth, timeout=3000)
    assert analysis.view.panel.shown_title().startswith("Blink: ")

    analysis.auto_blink.setChecked(False)
    assert not analysis.blink_timer.isActive()
    before = shown()["a"]
    analysis.view.setFocus()
    qtbot.keyClick(analysis.view, QtCore.Qt.Key.Key_B)
    assert shown()["a"] is (nearest if before is truth else truth)
    qtbot.keyClick(analysis.view, QtCore.Qt.Key.Key_B)
    assert shown()["a"] is before
    analysis.set_mode("off")
    assert not analysis.blink_timer.isActive()


def test_histogram_counts_are_numpys_for_the_hovered_panel_and_for_all(qtbot, window: MainWindow) -> None:
    show(qtbot, window, compare_photo(3, dtype=np.uint16))
    analysis = window.analysis
    analysis.histogram_dock.show()
    analysis.histogram_dock.raise_()
    panel = window.grid.panel("bilinear")
    qtbot.mouseMove(panel.view.viewport(), view_point(panel, 30.5, 30.5))
    qtbot.waitUntil(lambda: "bilinear" in (analysis.histograms.histograms or {}), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: bool(analysis.histograms.shown), timeout=5000)
    image = window.results["bilinear"].image
    curves = analysis.histograms.shown or []
    assert [(key, name) for _, key, name, _ in curves] == [("bilinear", "R"), ("bilinear", "G"), ("bilinear", "B")]
    for _, _, name, hist in curves:
        expected, _edges = np.histogram(image[:, :, "RGB".index(name)], bins=256, range=(0, 65536))
        np.testing.assert_array_equal(hist.of(name), expected)
    # What the plot draws is those counts.
    drawn = analysis.histogram_dock_widget.curve_data()
    assert len(drawn) == 3
    np.testing.assert_array_equal(drawn[0][1], curves[0][3].of("R"))

    dock = analysis.histogram_dock_widget
    dock.source.setCurrentIndex(dock.source.findData("all"))
    dock.log_counts.setChecked(True)
    keys = list(window.grid.panels)
    qtbot.waitUntil(lambda: len(analysis.histograms.shown or []) == len(keys), timeout=TIMEOUT_MS)
    for _, key, name, hist in analysis.histograms.shown or []:
        assert name == "luma"
        values = window.job.reference_values if key == REFERENCE_KEY else window.results[key].image
        luma = np.clip(np.rint(values.astype(np.float64) @ [0.299, 0.587, 0.114]), 0, 65535)
        counts = hist.of("luma")
        expected, _edges = np.histogram(luma, bins=256, range=(0, 65536))
        assert np.abs(counts - expected).sum() <= values.shape[0] * values.shape[1] * 0.002  # float32 rounding at bin edges
    drawn = dock.curve_data()
    np.testing.assert_allclose(drawn[0][1], np.log10(analysis.histograms.shown[0][3].of("luma") + 1.0))
    assert dock.channel.currentText() == "Luma of each"  # what "each channel" means overlaid
    dock.source.setCurrentIndex(dock.source.findData("cursor"))
    assert dock.channel.currentText() == "Each channel"


def test_channel_view_shows_one_channel_of_every_panel(qtbot, window: MainWindow) -> None:
    image = compare_photo(4)
    show(qtbot, window, image)
    analysis = window.analysis
    analysis.channel.setCurrentIndex(analysis.channel.findData("G"))

    def every_panel_green() -> bool:
        for key, panel in window.grid.panels.items():
            values = window.job.reference_values if key == REFERENCE_KEY else window.results[key].image
            shown = panel.shown_array
            if shown is None or shown.ndim != 2 or not np.array_equal(shown, values[:, :, 1]):
                return False
        return True

    qtbot.waitUntil(every_panel_green, timeout=TIMEOUT_MS)
    analysis.channel.setCurrentIndex(analysis.channel.findData("luma"))
    qtbot.waitUntil(lambda: window.grid.panel(REFERENCE_KEY).shown_array is not None
                    and np.abs(window.grid.panel(REFERENCE_KEY).shown_array.astype(float)
                               - image.astype(float) @ [0.299, 0.587, 0.114]).max() <= 0.51, timeout=TIMEOUT_MS)
    analysis.reset_adjustment()
    assert window.grid.panel("bicubic").shown_array is window.displays["bicubic"]


def test_channel_view_keeps_the_checkerboard_behind_transparency(qtbot, window: MainWindow) -> None:
    image = np.zeros((64, 64, 4), np.uint8)
    image[:, :, 0] = 250
    image[:, :, 3] = np.linspace(0, 255, 64).astype(np.uint8)[None, :]
    show(qtbot, window, image)
    window.analysis.set_adjustment(DisplayAdjustment("R"))
    reference = window.grid.panel(REFERENCE_KEY)
    qtbot.waitUntil(lambda: reference.shown_array is not None and reference.shown_array.ndim == 2, timeout=TIMEOUT_MS)
    shown = reference.shown_array.astype(float)
    alpha = image[:, :, 3].astype(float) / 255
    checker = np.where(((np.arange(64)[:, None] // 8 + np.arange(64)[None, :] // 8) % 2) == 1, 153.0, 204.0)
    np.testing.assert_allclose(shown, 250 * alpha + checker * (1 - alpha), atol=0.51)


def test_exposure_changes_the_picture_but_not_the_inspectors_numbers(qtbot, window: MainWindow) -> None:
    image = compare_photo(5, dtype=np.uint16) // 16  # a dim 16-bit image: 12 bits used
    show(qtbot, window, image)
    analysis = window.analysis
    panel = window.grid.panel("bicubic")
    row, column = 40, 21
    qtbot.mouseMove(panel.view.viewport(), view_point(panel, column + 0.5, row + 0.5))
    qtbot.waitUntil(lambda: window.inspector.position_label.text() == f"Pixel x={column}, y={row}", timeout=5000)
    rows = range(window.inspector.table.rowCount())
    before = [(window.inspector.cell(r, 1), window.inspector.cell(r, 2)) for r in rows]
    reference_before = window.inspector.reference_label.text()
    plain = panel.shown_array.copy()

    analysis.exposure.setValue(4.0)
    result = window.results["bicubic"].image
    expected = np.rint(np.clip(result.astype(np.float64) / 65535 * 16, 0, 1) * 255).astype(np.uint8)
    qtbot.waitUntil(lambda: panel.shown_array is not None and np.array_equal(panel.shown_array, expected), timeout=TIMEOUT_MS)
    assert not np.array_equal(plain, expected)
    assert panel.overlay_item.values is result  # the numbers written in pixels stay the image's
    qtbot.mouseMove(panel.view.viewport(), view_point(panel, column + 1.5, row + 0.5))
    qtbot.mouseMove(panel.view.viewport(), view_point(panel, column + 0.5, row + 0.5))
    qtbot.waitUntil(lambda: window.inspector.position_label.text() == f"Pixel x={column}, y={row}", timeout=5000)
    assert [(window.inspector.cell(r, 1), window.inspector.cell(r, 2)) for r in rows] == before
    assert window.inspector.reference_label.text() == reference_before
    assert window.inspector.cell(list(window.grid.panels).index("bicubic") - 1, 1) == ", ".join(
        str(int(v)) for v in result[row, column])


def test_nothing_blocks_the_event_loop_while_the_views_update(qtbot, window: MainWindow) -> None:
    window.settings_panel.from_dict({**window.settings_panel.to_dict(), "scale": 2.0})
    show(qtbot, window, compare_photo(6, size=1024, dtype=np.uint16))
    analysis = window.analysis
    # Each gap between ticks of a 5 ms timer: its wall time, and the GUI thread's own CPU
    # time in it. On a busy machine (other processes, this test's own workers) the wall
    # time also holds waits for a core; the CPU time is what the GUI thread itself did.
    gaps: list[float] = []
    busy: list[float] = []
    clock = QtCore.QElapsedTimer()
    clock.start()
    last = [clock.elapsed(), time.thread_time()]

    def tick() -> None:
        now, cpu = clock.elapsed(), time.thread_time()
        gaps.append(now - last[0])
        busy.append((cpu - last[1]) * 1000)
        last[0], last[1] = now, cpu

    probe = QtCore.QTimer()
    probe.setInterval(5)
    probe.timeout.connect(tick)
    probe.start()
    try:
        analysis.set_adjustment(DisplayAdjustment("luma", 1.5, 0.05))
        analysis.histogram_dock.show()
        dock = analysis.histogram_dock_widget
        dock.source.setCurrentIndex(dock.source.findData("all"))
        qtbot.waitUntil(lambda: len(analysis.histograms.shown or []) == len(window.grid.panels), timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: all(p.shown_array is not None and p.shown_array.ndim == 2 for p in window.grid.panels.values()),
                        timeout=TIMEOUT_MS)
        analysis.set_mode("swipe")
        analysis.view.divider.setValue(300.0)
        qtbot.wait(100)
        analysis.rate.setValue(20.0)
        analysis.set_mode("blink")
        qtbot.wait(300)
        analysis.set_mode("off")
        qtbot.wait(50)
    finally:
        probe.stop()
    assert len(gaps) > 20
    assert max(busy) < 50, f"the GUI thread worked {max(busy):.0f} ms without a break"
    # Work done on the GUI thread for every panel (10 of 1024x1024) would take seconds.
    assert max(gaps) < 250, f"the event loop stalled for {max(gaps):.0f} ms"


def test_a_swipe_turned_on_zoomed_in_puts_its_divider_in_view(qtbot, window: MainWindow) -> None:
    show(qtbot, window, compare_photo(4))
    height, width = window.job.comparison.output_size
    window.grid.look_at(width * 0.15, height * 0.8, 6.0)  # far from the middle of the image
    seen = window.grid.visible_region()
    analysis = window.analysis
    analysis.set_mode("swipe")
    assert seen.x <= analysis.compare.divider * width <= seen.x + seen.width
    analysis.orientation_action.trigger()  # horizontal: the divider goes into view on that axis too
    assert analysis.compare.orientation == "horizontal"
    assert seen.y <= analysis.compare.divider * height <= seen.y + seen.height


def test_swipe_at_fit_zooms_on_from_what_it_shows(qtbot, window: MainWindow) -> None:
    """At "fit" the large view fits the image; zooming in makes it larger, and the status
    bar's zoom is what the large view shows."""
    show(qtbot, window, compare_photo(4))
    window.commands.fit.trigger()
    analysis = window.analysis
    analysis.set_mode("swipe")
    qtbot.wait(50)
    panel = analysis.view.panel

    def shown_zoom() -> float:
        (x0, x1), _ = panel.view_range()
        return panel.viewport_size()[0] / (x1 - x0)

    fitted = shown_zoom()
    assert window.grid.zoom() == pytest.approx(fitted, rel=0.02)
    window.commands.zoom_in.trigger()
    assert shown_zoom() > fitted * 1.1
    assert window.grid.zoom() == pytest.approx(shown_zoom(), rel=0.02)
    assert f"zoom {window.grid.zoom() * 100:.0f}%" == window.zoom_label.text()
    analysis.set_mode("off")
    assert window.grid.shown_elsewhere is None
