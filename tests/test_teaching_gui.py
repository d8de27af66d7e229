"""The teaching views in the window (pytest-qt, offscreen): the Conventions lab shows two
methods and where they differ, the sampling grid draws where a method samples, the matrix
view's C^T x is the transposed convolution, and each lesson opens what its page names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_analysis_gui import TIMEOUT_MS, open_compared, photo_file

import core
from gui import MainWindow
from gui.canvas import REFERENCE_KEY
from gui.teaching import LESSONS


def test_the_teach_menu_opens_each_view(window: MainWindow) -> None:
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Teach" in titles
    menu = window.teaching.menu
    texts = [a.text() for a in menu.actions()]
    assert "Conventions lab: two methods side by side" in texts and "Transposed convolution as a matrix" in texts
    lessons = next(a.menu() for a in menu.actions() if a.text() == "Lessons")
    assert [a.text() for a in lessons.actions()] == [lesson.title for lesson in LESSONS]


def test_the_conventions_lab_shows_both_methods_and_where_they_differ(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_compared(qtbot, window, photo_file(tmp_path, 40), ("bilinear",), scale=2)
    lab = window.teaching.conventions
    window.teaching.show("conventions")
    lab.choose("opencv:nearest", "opencv:nearest-exact")
    window.settings_panel.scale.setValue(3.5)
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        window.recompute()
    qtbot.waitUntil(lambda: lab.shown is not None and lab.shown.pair.first.shape[0] == window.job.comparison.output_size[0],
                    timeout=TIMEOUT_MS)
    pair = lab.shown.pair
    low = window.job.comparison.input
    size = window.job.comparison.output_size
    first = core.upsample(low, "opencv:nearest", size=size)
    second = core.upsample(low, "opencv:nearest-exact", size=size)
    assert np.array_equal(pair.first, first) and np.array_equal(pair.second, second)
    differs = int(np.any(first != second, axis=2).sum())
    assert pair.differing == differs > 0
    assert lab.grid.panel("lab-first").shown_array is lab.shown.first
    assert "top-left corner" in lab.why.text() and f"differ on {differs} of" in lab.why.text()


def test_the_sampling_grid_draws_where_each_rule_samples(qtbot, window: MainWindow) -> None:
    view = window.teaching.sampling
    window.teaching.show_example(1)  # 2x2 at x2, corners aligned
    qtbot.waitUntil(lambda: view.shown is not None and view.shown.method == "bilinear-aligned", timeout=TIMEOUT_MS)
    np.testing.assert_allclose(view.shown.columns, [0, 1 / 3, 2 / 3, 1])
    window.teaching.show_example(0)
    qtbot.waitUntil(lambda: view.shown.method == "bilinear", timeout=TIMEOUT_MS)
    np.testing.assert_allclose(view.shown.columns, [-0.25, 0.25, 0.75, 1.25])
    window.teaching.show_example(2)
    qtbot.waitUntil(lambda: view.shown.method == "nearest", timeout=TIMEOUT_MS)
    np.testing.assert_allclose(view.shown.columns, np.arange(4) * 0.75 - 0.5)
    assert "output columns sample input x" in view.caption.text()


def test_the_matrix_view_multiplies_out_the_transposed_convolution(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_compared(qtbot, window, photo_file(tmp_path, 32), ("transposed-conv",))
    view = window.teaching.matrix
    window.teaching.show("matrix")
    view.kernel.setCurrentIndex(view.kernel.findData("box"))
    view.spins["kernel_size"].setValue(3)
    qtbot.waitUntil(lambda: view.shown is not None and view.shown.plan.kernel.shape == (3, 3), timeout=TIMEOUT_MS)
    lesson = view.shown
    x = window.job.comparison.input[:3, :3, 0].astype(np.float64)
    np.testing.assert_array_equal(lesson.x, x)
    expected = core.upsample(x.astype(np.float32), "transposed-conv", scale=2, kernel="box", kernel_size=3)
    np.testing.assert_allclose(lesson.product, expected, atol=1e-4)
    assert lesson.matrix.shape == (9, 36) and lesson.largest_gap < 1e-4
    # Rows of C^T alternate between 4, 2 and 1 non-zero taps: the uneven overlap.
    assert sorted(set(np.count_nonzero(lesson.matrix.T, axis=1).tolist())) == [1, 2, 4]
    view.show_output_pixel(1, 2)
    assert view._row.isVisible() and view._row.rect().top() == 1 * 6 + 2
    assert "to within" in view.caption.text()


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_each_lesson_opens_what_its_page_names(qtbot, window: MainWindow, lesson) -> None:
    with qtbot.waitSignal(window.comparison_finished, timeout=60_000):
        window.teaching.open_lesson(lesson)
    keys = [c.key for c in lesson.settings.method_choices()]
    assert set(window.grid.panels) == {REFERENCE_KEY, *keys}  # in the method list's order
    page = window.teaching.lesson_text.toPlainText()
    for choice in lesson.settings.method_choices():
        label = core.get_method(choice.id).label.split(" (")[0]
        assert label in page, (lesson.id, label)
    assert window.docks["lesson"].isVisible()
    assert window.job.comparison.scale == (lesson.settings.scale, lesson.settings.scale)
    assert window.settings_panel.show_diff.isChecked() == lesson.difference_maps
    assert window.spectrum_view.shown == lesson.spectrum
    assert window.image_name == next(c.label for c in core.list_charts() if c.id == lesson.chart)


def test_a_large_sampling_grid_draws_in_a_moment(qtbot, window: MainWindow) -> None:
    import time

    view = window.teaching.sampling
    window.teaching.show_example(2)
    qtbot.waitUntil(lambda: view.shown is not None, timeout=TIMEOUT_MS)
    view.sizes["in_h"].setValue(16)
    view.sizes["in_w"].setValue(16)
    view.sizes["out_h"].setValue(128)
    start = time.perf_counter()
    view.sizes["out_w"].setValue(128)
    qtbot.waitUntil(lambda: view.shown.out_size == (128, 128), timeout=TIMEOUT_MS)
    assert time.perf_counter() - start < 3.0
    assert len(view._items) < 20  # lines drawn in a few items, not one per sample


def test_a_failed_pair_clears_the_lab_and_lessons_open_without_a_false_banner(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    with qtbot.waitSignal(window.comparison_finished, timeout=60_000):
        window.teaching.open_lesson(LESSONS[0])  # difference maps on, from a fresh window
    assert "need a reference" not in window.message_bar.text()
    lab = window.teaching.conventions
    window.teaching.show("conventions")
    qtbot.waitUntil(lambda: lab.shown is not None, timeout=TIMEOUT_MS)

    def fails(*_args, **_kwargs):
        raise core.ParameterError("this convention needs PyTorch, which is not installed")

    monkeypatch.setattr(core, "compare_pair", fails)
    lab.choose("torch:bicubic", "opencv:cubic")
    qtbot.waitUntil(lambda: "Cannot compare these two here" in lab.why.text(), timeout=TIMEOUT_MS)
    assert lab.shown is None and list(lab.grid.panels) == []


def test_the_sampling_grid_follows_the_selected_method_and_scale(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_compared(qtbot, window, photo_file(tmp_path, 48), ("bilinear", "bicubic"), scale=3)
    panel = window.settings_panel
    panel.methods.setCurrentItem(panel.method_item("bicubic"))
    view = window.teaching.sampling
    window.teaching.show_current_grid()
    qtbot.waitUntil(lambda: view.shown is not None and view.shown.method == "bicubic", timeout=TIMEOUT_MS)
    assert view.shown.in_size == (8, 8) and view.shown.out_size == (24, 24)
    np.testing.assert_allclose(view.shown.columns, (np.arange(24) + 0.5) / 3 - 0.5)
