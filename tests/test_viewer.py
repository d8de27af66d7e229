"""The viewer as a user meets it (pytest-qt, offscreen): drops, zoom, inspector,
difference maps, metrics table, line profile, settings and stale results."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import drop_files
from PySide6 import QtCore, QtGui, QtWidgets

import core
from gui import MainWindow
from gui.canvas import REFERENCE_KEY, choose_columns
from gui.docks import DEFAULT_METHODS

TIMEOUT_MS = 30_000
#: The methods ticked on first launch, in panel (registry) order.
SHOWN = [spec.id for spec in core.list_methods() if spec.id in DEFAULT_METHODS]


def finish(qtbot, win: MainWindow, action) -> None:
    """Run ``action`` and wait until every result of the comparison it starts is shown."""
    with qtbot.waitSignal(win.comparison_finished, timeout=TIMEOUT_MS):
        action()


def image_file(tmp_path: Path, name: str, image: np.ndarray) -> Path:
    path = tmp_path / name
    core.save_image(path, image)
    return path


def drop(win: MainWindow, paths: list[Path]) -> None:
    """A real drop event carrying file URLs, sent to the window."""
    drop_files(win, paths)


def photo(seed: int, size: int = 96, channels: int | None = 3) -> np.ndarray:
    """A smooth random image (so methods differ a little, not wildly)."""
    rng = np.random.default_rng(seed)
    blocks = -(-size // 8)
    small = rng.integers(0, 256, (blocks, blocks, channels or 1)).astype(np.float32)
    big = np.kron(small, np.ones((8, 8, 1), np.float32))[:size, :size] + rng.normal(0, 6, (size, size, channels or 1))
    image = np.clip(big, 0, 255).astype(np.uint8)
    return image if channels else image[:, :, 0]


def screen_point(panel, x: float, y: float) -> QtCore.QPoint:
    """Where image point (x, y) of a panel is on its view's viewport."""
    scene = panel.view_box.mapViewToScene(QtCore.QPointF(x, y))
    return panel.view.mapFromScene(scene)


def test_first_launch_shows_the_chart_compared_at_x4(qtbot, window: MainWindow) -> None:
    finish(qtbot, window, lambda: window.open_chart("test-chart"))
    keys = list(window.grid.panels)
    assert keys == [REFERENCE_KEY, *SHOWN]
    assert window.job.comparison.settings.mode == "degrade"
    assert window.job.comparison.scale == (4.0, 4.0)
    assert np.array_equal(window.grid.panel(REFERENCE_KEY).shown_array, core.make_chart("test-chart", 512))
    bicubic = window.grid.panel("bicubic")
    assert "PSNR" in bicubic.title_text() and "SSIM" in bicubic.title_text() and "ms" in bicubic.title_text()
    assert bicubic.status_text() is None
    assert window.metrics_table.rowCount() == len(SHOWN)
    assert window.progress.isHidden()


def test_drop_of_a_good_file_compares_it(qtbot, window: MainWindow, tmp_path: Path) -> None:
    image = photo(1, 100)
    path = image_file(tmp_path, "good.png", image)
    finish(qtbot, window, lambda: drop(window, [path]))
    assert window.image_name == str(path)
    # Degrade mode at x4 crops 100 -> 100 (a multiple of 4) and shows it as ground truth.
    assert np.array_equal(window.grid.panel(REFERENCE_KEY).shown_array, image)
    assert window.image_list.count() == 1
    assert window.recent_files() == [str(path)]
    expected = core.upsample(core.downsample(image, 4, "bicubic-aa")[0], "bicubic", scale=4)
    assert np.array_equal(window.results["bicubic"].image, expected)


@pytest.mark.parametrize("kind", ["text", "folder", "empty", "truncated"])
def test_drop_of_a_bad_file_keeps_the_comparison(qtbot, window: MainWindow, tmp_path: Path, kind: str) -> None:
    good = image_file(tmp_path, "good.png", photo(2))
    finish(qtbot, window, lambda: drop(window, [good]))
    job, shown = window.runner.job_id, window.grid.panel("bilinear").shown_array
    bad = tmp_path / f"bad-{kind}.png"
    if kind == "text":
        bad.write_text("not an image")
    elif kind == "folder":
        bad.mkdir()
    elif kind == "empty":
        bad.write_bytes(b"")
    else:
        bad.write_bytes(good.read_bytes()[:200])
    with qtbot.waitSignal(window.runner.load_checked, timeout=TIMEOUT_MS):
        drop(window, [bad])
    message = window.message_bar.text()
    assert str(bad) in message and "unchanged" in message
    assert str(good) not in message  # the failing file is named, not the image on screen
    assert window.runner.job_id == job
    assert window.grid.panel("bilinear").shown_array is shown
    assert window.image_list.count() == 1


