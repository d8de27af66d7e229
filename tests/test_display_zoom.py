"""Zoomed out, a panel shows the image averaged by area onto the screen grid (never skipped
pixels, whose moire is not in the image), and values written in pixels fit their cells.

The references here are written from the definition: output pixel ``d`` of ``n_out``
covers ``[d n_in / n_out, (d + 1) n_in / n_out)`` of the input, and is the mean of the
input over that interval (each input pixel weighted by its overlap), in float64.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6 import QtCore, QtGui, QtWidgets

import core
from core import DisplayWindow, ParameterError
from gui import MainWindow
from gui._runner import ComparisonRunner
from gui.canvas import REFERENCE_KEY
from gui.canvas._pixel_items import channel_names, choose_value_style, qimage_view, value_text

TIMEOUT_MS = 30_000
BACKGROUND = (32, 32, 32)  # the panels' background colour


# The reference: area averages from the definition -----------------------------------------


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` float64: row ``d`` holds each input pixel's share of output pixel
    ``d``. Positions are scaled by ``n_out`` so the overlaps are exact integers."""
    d = np.arange(n_out, dtype=np.int64)[:, None]
    k = np.arange(n_in, dtype=np.int64)[None, :]
    overlap = np.minimum((d + 1) * n_in, (k + 1) * n_out) - np.maximum(d * n_in, k * n_out)
    return np.maximum(overlap, 0) / n_in


