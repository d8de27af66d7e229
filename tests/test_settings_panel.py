"""The settings dock as a user meets it (pytest-qt, offscreen): a reference per mode, scale
fields that say when a number is out of range, changed parameters shown and reset, "auto"
typed into a parameter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

import core
from gui import MainWindow
from gui.docks import SettingsPanel

changed_params_text = core.changed_params_text

TIMEOUT_MS = 30_000


@pytest.fixture
def panel(qtbot):
    widget = SettingsPanel()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def choose(combo: QtWidgets.QComboBox, data: object) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def type_into(qtbot, box: QtWidgets.QAbstractSpinBox, text: str) -> None:
    """Select what the field holds, type ``text`` and press Enter, as a user does."""
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Return)


# Reference, per mode ---------------------------------------------------------------------


def test_the_reference_list_says_what_no_method_means_in_each_mode(panel: SettingsPanel) -> None:
    assert panel.reference.currentText() == "Ground truth (the original)"
    assert panel.downsampler.isEnabled()
    assert panel.reference_hint.isHidden()
    choose(panel.mode, "upscale")
    assert panel.reference.currentText() == "None (no metrics)"
    assert panel.reference.currentData() is None
    assert not panel.reference_hint.isHidden()
    assert "no ground truth" in panel.reference_hint.text()
    assert "Pick a method" in panel.reference_hint.text()
    assert "no ground truth" in panel.reference.toolTip()
    # The downsampler has no effect in upscale mode: greyed, and its tooltip says why.
    assert not panel.downsampler.isEnabled()
    assert "Upscale mode" in panel.downsampler.toolTip() and "not used" in panel.downsampler.toolTip()


def test_a_method_reference_picked_in_upscale_mode_stays_there(panel: SettingsPanel) -> None:
    choose(panel.mode, "upscale")
    choose(panel.reference, "bicubic")
    assert panel.comparison_settings().reference == "bicubic"
    assert "Bicubic" in panel.reference_hint.text()
    choose(panel.mode, "degrade")
    assert panel.comparison_settings().reference is None
    assert panel.reference.currentText() == "Ground truth (the original)"
    assert panel.downsampler.isEnabled()
    # A method reference in degrade mode is possible, and said out loud.
    choose(panel.reference, "bilinear")
    assert panel.comparison_settings().reference == "bilinear"
    assert not panel.reference_hint.isHidden()
    assert panel.reference_hint.text() == "Metrics and difference maps measure against Bilinear, not the ground truth."
    choose(panel.mode, "upscale")
    assert panel.comparison_settings().reference == "bicubic"


def test_each_modes_reference_is_kept_between_runs(qtbot, panel: SettingsPanel) -> None:
    choose(panel.mode, "upscale")
    choose(panel.reference, "lanczos4")
    saved = panel.to_dict()
    other = SettingsPanel()
    qtbot.addWidget(other)
    other.from_dict(saved)
    assert (other.comparison_settings().mode, other.comparison_settings().reference) == ("upscale", "lanczos4")
    choose(other.mode, "degrade")
    assert other.comparison_settings().reference is None
    # Settings saved before references were kept per mode: the reference is the saved mode's.
    old = SettingsPanel()
    qtbot.addWidget(old)
    old.from_dict({"mode": "upscale", "reference": "bicubic"})
    assert old.comparison_settings().reference == "bicubic"
    choose(old.mode, "degrade")
    assert old.comparison_settings().reference is None


def test_degrade_mode_measures_against_the_ground_truth_after_an_upscale_reference(qtbot, tmp_path: Path) -> None:
    window = MainWindow(QtCore.QSettings(str(tmp_path / "u.ini"), QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    panel = window.settings_panel
    choose(panel.mode, "upscale")
    choose(panel.reference, "bicubic")
    choose(panel.mode, "degrade")
    rng = np.random.default_rng(5)
    image = np.kron(rng.integers(0, 256, (8, 8, 3)), np.ones((8, 8, 1))).astype(np.uint8)
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        window.set_image(image, "blocks")
    truth = image.astype(np.float64)  # 64x64 is a multiple of x4: nothing is cropped
    for key, result in window.results.items():
        mse = np.mean((result.image.astype(np.float64) - truth) ** 2)
        expected = np.inf if mse == 0 else 10 * np.log10(255.0**2 / mse)
        assert result.metrics.psnr == pytest.approx(expected, rel=1e-9), key
    window.close()


# Scale fields ----------------------------------------------------------------------------


def test_a_scale_out_of_range_is_named_not_cut_to_fit(qtbot, panel: SettingsPanel) -> None:
    assert panel.scale.value() == 4.0
    type_into(qtbot, panel.scale, "20")
    assert panel.scale.value() == 4.0  # not x2: the "0" is not dropped
    assert not panel.scale_error.isHidden()
    message = panel.scale_error.text()
    assert "20" in message and "from 1 to 16" in message and "x4" in message
    type_into(qtbot, panel.scale, "2.5")
    assert panel.scale.value() == 2.5
    assert panel.scale_error.isHidden()
    type_into(qtbot, panel.scale, "0.5")
    assert panel.scale.value() == 2.5
    assert "0.5 is out of range" in panel.scale_error.text()


def test_scale_labels_follow_the_separate_checkbox(panel: SettingsPanel) -> None:
    assert panel.scale_label.text() == "Scale"
    assert not panel.scale_x.isEnabled()
    panel.scale.setValue(3.0)
    assert panel.scale_x.value() == 3.0  # the greyed x field shows the scale in use
    panel.separate_xy.setChecked(True)
    assert panel.scale_label.text() == "Scale y"
    assert panel.scale_x_label.text() == "Scale x"
    assert panel.scale_x.isEnabled()
    panel.scale_x.setValue(2.0)
    assert panel.comparison_settings().scale == (3.0, 2.0)
    panel.separate_xy.setChecked(False)
    assert panel.scale_label.text() == "Scale"
    assert panel.scale_x.value() == 3.0
    assert panel.comparison_settings().scale == 3.0


# Parameters ------------------------------------------------------------------------------


def test_changed_params_text_lists_only_what_differs_from_the_defaults() -> None:
    assert changed_params_text("bicubic", {"a": -0.5}) == "a=-0.5"
    assert changed_params_text("bicubic", {"a": -0.75}) == ""
    assert changed_params_text("bicubic", {}) == ""
    assert changed_params_text("transposed-conv", {"kernel_size": 5, "kernel": "box"}) == "kernel=box, kernel_size=5"
    assert changed_params_text("transposed-conv", {"kernel_size": None, "kernel": "bilinear"}) == ""
    assert changed_params_text("max-unpool", {"indices": np.zeros((2, 2), np.int64)}) == ""


def test_changed_parameters_show_in_the_method_list_and_reset(qtbot, panel: SettingsPanel) -> None:
    item = panel.method_item("bicubic")
    panel.methods.setCurrentItem(item)
    editor, reset = panel.param_editors["a"], panel.param_resets["a"]
    assert not reset.isEnabled()
    with qtbot.waitSignal(panel.settings_changed):
        editor.setValue(-0.5)
    assert item.text() == "Bicubic (a=-0.5)"
    assert panel.params_of("bicubic") == {"a": -0.5}
    assert reset.isEnabled() and "-0.75" in reset.toolTip()
    with qtbot.waitSignal(panel.settings_changed):
        qtbot.mouseClick(reset, QtCore.Qt.MouseButton.LeftButton)
    assert item.text() == "Bicubic"
    assert panel.params_of("bicubic") == {}
    assert editor.value() == -0.75
    assert not reset.isEnabled()


def test_reset_all_puts_every_parameter_back(qtbot, panel: SettingsPanel) -> None:
    panel.set_param("transposed-conv", "kernel", "box")
    panel.set_param("transposed-conv", "kernel_size", 6)
    item = panel.method_item("transposed-conv")
    assert item.text() == "Transposed convolution (kernel=box, kernel_size=6)"
    panel.methods.setCurrentItem(item)
    assert panel.param_editors["kernel"].currentText() == "box"
    assert panel.reset_all_button.isEnabled()
    qtbot.mouseClick(panel.reset_all_button, QtCore.Qt.MouseButton.LeftButton)
    assert panel.params_of("transposed-conv") == {}
    assert item.text() == "Transposed convolution"
    assert panel.param_editors["kernel"].currentText() == "bilinear"
    assert panel.param_editors["kernel_size"].text() == "auto"


def test_auto_can_be_typed_into_a_parameter(qtbot, panel: SettingsPanel) -> None:
    panel.set_param("transposed-conv", "kernel_size", 6)
    panel.methods.setCurrentItem(panel.method_item("transposed-conv"))
    editor = panel.param_editors["kernel_size"]
    assert editor.value() == 6
    type_into(qtbot, editor, "auto")
    assert editor.text() == "auto"
    assert "kernel_size" not in panel.params_of("transposed-conv")
    type_into(qtbot, editor, "8")
    assert panel.params_of("transposed-conv") == {"kernel_size": 8}


# Tooltips ---------------------------------------------------------------------------------


def test_method_descriptions_are_rich_text_tooltips(panel: SettingsPanel) -> None:
    for spec in core.list_methods():
        tip = panel.method_item(spec.id).toolTip()
        assert QtGui.Qt.mightBeRichText(tip), spec.id  # Qt wraps rich text; plain text is one line
        assert spec.label in tip
        reference_tip = panel.reference.itemData(panel.reference.findData(spec.id), QtCore.Qt.ItemDataRole.ToolTipRole)
        assert QtGui.Qt.mightBeRichText(reference_tip)
    for index in range(panel.downsampler.count()):
        assert QtGui.Qt.mightBeRichText(panel.downsampler.itemData(index, QtCore.Qt.ItemDataRole.ToolTipRole))
    panel.methods.setCurrentItem(panel.method_item("bicubic"))
    assert QtGui.Qt.mightBeRichText(panel.param_editors["a"].toolTip())


def wheel(widget: QtWidgets.QWidget, notches: int) -> None:
    position = QtCore.QPointF(widget.rect().center())
    event = QtGui.QWheelEvent(
        position, QtCore.QPointF(widget.mapToGlobal(position.toPoint())), QtCore.QPoint(0, 0),
        QtCore.QPoint(0, -120 * notches), QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
        QtCore.Qt.ScrollPhase.NoScrollPhase, False,
    )
    QtWidgets.QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_panel_and_never_changes_a_setting_by_accident(qtbot) -> None:
    panel = SettingsPanel()
    area = QtWidgets.QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.resize(320, 220)  # short: the panel scrolls
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    bar = area.verticalScrollBar()
    assert bar.maximum() > 0
    before = (panel.downsampler.currentData(), panel.mode.currentData(), panel.diff_kind.currentData(),
              panel.gain.currentData(), panel.scale.value())
    for widget in (panel.downsampler, panel.mode, panel.diff_kind, panel.gain, panel.scale):
        wheel(widget, 2)
    after = (panel.downsampler.currentData(), panel.mode.currentData(), panel.diff_kind.currentData(),
             panel.gain.currentData(), panel.scale.value())
    assert after == before
    assert bar.value() > 0  # the wheel scrolled the panel instead
    # A field the user clicked (focused) takes the wheel as usual.
    panel.downsampler.setFocus()
    qtbot.waitUntil(panel.downsampler.hasFocus, timeout=2000)
    wheel(panel.downsampler, 1)
    assert panel.downsampler.currentData() != before[0]