def test_drop_of_a_mixed_list(qtbot, window: MainWindow, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff garbage")
    first, second = image_file(tmp_path, "a.png", photo(3)), image_file(tmp_path, "b.png", photo(4))
    with qtbot.waitSignal(window.runner.load_checked, timeout=TIMEOUT_MS):
        with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
            drop(window, [broken, first, second])
    assert window.image_name == str(first)
    assert [window.image_list.item(i).toolTip() for i in range(window.image_list.count())] == [str(first), str(second)]
    assert str(broken) in window.message_bar.text()
    # Choosing the second image in the list compares it.
    finish(qtbot, window, lambda: window.image_list.setCurrentRow(1))
    assert window.image_name == str(second)


def test_wheel_zoom_moves_every_panel_alike(qtbot, window: MainWindow) -> None:
    finish(qtbot, window, lambda: window.open_chart("test-chart"))
    grid = window.grid
    panel = grid.panel("lanczos4")
    before = grid.zoom()
    anchor = (200.5, 100.5)
    position = screen_point(panel, *anchor)
    under = panel.view_box.mapSceneToView(panel.view.mapToScene(position))
    for _ in range(6):
        wheel = QtGui.QWheelEvent(
            QtCore.QPointF(position), QtCore.QPointF(panel.view.viewport().mapToGlobal(position)), QtCore.QPoint(0, 0),
            QtCore.QPoint(0, 120), QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
            QtCore.Qt.ScrollPhase.NoScrollPhase, False,
        )
        QtWidgets.QApplication.sendEvent(panel.view.viewport(), wheel)
    assert grid.zoom() == pytest.approx(before * 1.25**6)
    ranges = {key: sum(p.view_range(), ()) for key, p in grid.panels.items()}
    first = ranges[REFERENCE_KEY]
    for key, ranged in ranges.items():
        assert ranged == pytest.approx(first, abs=1e-6), key
    # The point under the cursor stayed under the cursor.
    after = panel.view_box.mapSceneToView(panel.view.mapToScene(position))
    assert (after.x(), after.y()) == pytest.approx((under.x(), under.y()), abs=1e-6)
    # Keys: 1 is one screen pixel per image pixel, F fits the whole image again.
    grid.setFocus()
    qtbot.keyClick(grid, QtCore.Qt.Key.Key_1)
    assert grid.zoom() == pytest.approx(1.0)
    (x0, x1), _ = grid.panel(REFERENCE_KEY).view_range()
    assert x1 - x0 == pytest.approx(grid.panel(REFERENCE_KEY).viewport_size()[0])
    qtbot.keyClick(grid, QtCore.Qt.Key.Key_F)
    assert grid.state.fit


def test_zoom_reaches_64x_and_writes_pixel_values(qtbot, window: MainWindow) -> None:
    finish(qtbot, window, lambda: window.open_chart("test-chart"))
    grid = window.grid
    for _ in range(40):
        grid.zoom_by(1.25, 256.5, 256.5)
    assert grid.zoom() >= 64
    panel = grid.panel("nearest")
    image = QtGui.QImage(panel.view.viewport().size(), QtGui.QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QtGui.QPainter(image)
    panel.view.render(painter, QtCore.QRectF(image.rect()), panel.view.viewport().rect())
    painter.end()
    # At 64x a pixel is a 64x64 square of one colour, except for its grid line and text.
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4)
    colours = {tuple(c) for c in rows[::4, ::4, :3].reshape(-1, 3)}
    assert len(colours) > 3


def test_resizes_do_not_drift(qtbot, window: MainWindow) -> None:
    finish(qtbot, window, lambda: window.open_chart("test-chart"))
    window.grid.zoom_by(3.0, 100, 100)
    zoom, centre = window.grid.zoom(), (window.grid.state.cx, window.grid.state.cy)
    for size in ((900, 700), (1600, 1000), (1100, 800), (1400, 900)):
        window.resize(*size)
        qtbot.wait(20)
    assert window.grid.zoom() == pytest.approx(zoom)
    assert (window.grid.state.cx, window.grid.state.cy) == pytest.approx(centre)
    for panel in window.grid.visible_panels():
        (x0, x1), (y0, y1) = panel.view_range()
        width, height = panel.viewport_size()
        assert (x1 - x0) * zoom == pytest.approx(width, rel=1e-6)
        assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx(centre)


def test_inspector_shows_the_values_under_the_cursor(qtbot, window: MainWindow, tmp_path: Path) -> None:
    image = photo(5, 64)
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "p.png", image)]))
    panel = window.grid.panel("bicubic")
    row, column = 37, 21
    qtbot.mouseMove(panel.view.viewport(), screen_point(panel, column + 0.5, row + 0.5))
    qtbot.waitUntil(lambda: window.inspector.position_label.text() == f"Pixel x={column}, y={row}", timeout=5000)
    methods = list(window.grid.panels)[1:]
    for index, key in enumerate(methods):
        value = window.results[key].image[row, column]
        assert window.inspector.cell(index, 1) == ", ".join(str(int(v)) for v in value)
        error = value.astype(int) - image[row, column].astype(int)
        assert window.inspector.cell(index, 2) == ", ".join(f"{int(e):+d}" for e in error)
    truth = ", ".join(str(int(v)) for v in image[row, column])
    assert window.inspector.reference_label.text() == f"Ground truth: {truth}"
    small = window.job.comparison.input
    assert window.inspector.source_label.text().startswith(f"From input pixel x={column // 4}, y={row // 4}: ")
    assert window.inspector.source_label.text().endswith(", ".join(str(int(v)) for v in small[row // 4, column // 4]))
    # Every panel's crosshair sits on that pixel's centre.
    for p in window.grid.panels.values():
        assert (p._cross_x.value(), p._cross_y.value()) == (column + 0.5, row + 0.5)


def test_difference_panel_shows_abs_difference_exactly(qtbot, window: MainWindow, tmp_path: Path) -> None:
    image = photo(6, 64, channels=None)
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "grey.png", image)]))
    window.settings_panel.diff_kind.setCurrentIndex(window.settings_panel.diff_kind.findData("abs"))
    window.settings_panel.gain.setCurrentIndex(window.settings_panel.gain.findData(4))
    window.settings_panel.show_diff.setChecked(True)
    qtbot.waitUntil(lambda: len(window.diffs) == len(SHOWN), timeout=TIMEOUT_MS)
    for key in SHOWN:
        panel = window.grid.panel(key)
        result = window.results[key].image
        expected = np.abs(result.astype(np.int32) - image.astype(np.int32))
        values = panel.overlay_item._values
        assert np.array_equal(values, expected.astype(np.float32)), key
        index = np.clip(np.floor(expected * 4 + 0.5), 0, 255).astype(int)
        assert np.array_equal(panel.shown_array, core.colormap_lut("magma")[index]), key
    assert window.colour_bar_view.isVisible()
    assert window.colour_bar.levels() == pytest.approx((0.0, 255.0 / 4))
    # The inspector lists the unscaled difference.
    panel = window.grid.panel("bilinear")
    qtbot.mouseMove(panel.view.viewport(), screen_point(panel, 10.5, 20.5))
    qtbot.waitUntil(lambda: window.inspector.position_label.text() == "Pixel x=10, y=20", timeout=5000)
    row = list(window.grid.panels)[1:].index("bilinear")
    signed = int(window.results["bilinear"].image[20, 10]) - int(image[20, 10])
    assert window.inspector.cell(row, 2) == (f"{abs(signed):+.4g}")
    # Turning maps off shows the results again.
    window.settings_panel.show_diff.setChecked(False)
    assert np.array_equal(window.grid.panel("bilinear").shown_array, window.results["bilinear"].image)