def area_average(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The exact area average of ``(H, W)`` or ``(H, W, C)`` ``image`` on a ``rows x cols``
    grid, float64, same channel layout."""
    hwc = image.astype(np.float64).reshape(image.shape[0], image.shape[1], -1)
    down = np.tensordot(area_weights(image.shape[0], rows), hwc, axes=(1, 0))  # (rows, W, C)
    out = np.tensordot(down, area_weights(image.shape[1], cols), axes=(1, 1)).transpose(0, 2, 1)
    return out if image.ndim == 3 else out[:, :, 0]


def nearest_whole(value: float) -> int:
    return int(math.floor(value + 0.5))


# core: the reduction and the window -------------------------------------------------------


@given(
    height=st.integers(1, 90),
    width=st.integers(1, 90),
    channels=st.sampled_from([None, 1, 3, 4]),
    zoom=st.floats(0.02, 0.999),
    stretch=st.floats(0.8, 1.0),
    view=st.tuples(*[st.floats(-0.3, 1.3)] * 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_reduction_is_the_area_average_of_the_window(height, width, channels, zoom, stretch, view, seed) -> None:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width) if channels is None else (height, width, channels), dtype=np.uint8)
    zooms = (zoom * stretch, zoom)
    (top, bottom), (left, right) = sorted(view[:2]), sorted(view[2:])
    visible = (top * height, left * width, bottom * height, right * width)
    window = core.display_window(image.shape, zooms, visible)
    assert window.fits(zooms) and window.covers(visible, image.shape)
    assert 0 <= window.top < window.bottom <= height and 0 <= window.left < window.right <= width
    assert (window.rows, window.cols) == (
        min(window.height, max(1, nearest_whole(window.height * zooms[0]))),
        min(window.width, max(1, nearest_whole(window.width * zooms[1]))),
    )
    out = core.reduce_for_display(image, window)
    part = image[window.top:window.bottom, window.left:window.right]
    expected = area_average(part, window.rows, window.cols)
    assert out.dtype == np.uint8 and out.flags.c_contiguous and out.shape == expected.shape
    # Rounding to 8 bits moves a mean by at most half a level; float32 sums add ~0.01.
    assert np.max(np.abs(out - expected)) <= 0.51


@given(
    length=st.integers(600, 2500),
    ratio=st.floats(1.0, 4.0),
    period=st.integers(1, 3),
)
def test_reduction_is_exact_where_opencv_is_not(length: int, ratio: float, period: int) -> None:
    """Long rows reach the sizes where OpenCV's float boundaries slip (a partial pixel
    under 1e-3 is dropped); stripes of one to three pixels make any slip show."""
    row = np.where((np.arange(length) // period) % 2, 255, 0).astype(np.uint8)
    image = np.repeat(row[None, :], 3, axis=0)
    window = DisplayWindow(0, 0, 3, length, 3, max(1, int(length / ratio)))
    expected = area_average(image, window.rows, window.cols)
    assert np.max(np.abs(core.reduce_for_display(image, window) - expected)) <= 0.51


def test_opencv_alone_would_be_off_here() -> None:
    """Why the reduction does not call OpenCV blindly: 1021 -> 1006 columns of alternating
    stripes come out of INTER_AREA three quarters of a level off."""
    image = np.repeat(np.where(np.arange(1021) % 2, 255, 0).astype(np.uint8)[None, :], 3, axis=0)
    expected = area_average(image, 3, 1006)
    opencv = cv2.resize(image, (1006, 3), interpolation=cv2.INTER_AREA)
    assert np.max(np.abs(opencv - expected)) > 0.7
    ours = core.reduce_for_display(image, DisplayWindow(0, 0, 3, 1021, 3, 1006))
    assert np.max(np.abs(ours - expected)) <= 0.51


def test_display_window_follows_the_view() -> None:
    # From a zoom of 1 up the pixels are drawn as they are.
    assert core.display_window((512, 512), (1.0, 1.0)) is None
    assert core.display_window((512, 512), (4.0, 4.0)) is None
    # All in view: the whole array, at the size it covers on screen.
    assert core.display_window((512, 300, 3), (0.28, 0.28)) == DisplayWindow(0, 0, 512, 300, 143, 84)
    # Part in view: that part and half its size around it, no more.
    window = core.display_window((4096, 4096), (0.9, 0.9), (1000.0, 1000.0, 1400.0, 1600.0))
    assert window.covers((1000.0, 1000.0, 1400.0, 1600.0), (4096, 4096))
    assert window.height <= 800 + 16 and window.width <= 1200 + 16
    assert not window.covers((1000.0, 2000.0, 1400.0, 2600.0), (4096, 4096))
    assert not window.fits((0.8, 0.8))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: core.display_window((10, 10), (0.0, 0.5)), "zoom must be two positive numbers"),
        (lambda: core.display_window((10, 10), (math.nan, 0.5)), "zoom must be two positive numbers"),
        (lambda: core.display_window((0, 10), (0.5, 0.5)), "empty array"),
        (lambda: core.reduce_for_display(np.zeros((4, 4), np.float32), DisplayWindow(0, 0, 4, 4, 2, 2)), "uint8"),
        (lambda: core.reduce_for_display(np.zeros((4, 4), np.uint8), DisplayWindow(0, 0, 5, 4, 2, 2)), "does not lie inside"),
        (lambda: core.reduce_for_display(np.zeros((4, 4), np.uint8), DisplayWindow(0, 0, 4, 4, 5, 2)), "between 1 pixel"),
    ],
)
def test_bad_display_requests_say_why(call, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        call()


# The viewer: what a zoomed-out panel shows ------------------------------------------------


def open_zone_plate(qtbot, win: MainWindow, methods: list[str]) -> None:
    win.settings_panel.from_dict({"methods": methods})
    win._recompute_timer.stop()
    with qtbot.waitSignal(win.comparison_finished, timeout=TIMEOUT_MS):
        win.open_chart("zone-plate")


def grab(panel) -> np.ndarray:
    """What the panel's view shows now, ``(h, w, 3)`` uint8 (painting it afresh)."""
    image = panel.view.viewport().grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def placement(panel) -> tuple[tuple[float, float], tuple[float, float]]:
    """Screen pixels per shown-array pixel (vertical, horizontal) and where the array's
    corner lands on the viewport, from the view's own transform."""
    item = panel.image_item
    transform = item.deviceTransform(panel.view.viewportTransform())
    height, width = item.array.shape[:2]
    rect = item.boundingRect()
    zoom = (transform.m22() * rect.height() / height, transform.m11() * rect.width() / width)
    corner = transform.map(QtCore.QPointF(0, 0))
    return zoom, (corner.y(), corner.x())


