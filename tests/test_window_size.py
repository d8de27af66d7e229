"""The window follows the user's size, never the other way round: panels shrink with it,
it can be made small at any time, and a saved size never exceeds the screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

import core
from gui import MainWindow

TIMEOUT_MS = 30_000
USER_SIZE = (1180, 760)
#: The issue's bound: everything must still be reachable at about this size.
SMALL = (1000, 640)


@pytest.fixture
def window(qtbot, tmp_path: Path):
    store = QtCore.QSettings(str(tmp_path / "upscope.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.resize(*USER_SIZE)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def compare(qtbot, win: MainWindow, image: np.ndarray, name: str) -> None:
    with qtbot.waitSignal(win.comparison_finished, timeout=TIMEOUT_MS):
        win.set_image(image, name)


def settle(qtbot) -> None:
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
        qtbot.wait(10)


def assert_size_kept(qtbot, win: MainWindow, what: str) -> None:
    settle(qtbot)
    assert (win.width(), win.height()) == USER_SIZE, what
    hint = win.minimumSizeHint()
    assert hint.width() <= SMALL[0] and hint.height() <= SMALL[1], f"{what}: minimum {hint.width()}x{hint.height()}"


def tick(win: MainWindow, methods: list[str]) -> None:
    panel = win.settings_panel
    data = panel.to_dict()
    data["methods"] = methods
    panel.from_dict(data)
    win.recompute()


def noise(seed: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_layout_changes_never_resize_the_window(qtbot, window: MainWindow) -> None:
    all_ids = [spec.id for spec in core.list_methods() if spec.family != "learned"] + ["espcn", "fsrcnn"]
    for shape in ((96, 480), (480, 96), (200, 200), (64, 1200)):
        compare(qtbot, window, noise(sum(shape), *shape), f"{shape[1]}x{shape[0]}")
        assert_size_kept(qtbot, window, f"image {shape}")
        key = window.job.comparison.choices[0].id
        window.grid.toggle_maximise(key)
        assert_size_kept(qtbot, window, "one panel alone")
        window.grid.toggle_maximise(key)
        assert_size_kept(qtbot, window, "grid restored")
    window.settings_panel.show_diff.setChecked(True)
    qtbot.waitUntil(lambda: len(window.diffs) == len(window.results), timeout=TIMEOUT_MS)
    assert_size_kept(qtbot, window, "difference maps and colour bar")
    for count in (1, 2, 5, 9, 14):
        with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
            tick(window, all_ids[:count])
        assert len(window.grid.panels) == count + 1
        assert_size_kept(qtbot, window, f"{count} methods")
    window.message_bar.show_message("A long message. " * 200)
    assert_size_kept(qtbot, window, "a long message")
    dock = window.docks["inspector"]
    dock.setFloating(True)
    dock.setFloating(False)
    assert_size_kept(qtbot, window, "a dock re-docked")


def test_the_window_shrinks_to_a_small_screen_with_panels_inside(qtbot, window: MainWindow) -> None:
    compare(qtbot, window, noise(3, 300, 448), "photo")
    window.resize(*SMALL)
    settle(qtbot)
    assert (window.width(), window.height()) == SMALL
    grid = window.grid
    # The docks gave way: the grid keeps a fair share of the window.
    qtbot.waitUntil(lambda: grid.width() >= 0.42 * window.width() and grid.height() >= 0.45 * window.height(), timeout=3000)
    for panel in grid.visible_panels():
        geometry = panel.geometry()
        assert grid.rect().contains(geometry), panel.key
        assert geometry.width() > 40 and geometry.height() > 40
    # The metrics table and status bar stay on screen.
    for widget in (window.metrics_table, window.statusBar()):
        top_left = widget.mapTo(window, QtCore.QPoint(0, 0))
        assert window.rect().contains(QtCore.QRect(top_left, widget.size()).center())
    # Every panel still shows the same range.
    ranges = {tuple(np.round(sum(p.view_range(), ()), 6)) for p in grid.visible_panels()}
    assert len(ranges) == 1


def test_maximise_and_restore_keep_the_user_size(qtbot, window: MainWindow) -> None:
    compare(qtbot, window, noise(4, 120, 160), "photo")
    window.showMaximized()
    settle(qtbot)
    available = window.screen().availableGeometry()
    assert window.frameGeometry().height() <= available.height() + 1
    window.showNormal()
    settle(qtbot)
    window.resize(*USER_SIZE)
    assert_size_kept(qtbot, window, "after maximise and restore")


def test_saved_geometry_is_clamped_to_the_screen(qtbot, tmp_path: Path) -> None:
    path = str(tmp_path / "big.ini")
    first = MainWindow(QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    available = first.screen().availableGeometry()
    first.resize(available.width() + 900, available.height() + 700)
    first.move(available.x() + 3000, available.y() + 2000)
    first.save_state()
    first.close()
    second = MainWindow(QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    settle(qtbot)
    frame = second.frameGeometry()
    assert frame.width() <= available.width() and frame.height() <= available.height()
    assert available.contains(frame.topLeft())
    second.close()


def test_first_run_window_fits_the_screen(qtbot, tmp_path: Path) -> None:
    win = MainWindow(QtCore.QSettings(str(tmp_path / "new.ini"), QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    available = win.screen().availableGeometry()
    assert win.width() <= available.width() and win.height() <= available.height()
    win.close()


def test_panel_titles_keep_the_method_and_psnr_legible(qtbot, window: MainWindow) -> None:
    compare(qtbot, window, noise(5, 300, 448), "photo")
    window.resize(*SMALL)
    settle(qtbot)
    for key in window.grid.panels:
        if key == "reference":
            continue
        panel = window.grid.panel(key)
        shown = panel.shown_title()
        result = window.results[key]
        assert shown.startswith(result.label[:4]), shown
        assert f"PSNR {result.metrics.psnr:.2f} dB" in shown, (shown, panel.width())
        metrics = QtGui.QFontMetrics(panel._title.font())
        for label, details in panel._title.layout_lines():
            assert metrics.horizontalAdvance(label + " " + ", ".join(details)) <= panel.width() * 1.15