def test_metrics_table_sorts_and_marks_the_best(qtbot, window: MainWindow, tmp_path: Path) -> None:
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "p.png", photo(7))]))
    table = window.metrics_table
    psnr = {k: r.metrics.psnr for k, r in window.results.items()}
    table.horizontalHeader().sectionClicked.emit(2)
    table.sortItems(2, QtCore.Qt.SortOrder.AscendingOrder)
    # Identical results (nearest, area and average unpooling at x4) tie for best.
    assert [psnr[k] for k in table.method_order()] == sorted(psnr.values(), reverse=True)
    assert table.best_methods(2) == [k for k in table.method_order() if psnr[k] == max(psnr.values())]
    assert table.item(0, 2).font().bold()
    mae = {k: r.metrics.mae for k, r in window.results.items()}
    table.sortItems(4, QtCore.Qt.SortOrder.AscendingOrder)
    assert [mae[k] for k in table.method_order()] == sorted(mae.values())
    assert table.column_texts(2)[0] == f"{psnr[table.method_order()[0]]:.2f}"
    # Clicking a row brings that method's panel forward; clicking again restores the grid.
    table.cellClicked.emit(0, 0)
    assert window.grid.maximised == table.method_order()[0]
    assert [p.key for p in window.grid.visible_panels()] == [table.method_order()[0]]
    table.cellClicked.emit(0, 0)
    assert window.grid.maximised is None
    assert len(window.grid.visible_panels()) == len(SHOWN) + 1