def old_display(image: np.ndarray, zoom: tuple[float, float], corner: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
    """What the viewer drew before: a power-of-two block average (none from 75% up),
    stretched by Qt's smooth (bilinear) transform, or the sharp pixels themselves."""
    factor = 1 if zoom[1] >= 0.75 else max(2, 2 ** int(math.floor(math.log2(1 / zoom[1]))))
    shown = image
    if factor > 1:
        side = -(-image.shape[0] // factor), -(-image.shape[1] // factor)
        shown = np.ascontiguousarray(cv2.resize(image, side[::-1], interpolation=cv2.INTER_AREA))
    canvas = QtGui.QImage(size[1], size[0], QtGui.QImage.Format.Format_RGB888)
    canvas.fill(QtGui.QColor(*BACKGROUND))
    painter = QtGui.QPainter(canvas)
    painter.setTransform(QtGui.QTransform(zoom[1], 0, 0, zoom[0], corner[1], corner[0]))
    painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, factor > 1)
    painter.drawImage(QtCore.QRectF(0, 0, image.shape[1], image.shape[0]), qimage_view(shown))
    painter.end()
    rows = np.frombuffer(canvas.constBits(), np.uint8).reshape(canvas.height(), canvas.bytesPerLine())
    return rows[:, : canvas.width() * 3].reshape(canvas.height(), canvas.width(), 3)


def test_zoomed_out_zone_plate_shows_the_area_average(qtbot, window: MainWindow) -> None:
    open_zone_plate(qtbot, window, ["nearest"])
    grid = window.grid
    grid.toggle_maximise(REFERENCE_KEY)
    panel = grid.panel(REFERENCE_KEY)
    image = core.make_chart("zone-plate", 512)
    assert np.array_equal(panel.shown_array, image)
    old_errors = {}
    for zoom in (0.2, 0.28, 0.35, 0.45, 0.6, 0.75):
        grid.look_at(256, 256, zoom)
        shown: dict[str, np.ndarray] = {}

        def reduced_copy_drawn(shown: dict[str, np.ndarray] = shown) -> bool:
            shown["pixels"] = grab(panel)
            drawn = panel.image_item.drawn_window
            return drawn is not None and drawn.fits(placement(panel)[0])

        qtbot.waitUntil(reduced_copy_drawn, timeout=TIMEOUT_MS)
        pixels = shown["pixels"]
        (zy, zx), (top, left) = placement(panel)
        assert (zy, zx) == pytest.approx((zoom, zoom), rel=0.01)
        rows, cols = nearest_whole(512 * zy), nearest_whole(512 * zx)
        y, x = nearest_whole(top), nearest_whole(left)
        assert y >= 1 and x >= 1 and y + rows < pixels.shape[0] and x + cols < pixels.shape[1], "the image must be all in view"
        expected = area_average(image, rows, cols)
        # Each screen pixel is the exact mean of the image under it, rounded to 8 bits
        # (half a level), placed within half a screen pixel of where the view puts the
        # image's corner; the comparison is on that grid, so a level covers both.
        assert np.max(np.abs(pixels[y:y + rows, x:x + cols] - expected)) <= 1.0, zoom
        # And it is exactly that size: the panel's background lies all around it.
        edges = (pixels[y - 1, x:x + cols], pixels[y + rows, x:x + cols],
                 pixels[y:y + rows, x - 1], pixels[y:y + rows, x + cols])
        for edge in edges:
            assert (edge == BACKGROUND).all(), zoom
        old = old_display(image, (zy, zx), (top, left), pixels.shape[:2])
        old_errors[zoom] = float(np.max(np.abs(old[y:y + rows, x:x + cols] - expected)))
    # The old display (power-of-two averages, then bilinear or skipped pixels) is far off
    # at every one of these zooms: that is the false lattice of ring centres.
    assert min(old_errors.values()) > 20, old_errors


def test_reference_in_upscale_mode_is_reduced_at_its_own_zoom(qtbot, window: MainWindow) -> None:
    """The original is drawn stretched over the output grid: what counts is screen pixels
    per pixel of the original, four times the view's zoom at x4."""
    panel_settings = window.settings_panel
    panel_settings.mode.setCurrentIndex(panel_settings.mode.findData("upscale"))
    open_zone_plate(qtbot, window, ["nearest"])
    grid = window.grid
    grid.toggle_maximise(REFERENCE_KEY)
    panel = grid.panel(REFERENCE_KEY)
    image = core.make_chart("zone-plate", 512)
    assert panel.image_item.boundingRect().width() == 2048
    grid.look_at(1024, 1024, 0.09)  # 0.36 screen pixels per pixel of the original
    shown: dict[str, np.ndarray] = {}

    def reduced_copy_drawn() -> bool:
        shown["pixels"] = grab(panel)
        drawn = panel.image_item.drawn_window
        return drawn is not None and drawn.fits(placement(panel)[0])

    qtbot.waitUntil(reduced_copy_drawn, timeout=TIMEOUT_MS)
    (zy, zx), (top, left) = placement(panel)
    assert zx == pytest.approx(0.36, rel=0.01)
    rows, cols = nearest_whole(512 * zy), nearest_whole(512 * zx)
    y, x = nearest_whole(top), nearest_whole(left)
    expected = area_average(image, rows, cols)
    assert np.max(np.abs(shown["pixels"][y:y + rows, x:x + cols] - expected)) <= 1.0


def test_fast_zoom_asks_one_reduction_per_panel_at_a_time(qtbot, window: MainWindow, monkeypatch) -> None:
    open_zone_plate(qtbot, window, ["nearest", "bilinear"])
    grid = window.grid
    release = threading.Event()
    computed: list[DisplayWindow] = []
    reduce = core.reduce_for_display

    def held_back(display: np.ndarray, wanted: DisplayWindow) -> np.ndarray:
        computed.append(wanted)
        release.wait(TIMEOUT_MS / 1000)
        return reduce(display, wanted)

    monkeypatch.setattr(core, "reduce_for_display", held_back)
    asked: list[str] = []
    grid.level_needed.connect(lambda key, _source, _window: asked.append(key))
    panels = list(grid.panels.values())
    try:
        for step in range(12):  # a quick zoom: every step is painted while the first copy computes
            grid.look_at(256, 256, 0.2 * 1.08**step)
            for panel in panels:
                grab(panel)
    finally:
        release.set()

    def all_drawn() -> bool:
        return all(
            p.image_item.drawn_window is not None and p.image_item.drawn_window.fits(placement(p)[0])
            for p in panels
            if grab(p) is not None
        )

    qtbot.waitUntil(all_drawn, timeout=TIMEOUT_MS)
    assert len(asked) >= 12 * len(panels)  # every panel asked at every step...
    assert len(computed) <= 2 * len(panels)  # ...but only its first and its latest request ran


def test_runner_runs_the_latest_request_and_drops_those_of_an_old_job(qtbot, monkeypatch) -> None:
    runner = ComparisonRunner()
    runner.pool.setMaxThreadCount(1)  # so that a request can be seen waiting in the pool
    image = core.make_chart("zone-plate", 512)
    first, second, third = (core.display_window(image.shape, (z, z)) for z in (0.3, 0.31, 0.32))
    release = threading.Event()
    computed: list[tuple[int, DisplayWindow]] = []
    reduce = core.reduce_for_display

    def held_back(display: np.ndarray, wanted: DisplayWindow) -> np.ndarray:
        computed.append((display.shape[0], wanted))
        release.wait(TIMEOUT_MS / 1000)
        return reduce(display, wanted)

    monkeypatch.setattr(core, "reduce_for_display", held_back)
    received: list[tuple[str, DisplayWindow]] = []
    runner.level_ready.connect(lambda key, source, wanted, level: received.append((key, wanted)))
    other = core.make_chart("zone-plate", 256)
    small_first, small_second = (core.display_window(other.shape, (z, z)) for z in (0.3, 0.31))
    try:
        runner.reduce("reference", image, first)
        qtbot.waitUntil(lambda: len(computed) == 1, timeout=TIMEOUT_MS)  # computing, held back
        runner.reduce("reference", image, second)  # waits for the first...
        runner.reduce("reference", image, third)  # ...and is replaced by the third
        runner.reduce("bicubic", other, small_first)  # queued behind the held-back one...
        runner.reduce("bicubic", other, small_second)  # ...and overtaken before it starts
    finally:
        release.set()
    qtbot.waitUntil(lambda: len(received) == 3, timeout=TIMEOUT_MS)
    assert set(computed) == {(512, first), (512, third), (256, small_second)} and len(computed) == 3
    assert set(received) == {("reference", first), ("reference", third), ("bicubic", small_second)}
    # A copy still computing when a new job starts is never delivered.
    release.clear()
    runner.reduce("reference", image, first)
    qtbot.waitUntil(lambda: len(computed) == 4, timeout=TIMEOUT_MS)
    runner.cancel()
    runner.job_id += 1  # what starting a new comparison does after cancelling
    release.set()
    assert runner.pool.waitForDone(TIMEOUT_MS)
    QtWidgets.QApplication.processEvents()
    assert len(received) == 3
    runner.shutdown()


# Values written in pixels -------------------------------------------------------------


VALUE_CASES = {
    "uint8 RGB": np.array([[[255, 0, 12], [3, 200, 99]]], np.uint8),
    "uint8 grey": np.array([[255, 7]], np.uint8),
    "uint16 RGB": np.array([[[65535, 0, 12], [3, 40000, 99]]], np.uint16),
    "uint16 RGBA": np.full((1, 2, 4), 65535, np.uint16),
    "float RGB": np.array([[[0.123456, -0.000123, 1.25], [1e-7, 0.5, -0.25]]], np.float32),
    "signed difference": np.array([[-255.0, 12.5]], np.float32),
    "squared difference of uint16": np.array([[65535.0**2, 0.25]], np.float32),
    "float difference": np.array([[-0.000123, 0.0123456]], np.float32),
}


@pytest.mark.parametrize("cell", [32, 35, 40])
@pytest.mark.parametrize("case", list(VALUE_CASES))
def test_written_values_fit_their_cells(qtbot, cell: int, case: str) -> None:
    values = VALUE_CASES[case]
    font = QtWidgets.QApplication.font()
    style = choose_value_style(values, cell, font)
    if style is None:
        # Only four 16-bit channels are too many for a 32-pixel cell: the grid stays alone.
        assert case == "uint16 RGBA" and cell == 32
        return
    sized = QtGui.QFont(font)
    sized.setPixelSize(style.font_px)
    metrics = QtGui.QFontMetricsF(sized)
    channels = 1 if values.ndim == 2 else values.shape[2]
    names = channel_names(channels)
    integer = np.issubdtype(values.dtype, np.integer)
    for pixel in values.reshape(-1, channels):
        lines = [value_text(name, value, integer, style) for name, value in zip(names, pixel)]
        # The text and its box (one pixel of padding) leave a pixel of the cell free.
        assert max(metrics.horizontalAdvance(line) for line in lines) + 4 <= cell, lines
        assert len(lines) * metrics.height() + 4 <= cell, lines
        assert style.font_px >= 6
        if style.labels:
            assert [line.split(" ")[0] for line in lines] == list(names[:channels])
    if case == "uint8 RGB":
        assert style.labels  # "R 255", "G 0", "B 12" from 32x on


def test_values_are_written_over_the_crosshair(qtbot, window: MainWindow, tmp_path: Path) -> None:
    image = np.full((24, 24), 20, np.uint8)  # grey: one line of text, room around its box
    path = tmp_path / "dark.png"
    core.save_image(path, image)
    window.settings_panel.from_dict({"methods": ["nearest"]})
    window._recompute_timer.stop()
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        window.open_paths([str(path)])
    grid = window.grid
    panel = grid.panel(REFERENCE_KEY)
    grid.look_at(12.5, 12.5, 40.0)
    panel.set_crosshair(12.5, 12.5)
    pixels = grab(panel)
    (zy, zx), (top, left) = placement(panel)
    centre_x, centre_y = nearest_whole(left + 12.5 * zx), nearest_whole(top + 12.5 * zy)
    # Along the crosshair's vertical line, the middle of the cell is the value box (dark,
    # with light text), not the yellow line.
    column = pixels[centre_y - 8:centre_y + 8, centre_x - 1:centre_x + 2].reshape(-1, 3).astype(int)
    yellow = (column[:, 0] > 150) & (column[:, 1] > 150) & (column[:, 2] < 100)
    assert not yellow.any()
    # Between the box and the cell's edge the line is drawn as before.
    beside = pixels[nearest_whole(top + 12.0 * zy) + 4, centre_x - 1:centre_x + 2].astype(int)
    assert ((beside[:, 0] > 150) & (beside[:, 1] > 150) & (beside[:, 2] < 100)).any()
