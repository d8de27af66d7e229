"""Exports and sessions from the window (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtWidgets
from test_viewer import TIMEOUT_MS, drop, finish, image_file, photo, screen_point

import core
from gui import MainWindow
from gui._exporter import ComparisonExportChoice, ComparisonExportDialog
from gui.canvas import REFERENCE_KEY


def wait_for_message(qtbot, win: MainWindow, action) -> str:
    """Run ``action`` and return the next sentence the exporter reports."""
    said: list[str] = []
    win.exporter.finished.connect(said.append)
    win.exporter.failed.connect(said.append)
    action()
    qtbot.waitUntil(lambda: bool(said), timeout=TIMEOUT_MS)
    return said[0]


def opened(qtbot, win: MainWindow, tmp_path: Path, size: int = 64) -> tuple[Path, np.ndarray]:
    image = photo(21, size)
    path = image_file(tmp_path, "photo.png", image)
    finish(qtbot, win, lambda: drop(win, [path]))
    return path, image


def drag(qtbot, panel, start: tuple[float, float], end: tuple[float, float]) -> None:
    a, b = screen_point(panel, *start), screen_point(panel, *end)
    viewport = panel.view.viewport()
    qtbot.mousePress(viewport, QtCore.Qt.MouseButton.LeftButton, pos=a)
    for step in range(1, 9):
        qtbot.mouseMove(viewport, a + (b - a) * (step / 8))
    qtbot.mouseRelease(viewport, QtCore.Qt.MouseButton.LeftButton, pos=b)


def test_file_menu_lists_the_exports(window: MainWindow) -> None:
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    for wanted in ("&Export comparison PNG...", "Export &paper figure...", "&Save session...", "Open &session..."):
        assert wanted in texts
    assert window.commands.export_comparison.shortcut().toString() == "Ctrl+E"


def test_export_of_the_current_view_writes_the_magnified_crop(qtbot, window: MainWindow, tmp_path: Path) -> None:
    _, image = opened(qtbot, window, tmp_path)
    window.grid.look_at(20.0, 30.0, 16.0)
    region = window.grid.visible_region()
    assert region.width < 64 and region.height < 64
    out = tmp_path / "view.png"
    choice = ComparisonExportChoice(current_view=True, include_diff=True, include_metrics=True, background="dark")
    message = wait_for_message(qtbot, window, lambda: window.exporter.export_comparison(out, choice))
    assert message.startswith(f"Exported {out}")
    assert window.message_bar.text() == message
    figure = core.load_image(out)
    order = [c.id for c in window.job.comparison.choices]
    options = core.GridOptions(crop=region, include_diff=True, include_metrics=True)
    drawing = core.report.figures.drawing
    table = drawing._metrics_table(window.job.comparison, [window.results[k] for k in order], drawing._font(15))
    layout = core.grid_layout(1 + len(order), (region.height, region.width), options, table.width)
    assert figure.shape == (layout.height, layout.width, 3)
    m = layout.magnification
    for index, key in enumerate([REFERENCE_KEY, *order]):
        pixels = image if key == REFERENCE_KEY else window.results[key].image
        crop = region.take(pixels)
        y, x = layout.tile_origin(index)
        expected = np.repeat(np.repeat(crop, m, axis=0), m, axis=1)
        assert np.array_equal(figure[y:y + crop.shape[0] * m, x:x + crop.shape[1] * m], expected), key


def test_the_dialog_returns_what_was_ticked(qtbot) -> None:
    dialog = ComparisonExportDialog(None, ComparisonExportChoice(include_metrics=True))
    qtbot.addWidget(dialog)
    dialog.view.setChecked(True)
    dialog.diff.setChecked(True)
    dialog.background.setCurrentIndex(dialog.background.findData("dark"))
    assert dialog.choice() == ComparisonExportChoice(True, True, True, "dark")
    dialog.spectrum.setChecked(True)
    assert dialog.choice().include_spectrum


def test_the_spectra_shown_are_offered_and_exported_with_their_scale(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    _, image = opened(qtbot, window, tmp_path)
    offered: list[ComparisonExportChoice] = []

    def exec_(dialog: ComparisonExportDialog) -> int:
        offered.append(dialog.choice())
        return QtWidgets.QDialog.DialogCode.Rejected.value

    monkeypatch.setattr(ComparisonExportDialog, "exec", exec_)
    window.exporter.export_dialog()
    window.commands.spectrum.trigger()
    window.exporter.export_dialog()
    assert [c.include_spectrum for c in offered] == [False, True]
    out = tmp_path / "spectra.png"
    message = wait_for_message(qtbot, window, lambda: window.exporter.export_comparison(out, offered[1]))
    assert message.startswith(f"Exported {out}")
    figure = core.load_image(out)
    order = [c.id for c in window.job.comparison.choices]
    options = core.GridOptions(include_spectrum=True)
    layout = core.grid_layout(1 + len(order), image.shape[:2], options)
    assert figure.shape == (layout.height, layout.width, 3) and layout.sections == 2
    y, x = layout.tile_origin(0, 1)
    expected = core.spectrum(image)
    tile = figure[y:y + image.shape[0] * layout.magnification:layout.magnification,
                  x:x + image.shape[1] * layout.magnification:layout.magnification].astype(np.int64).sum(axis=2)
    # The brightest spectrum pixel of the reference is its zero frequency, at the centre.
    assert np.unravel_index(np.argmax(tile), tile.shape) == np.unravel_index(np.argmax(expected), expected.shape)


def test_regions_are_marked_by_dragging_and_drive_the_paper_figure(qtbot, window: MainWindow, tmp_path: Path) -> None:
    _, image = opened(qtbot, window, tmp_path)
    out = tmp_path / "paper.png"
    assert "Mark one or two regions first" in wait_for_message(qtbot, window, lambda: window.exporter.export_paper(out))
    window.commands.region_tool.setChecked(True)
    assert not window.commands.line_tool.isChecked()
    drag(qtbot, window.grid.panel("bicubic"), (4.5, 6.5), (20.5, 17.5))
    drag(qtbot, window.grid.panel("nearest"), (40.5, 40.5), (55.5, 60.5))
    assert window.grid.regions == [core.Region(4, 6, 17, 12), core.Region(40, 40, 16, 21)]
    for panel in window.grid.panels.values():
        assert [item.isVisible() for item in panel.region_items] == [True, True]
        assert panel.region_items[0].rect() == QtCore.QRectF(4, 6, 17, 12)
    # A third region replaces the first.
    drag(qtbot, window.grid.panel("bilinear"), (20.5, 30.5), (44.5, 50.5))
    assert window.grid.regions == [core.Region(40, 40, 16, 21), core.Region(20, 30, 25, 21)]
    message = wait_for_message(qtbot, window, lambda: window.exporter.export_paper(out))
    assert message.startswith(f"Exported the paper figure to {out}")
    figure = core.load_image(out)
    for colour in core.REGION_COLOURS:
        assert np.all(figure == np.array(colour, np.uint8), axis=-1).sum() > 50
    window.commands.clear_regions.trigger()
    assert window.grid.regions == []


def test_results_folder_and_a_session_reopened_in_a_new_window(qtbot, window: MainWindow, tmp_path: Path) -> None:
    path, _ = opened(qtbot, window, tmp_path)
    folder = tmp_path / "results"
    assert wait_for_message(qtbot, window, lambda: window.exporter.export_results(folder)).startswith("Wrote")
    assert (folder / "bicubic.png").exists() and (folder / "metrics.json").exists()
    window.settings_panel.gain.setCurrentIndex(window.settings_panel.gain.findData(8))
    window.grid.set_regions([core.Region(3, 4, 10, 10)])
    window.grid.look_at(30.0, 20.0, 12.0)
    assert window.exporter.save_session(tmp_path / "s.json")
    before = {k: r.image for k, r in window.results.items()}

    store = QtCore.QSettings(str(tmp_path / "other.ini"), QtCore.QSettings.Format.IniFormat)
    other = MainWindow(store)
    qtbot.addWidget(other)
    other.resize(1400, 900)
    other.show()
    try:
        finish(qtbot, other, lambda: other.exporter.open_session(tmp_path / "s.json"))
        assert other.image_name == str(path)
        assert other.grid.regions == [core.Region(3, 4, 10, 10)]
        assert other.settings_panel.gain.currentData() == 8
        assert other.grid.state.zoom == 12.0 and (other.grid.state.cx, other.grid.state.cy) == (30.0, 20.0)
        assert set(other.results) == set(before)
        for key, image in before.items():
            assert np.array_equal(other.results[key].image, image), key
    finally:
        other.close()
        other.runner.shutdown()


def test_a_broken_session_file_is_reported_and_changes_nothing(qtbot, window: MainWindow, tmp_path: Path) -> None:
    opened(qtbot, window, tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    shown = dict(window.results)
    assert not window.exporter.open_session(bad)
    assert "bad.json: not a session file" in window.message_bar.text()
    assert window.results == shown