def test_second_drop_during_a_comparison_shows_only_the_second(qtbot, window: MainWindow, tmp_path: Path) -> None:
    big = image_file(tmp_path, "big.png", photo(8, 1024))
    small_image = photo(9, 80)
    small = image_file(tmp_path, "small.png", small_image)
    seen: list[int] = []
    window.runner.result_ready.connect(lambda payload: payload.measured and seen.append(payload.job_id))
    drop(window, [big])
    qtbot.waitUntil(lambda: window.image_name == str(big), timeout=TIMEOUT_MS)
    finished: list[int] = []
    window.comparison_finished.connect(finished.append)
    drop(window, [small])
    # The big image's comparison may still finish first; wait for the small one's.
    qtbot.waitUntil(lambda: window.image_name == str(small) and window.runner.job_id in finished, timeout=TIMEOUT_MS)
    current = window.runner.job_id
    assert window.image_name == str(small)
    assert np.array_equal(window.grid.panel(REFERENCE_KEY).shown_array, small_image)
    assert all(r.job_id == current for r in window.results.values())
    assert all(r.image.shape[:2] == (80, 80) for r in window.results.values())
    assert seen.count(current) == len(SHOWN)
    assert set(seen) <= {current - 1, current}


def test_line_profile_plots_the_pixels_along_the_line(qtbot, window: MainWindow, tmp_path: Path) -> None:
    image = photo(10, 64)
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "p.png", image)]))
    window.commands.line_tool.setChecked(True)
    panel = window.grid.panel("lanczos4")
    start, end = screen_point(panel, 3.5, 30.5), screen_point(panel, 60.5, 30.5)
    qtbot.mousePress(panel.view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 11):
        qtbot.mouseMove(panel.view.viewport(), start + (end - start) * (step / 10))
    qtbot.mouseRelease(panel.view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=end)
    assert window.grid.line is not None
    (x0, y0), (x1, y1) = window.grid.line
    assert (x0, y0, x1, y1) == pytest.approx((3.5, 30.5, 60.5, 30.5), abs=0.6)
    window.grid.set_line((3.5, 30.5), (60.5, 30.5))
    columns = slice(3, 61)
    for key, result in window.results.items():
        distance, values = window.profile.data[key]
        assert np.allclose(values, result.image[30, columns].astype(np.float64).mean(axis=1)), key
        assert np.allclose(distance, np.arange(58))
    assert np.allclose(window.profile.data[REFERENCE_KEY][1], image[30, columns].mean(axis=1))
    assert set(window.profile.curves) == set(window.grid.panels)
    # Moving the line updates the plot.
    window.grid.set_line((10.5, 5.5), (10.5, 50.5))
    assert np.allclose(window.profile.data["bilinear"][1], window.results["bilinear"].image[5:51, 10].mean(axis=1))


def test_method_that_cannot_take_the_scale_says_why(qtbot, window: MainWindow, tmp_path: Path) -> None:
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "p.png", photo(11, 100))]))
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        window.settings_panel.scale.setValue(2.5)
    for key in ("transposed-conv", "max-unpool", "avg-unpool"):
        status = window.grid.panel(key).status_text()
        assert status is not None and "2.5" in status and "whole" in status, status
    assert window.grid.panel("bicubic").status_text() is None
    assert window.results["bicubic"].image.shape[:2] == (100, 100)


