"""Exports from the window that fail, and exports after an image that could not be
compared (pytest-qt, offscreen): each failure names the file written and why, the status
bar never stays at "Exporting...", and what is exported is what is on screen."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from test_export_gui import opened, wait_for_message
from test_viewer import SHOWN, TIMEOUT_MS, drop, finish, image_file, photo

import core
from gui import MainWindow
from gui._exporter import ComparisonExportChoice

#: A file name longer than any file system takes (255 bytes), for root as for anyone.
TOO_LONG = "x" * 300


def assert_comparison_untouched(win: MainWindow) -> None:
    """The comparison on screen is as it was: every panel filled, no status line."""
    for key in SHOWN:
        assert win.grid.panel(key).shown_array is not None, key
        assert win.grid.panel(key).status_text() is None, (key, win.grid.panel(key).status_text())
    assert "Internal error" not in win.message_bar.text()


def test_a_comparison_png_with_a_name_too_long_says_which_file_and_why(qtbot, window: MainWindow, tmp_path: Path) -> None:
    opened(qtbot, window, tmp_path)
    out = tmp_path / f"{TOO_LONG}.png"
    message = wait_for_message(qtbot, window, lambda: window.exporter.export_comparison(out, ComparisonExportChoice()))
    assert message.startswith(f"Export failed: {out}")
    assert "too long" in message.lower()
    assert window.message_bar.text() == message
    assert window.statusBar().currentMessage() == ""
    assert_comparison_untouched(window)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "upscope.ini"]  # nothing left behind


def test_results_into_a_folder_with_a_name_too_long_say_which_folder(qtbot, window: MainWindow, tmp_path: Path) -> None:
    opened(qtbot, window, tmp_path)
    folder = tmp_path / TOO_LONG / "results"
    message = wait_for_message(qtbot, window, lambda: window.exporter.export_results(folder))
    assert message.startswith("Export failed: ") and str(tmp_path / TOO_LONG) in message, message
    assert window.statusBar().currentMessage() == ""
    assert_comparison_untouched(window)


def test_an_unexpected_error_while_exporting_still_ends_the_export(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    opened(qtbot, window, tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("the figure could not be drawn")

    monkeypatch.setattr(core, "comparison_figure", broken)
    out = tmp_path / "grid.png"
    message = wait_for_message(qtbot, window, lambda: window.exporter.export_comparison(out, ComparisonExportChoice()))
    assert message == f"Export failed: {out}: RuntimeError: the figure could not be drawn"
    assert window.statusBar().currentMessage() == ""
    assert_comparison_untouched(window)
    assert not out.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="folder permissions do not bind root")
def test_a_read_only_folder_is_named(qtbot, window: MainWindow, tmp_path: Path) -> None:
    opened(qtbot, window, tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        out = locked / "grid.png"
        message = wait_for_message(qtbot, window, lambda: window.exporter.export_comparison(out, ComparisonExportChoice()))
    finally:
        locked.chmod(0o700)
    assert message.startswith("Export failed: ") and str(locked) in message, message
    assert window.statusBar().currentMessage() == ""
    assert list(locked.iterdir()) == []
    assert_comparison_untouched(window)


def test_after_an_image_that_cannot_be_compared_exports_and_sessions_name_the_one_shown(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    first, image = opened(qtbot, window, tmp_path)
    tiny = image_file(tmp_path, "tiny.png", photo(22, 3))  # 3x3 cannot be shrunk x4
    with qtbot.waitSignal(window.runner.failed, timeout=TIMEOUT_MS):
        drop(window, [tiny])
    assert str(tiny) in window.message_bar.text() and str(first) not in window.message_bar.text()
    assert window.image_name == str(first) and window.job.image_name == str(first)
    assert np.array_equal(window.grid.panel("reference").shown_array, image)
    # The comparison PNG is the one of the image on screen, titled with its name.
    out = tmp_path / "grid.png"
    message = wait_for_message(qtbot, window, lambda: window.exporter.export_comparison(out, ComparisonExportChoice()))
    assert message.startswith(f"Exported {out}")
    results = [window.results[c.id] for c in window.job.comparison.choices]
    titled = {name: core.comparison_figure(window.job.comparison, results, core.GridOptions(), title=name)
              for name in ("photo.png", "tiny.png")}
    written = core.load_image(out)
    assert np.array_equal(written, titled["photo.png"])
    assert not np.array_equal(written, titled["tiny.png"])
    # A saved session reopens that image, not the one that failed.
    assert window.exporter.save_session(tmp_path / "s.json")
    assert core.load_session(tmp_path / "s.json").image == str(first.resolve())
    # And a comparison started afterwards (a setting changed) is still of that image.
    finish(qtbot, window, lambda: window.settings_panel.scale.setValue(2.0))
    assert window.job.image_name == str(first)
    assert window.job.comparison.original is not None and window.job.comparison.original.shape[:2] == (64, 64)