def test_settings_and_recent_files_persist(qtbot, tmp_path: Path) -> None:
    store_path = str(tmp_path / "persist.ini")
    first = MainWindow(QtCore.QSettings(store_path, QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    panel = first.settings_panel
    panel.mode.setCurrentIndex(panel.mode.findData("upscale"))
    panel.scale.setValue(3.0)
    panel.separate_xy.setChecked(True)
    panel.scale_x.setValue(2.0)
    panel.set_param("bicubic", "a", -0.5)
    panel.convention.setCurrentIndex(panel.convention.findData("paper"))
    first.sources.remember(["/somewhere/a.png"])
    first.close()
    second = MainWindow(QtCore.QSettings(store_path, QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    settings = second.settings_panel.comparison_settings()
    assert (settings.mode, settings.scale, settings.convention) == ("upscale", (3.0, 2.0), "paper")
    assert dict(next(m for m in settings.methods if m.id == "bicubic").params) == {"a": -0.5}
    assert second.recent_files() == ["/somewhere/a.png"]
    assert [a.text() for a in second.commands.recent_menu.actions()] == ["/somewhere/a.png"]
    second.close()


def test_upscale_mode_shows_the_original_on_the_output_grid(qtbot, window: MainWindow, tmp_path: Path) -> None:
    image = photo(12, 40)
    panel = window.settings_panel
    panel.mode.setCurrentIndex(panel.mode.findData("upscale"))
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "p.png", image)]))
    reference = window.grid.panel(REFERENCE_KEY)
    assert reference.shown_array is not None and reference.image_item.boundingRect().width() == 160
    assert window.results["bilinear"].image.shape[:2] == (160, 160)
    assert window.results["bilinear"].metrics is None
    assert window.grid.panel("bilinear").title_text().endswith("ms")


def test_paste_an_image_from_the_clipboard(qtbot, window: MainWindow) -> None:
    image = photo(13, 48)
    qimage = QtGui.QImage(image.data, 48, 48, 48 * 3, QtGui.QImage.Format.Format_RGB888).copy()
    QtWidgets.QApplication.clipboard().setImage(qimage)
    finish(qtbot, window, window.paste)
    assert window.image_name == "Pasted image 1"
    assert np.array_equal(window.image, image)
    # The pasted image is listed and highlighted like any file.
    assert window.image_list.labels() == ["Pasted image 1"]
    assert window.image_list.current_key() == "pasted:1"


def test_choose_columns_fills_the_area() -> None:
    assert choose_columns(10, 1600, 900, 1.0) == 5  # 5 x 2 panels of 320 px (4 x 3 gives 300)
    assert choose_columns(10, 900, 1600, 1.0) == 2  # 2 x 5 panels of 320 px (3 x 4 gives 300)
    assert choose_columns(2, 1000, 300, 1.0) == 2
    assert choose_columns(0, 100, 100, 1.0) == 1


def test_inspector_rows_describe_the_hovered_pixel_while_results_arrive(qtbot, window: MainWindow, tmp_path: Path) -> None:
    image = photo(14, 1024)
    path = image_file(tmp_path, "big.png", image)
    drop(window, [path])
    qtbot.waitUntil(lambda: window.job is not None and window.image_name == str(path), timeout=TIMEOUT_MS)
    window.grid.look_at(200, 200, 2.0)
    panel = window.grid.panel(REFERENCE_KEY)
    positions = [(160 + 7 * i, 230 - 5 * i) for i in range(12)]
    checked = []

    def check_rows() -> None:
        text = window.inspector.position_label.text()
        if not text.startswith("Pixel x="):
            return
        column, row = (int(part.split("=")[1]) for part in text.removeprefix("Pixel ").split(", "))
        shown = window.shown_images()
        assert window.inspector.table.rowCount() == len(shown)
        for index, (key, result) in enumerate(shown.items()):
            assert window.inspector.table.item(index, 0).data(QtCore.Qt.ItemDataRole.UserRole) == key
            expected = ", ".join(str(int(v)) for v in result[row, column])
            assert window.inspector.cell(index, 1) == expected, (key, row, column)
        checked.append((row, column, len(shown)))

    window.runner.result_ready.connect(lambda _payload: QtCore.QTimer.singleShot(0, check_rows))
    for step in range(80):
        column, row = positions[step % len(positions)]

        def hovering(column: int = column, row: int = row) -> bool:
            # Move again each time: a panel laid out anew (a title line settling as
            # results arrive) moves the image under a resting cursor.
            qtbot.mouseMove(panel.view.viewport(), screen_point(panel, column + 0.5, row + 0.5))
            return window.inspector.position_label.text() == f"Pixel x={column}, y={row}"

        qtbot.waitUntil(hovering, timeout=5000)
        check_rows()
        if window.comparison_complete:
            break
        qtbot.wait(20)
    qtbot.waitUntil(lambda: window.comparison_complete, timeout=TIMEOUT_MS)
    check_rows()
    assert len({count for _, _, count in checked}) > 1  # rows were checked while results arrived


def test_changing_only_the_reference_measures_again_without_recomputing(qtbot, window: MainWindow, tmp_path: Path) -> None:
    image = photo(15, 96)
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "p.png", image)]))
    before = {key: result.image for key, result in window.results.items()}
    ran: list[str] = []
    original_run = core.Comparison.run

    def counting_run(self, choice, *, measure=True):
        ran.append(getattr(choice, "id", choice))
        return original_run(self, choice, measure=measure)

    core.Comparison.run = counting_run
    try:
        panel = window.settings_panel
        with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
            panel.reference.setCurrentIndex(panel.reference.findData("bicubic"))
    finally:
        core.Comparison.run = original_run
    assert ran == []  # no method ran again
    reference = before["bicubic"]
    for key, result in window.results.items():
        assert result.image is before[key], key  # the same arrays, measured anew
        assert result.metrics.psnr == pytest.approx(core.psnr(reference, result.image)), key
    assert window.job.comparison.settings.reference == "bicubic"
    assert window.results["bicubic"].metrics.psnr == float("inf")


def test_only_unreadable_images_fall_back_to_the_chart(qtbot, window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    finish(qtbot, window, lambda: window.open_paths([bad]))
    assert window.job.image_name == "Test chart"
    assert str(bad) in window.message_bar.text() and "test chart" in window.message_bar.text()
    assert window.image_list.current_key() == "chart:test-chart"


def test_images_list_follows_what_is_shown_and_entries_can_be_removed(qtbot, window: MainWindow, tmp_path: Path) -> None:
    first = image_file(tmp_path, "a.png", photo(16))
    finish(qtbot, window, lambda: drop(window, [first]))
    finish(qtbot, window, lambda: window.open_chart("zone-plate"))
    assert window.image_list.labels() == ["a.png", "Zone plate"]
    assert window.image_list.current_key() == "chart:zone-plate"
    # A failed open leaves the highlight on the image shown.
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    with qtbot.waitSignal(window.runner.load_checked, timeout=TIMEOUT_MS):
        drop(window, [bad])
    assert window.image_list.current_key() == "chart:zone-plate"
    assert window.image_list.labels() == ["a.png", "Zone plate"]
    # Picking the file again compares it and highlights it.
    finish(qtbot, window, lambda: window.image_list.setCurrentRow(0))
    assert window.job.image_name == str(first)
    # Delete removes the highlighted entry.
    window.image_list.setFocus()
    window.image_list.select(str(first))
    qtbot.keyClick(window.image_list, QtCore.Qt.Key.Key_Delete)
    assert window.image_list.labels() == ["Zone plate"]


def test_rapid_drops_list_every_file(qtbot, window: MainWindow, tmp_path: Path) -> None:
    paths = [image_file(tmp_path, f"p{i}.png", photo(20 + i, 32)) for i in range(6)]
    for path in paths:
        drop(window, [path])
    qtbot.waitUntil(lambda: len(window.image_list.labels()) == len(paths), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.job is not None and window.job.image_name == str(paths[-1]), timeout=TIMEOUT_MS)
    assert sorted(window.image_list.labels()) == sorted(p.name for p in paths)


def test_a_setting_changed_while_a_file_loads_does_not_lose_the_file(qtbot, window: MainWindow, tmp_path: Path) -> None:
    finish(qtbot, window, lambda: window.open_chart("test-chart"))
    path = image_file(tmp_path, "late.png", photo(30, 200))
    drop(window, [path])
    window.settings_panel.scale.setValue(2.0)
    window.recompute()  # cancels comparison work, never the queued load
    qtbot.waitUntil(lambda: window.job is not None and window.job.image_name == str(path), timeout=TIMEOUT_MS)
    assert str(path) in window.image_list.keys()


def test_errors_go_away_after_a_later_success(qtbot, window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    bad = tmp_path / "bad.png"
    bad.write_text("no")
    good = image_file(tmp_path, "good.png", photo(31))
    finish(qtbot, window, lambda: drop(window, [good]))
    with qtbot.waitSignal(window.runner.load_checked, timeout=TIMEOUT_MS):
        drop(window, [bad])
    assert str(bad) in window.message_bar.text()
    finish(qtbot, window, lambda: window.open_chart("siemens-star"))
    assert window.message_bar.text() == ""
    # A mixed drop keeps the error about its bad file while its good one is compared.
    with qtbot.waitSignal(window.runner.load_checked, timeout=TIMEOUT_MS):
        finish(qtbot, window, lambda: drop(window, [bad, good]))
    qtbot.wait(50)
    assert str(bad) in window.message_bar.text()
    # And any message goes by itself after a while.
    monkeypatch.setattr(type(window.message_bar), "ERROR_MS", 50)
    window.message_bar.show_message("transient")
    qtbot.waitUntil(lambda: window.message_bar.text() == "", timeout=2000)


def expected_map(result: np.ndarray, truth: np.ndarray, kind: str, gain: int) -> tuple[np.ndarray, np.ndarray]:
    """A grey result's difference map (values) and its colours, from the definitions:
    signed ``result - truth`` with zero at the diverging map's middle entry and
    +-255/gain at its ends; abs ``|result - truth|`` over magma from 0 to 255/gain."""
    signed = result.astype(np.int32) - truth.astype(np.int32)
    if kind == "signed":
        index = np.clip(np.rint(signed * gain / 2 + 128), 0, 255).astype(int)
        return signed.astype(np.float32), core.colormap_lut("diverging")[index]
    index = np.clip(np.floor(np.abs(signed) * gain + 0.5), 0, 255).astype(int)
    return np.abs(signed).astype(np.float32), core.colormap_lut("magma")[index]


def set_maps(win: MainWindow, kind: str, gain: int, shown: bool = True) -> None:
    panel = win.settings_panel
    panel.diff_kind.setCurrentIndex(panel.diff_kind.findData(kind))
    panel.gain.setCurrentIndex(panel.gain.findData(gain))
    panel.show_diff.setChecked(shown)


def assert_every_panel_shows(win: MainWindow, truth: np.ndarray, kind: str, gain: int) -> None:
    for key in SHOWN:
        panel = win.grid.panel(key)
        values, colours = expected_map(win.results[key].image, truth, kind, gain)
        assert np.array_equal(panel.overlay_item._values, values), key
        assert np.array_equal(panel.shown_array, colours), key
        assert panel.status_text() is None, (key, panel.status_text())


def test_map_kind_and_gain_changed_while_a_result_is_measured_apply_to_every_panel(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    import gui._runner as runner_module

    image = photo(40, 64, channels=None)
    set_maps(window, "abs", 1)
    # The first map is made with abs x1; the settings change before it is delivered.
    made, go = threading.Event(), threading.Event()
    original = runner_module.make_difference

    def held(comparison, result, options):
        payload = original(comparison, result, options)
        if not made.is_set():
            made.set()
            go.wait(20)
        return payload

    monkeypatch.setattr(runner_module, "make_difference", held)
    drop(window, [image_file(tmp_path, "grey.png", image)])
    qtbot.waitUntil(made.is_set, timeout=TIMEOUT_MS)
    set_maps(window, "signed", 8)
    go.set()
    qtbot.waitUntil(lambda: window.comparison_complete and len(window.diffs) == len(SHOWN), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    assert_every_panel_shows(window, image, "signed", 8)
    assert window.colour_bar.levels() == pytest.approx((-255 / 8, 255 / 8))


def test_maps_turned_on_while_a_comparison_runs_fill_every_panel(qtbot, window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    image = photo(41, 64, channels=None)
    set_maps(window, "abs", 2, shown=False)
    measuring, go = threading.Event(), threading.Event()
    original = core.Comparison.measure

    def held(self, result, *args, **kwargs):
        if not measuring.is_set():
            measuring.set()
            go.wait(20)
        return original(self, result, *args, **kwargs)

    monkeypatch.setattr(core.Comparison, "measure", held)
    drop(window, [image_file(tmp_path, "grey.png", image)])
    qtbot.waitUntil(measuring.is_set, timeout=TIMEOUT_MS)
    window.settings_panel.show_diff.setChecked(True)
    go.set()
    qtbot.waitUntil(lambda: window.comparison_complete and len(window.diffs) == len(SHOWN), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    assert_every_panel_shows(window, image, "abs", 2)
    # And off again mid-comparison: the results themselves, no map, nothing pending.
    window.settings_panel.show_diff.setChecked(False)
    for key in SHOWN:
        assert np.array_equal(window.grid.panel(key).shown_array, window.results[key].image), key
        assert window.grid.panel(key).status_text() is None


def test_a_gain_change_recolours_the_maps_held_without_computing_any_difference(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    import core.comparison.comparison as comparison_module

    image = photo(45, 64, channels=None)
    set_maps(window, "signed", 1)
    drop(window, [image_file(tmp_path, "grey.png", image)])
    qtbot.waitUntil(lambda: window.comparison_complete and len(window.diffs) == len(SHOWN), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    assert_every_panel_shows(window, image, "signed", 1)
    held = {key: window.diffs[key].values for key in SHOWN}
    calls: list[str] = []
    cpu_difference, comparison_difference = comparison_module.difference, core.Comparison.difference

    def counting_cpu(*args, **kwargs):
        calls.append("core difference")
        return cpu_difference(*args, **kwargs)

    def counting_comparison(self, *args, **kwargs):
        calls.append("Comparison.difference")
        return comparison_difference(self, *args, **kwargs)

    monkeypatch.setattr(comparison_module, "difference", counting_cpu)
    monkeypatch.setattr(core.Comparison, "difference", counting_comparison)

    # Another gain: the values held are coloured again, and no difference is computed.
    window.settings_panel.gain.setCurrentIndex(window.settings_panel.gain.findData(16))
    wanted = {key: core.colorize_difference(held[key], "signed", image.dtype, gain=16).rgb for key in SHOWN}
    qtbot.waitUntil(lambda: all(np.array_equal(window.grid.panel(k).shown_array, wanted[k]) for k in SHOWN),
                    timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    assert calls == []
    assert_every_panel_shows(window, image, "signed", 16)
    assert window.colour_bar.levels() == pytest.approx((-255 / 16, 255 / 16))

    # Another kind is another map: computed, once per method.
    set_maps(window, "abs", 16)
    qtbot.waitUntil(lambda: len(window.diffs) == len(SHOWN), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    assert sorted(set(calls)) == ["Comparison.difference", "core difference"]
    assert calls.count("Comparison.difference") >= len(SHOWN)
    assert_every_panel_shows(window, image, "abs", 16)


def test_a_failure_while_comparing_names_the_image_it_was_about(qtbot, window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    first = image_file(tmp_path, "a.png", photo(42))
    finish(qtbot, window, lambda: drop(window, [first]))
    second = image_file(tmp_path, "b.png", photo(43))

    def broken(self, result, *args, **kwargs):
        raise RuntimeError("measuring broke")

    monkeypatch.setattr(core.Comparison, "measure", broken)
    with qtbot.waitSignal(window.runner.failed, timeout=TIMEOUT_MS):
        drop(window, [second])
    message = window.message_bar.text()
    assert message.startswith(f"{second}: ") and "measuring broke" in message, message
    assert str(first) not in message


def test_changing_one_methods_parameter_runs_only_that_method(qtbot, window: MainWindow, tmp_path: Path) -> None:
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "p.png", photo(17, 96))]))
    before = {key: result.image for key, result in window.results.items()}
    ran: list[str] = []
    original_run = core.Comparison.run

    def counting_run(self, choice, *, measure=True):
        ran.append(getattr(choice, "id", choice))
        return original_run(self, choice, measure=measure)

    core.Comparison.run = counting_run
    try:
        with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
            window.settings_panel.set_param("bicubic", "a", -0.5)
            window.recompute()
    finally:
        core.Comparison.run = original_run
    assert ran == ["bicubic"]
    expected = core.upsample(window.job.comparison.input, "bicubic", scale=4, a=-0.5)
    # Panels, results and rows go by each run's key: the method with its changed parameters.
    assert np.array_equal(window.results["bicubic[a=-0.5]"].image, expected)
    for key, result in window.results.items():
        if key != "bicubic[a=-0.5]":
            assert result.image is before[key], key
            assert result.metrics is not None
    assert "a=-0.5" in window.grid.panel("bicubic[a=-0.5]").title_text()
    assert window.metrics_table.method_order() == [c.key for c in window.job.comparison.choices]


def test_the_reference_method_is_marked_and_never_best(qtbot, window: MainWindow, tmp_path: Path) -> None:
    panel = window.settings_panel
    panel.mode.setCurrentIndex(panel.mode.findData("upscale"))
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "p.png", photo(18, 40))]))
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        panel.reference.setCurrentIndex(panel.reference.findData("lanczos4"))
    table = window.metrics_table
    row = table.method_order().index("lanczos4")
    assert table.item(row, 0).text().endswith("(reference)")
    for column in range(2, 6):
        assert "lanczos4" not in table.best_methods(column), column
    assert table.method_order() == [c.id for c in window.job.comparison.choices]


def test_command_line_settings_apply_to_the_window(qtbot, window: MainWindow, tmp_path: Path) -> None:
    path = image_file(tmp_path, "p.png", photo(19, 60))
    settings = core.ComparisonSettings(scale=3, methods=("nearest", "bicubic"), mode="degrade")
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        window.open_at_start([str(path)], None, settings)
    assert window.job.comparison.scale == (3.0, 3.0)
    assert [c.id for c in window.job.comparison.choices] == ["nearest", "bicubic"]
    assert window.settings_panel.checked_methods() == ["nearest", "bicubic"]
