"""The user's own methods in the window (pytest-qt, offscreen): a model file and a result
image added through the File menu's code and by dropping files, shown, measured, removed,
saved in a session and reopened. The models are made here with random weights; their
outputs are checked against PyTorch's own forward pass."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import drop_files
from PySide6 import QtCore, QtWidgets
from test_viewer import TIMEOUT_MS, finish, image_file, photo

import core
from gui import MainWindow

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

#: The comparison the tests run: degrade, then restore by 2 (the models are x2).
SCALE = 2.0


@pytest.fixture(autouse=True)
def forget_added_methods():
    """No method a test adds outlives it (the registry is the process's)."""
    yield
    for spec in core.user_methods():
        core.forget_method(spec.id)


def tiny_espcn(seed: int) -> torch.nn.Module:
    """An ESPCN-like x2 network (convolutions, then a pixel shuffle) with random weights."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Tanh(), torch.nn.Conv2d(8, 12, 3, padding=1),
        torch.nn.PixelShuffle(2), torch.nn.Sigmoid(),
    ).eval()


def onnx_file(path: Path, network: torch.nn.Module) -> Path:
    """``network`` exported to ONNX with a free height and width (by the TorchScript
    exporter, which needs no onnxscript; PyTorch warns that it is the older one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            network, torch.zeros(1, 3, 16, 16), str(path), dynamo=False, input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {2: "height", 3: "width"}, "output": {2: "height2", 3: "width2"}},
        )
    return path


def forward_uint8(network: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    """PyTorch's own output for a uint8 ``(H, W, 3)`` image in the 0-1 convention, as uint8."""
    with torch.no_grad():
        x = torch.from_numpy(image.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
        y = network(x)[0].permute(1, 2, 0).numpy()
    return np.clip(np.rint(y * 255.0), 0, 255)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def compared(qtbot, win: MainWindow, tmp_path: Path, size: int = 48) -> tuple[Path, np.ndarray]:
    """A photograph compared in degrade mode at x2 with bicubic and nearest."""
    panel = win.settings_panel
    data = panel.to_dict()
    panel.from_dict({**data, "mode": "degrade", "scale": SCALE, "methods": ["nearest", "bicubic"]})
    image = photo(5, size)
    path = image_file(tmp_path, "photo.png", image)
    finish(qtbot, win, lambda: win.open_paths([path]))
    return path, image


def added(qtbot, win: MainWindow, start) -> list[str]:
    """Run ``start`` (an add) and wait until what it added is compared; its ids."""
    ids: list[str] = []
    win.own_methods.added.connect(ids.extend)
    try:
        with qtbot.waitSignal(win.comparison_finished, timeout=TIMEOUT_MS):
            start()
            qtbot.waitUntil(lambda: bool(ids), timeout=TIMEOUT_MS)
    finally:
        win.own_methods.added.disconnect(ids.extend)
    return ids


def removed(qtbot, win: MainWindow, method_ids: list[str]) -> None:
    """Remove ``method_ids`` as their remove buttons do, and wait for the comparison."""
    with qtbot.waitSignal(win.comparison_finished, timeout=TIMEOUT_MS):
        for method_id in method_ids:
            win.own_methods.remove(method_id)


def table_psnr(win: MainWindow, method_id: str) -> float:
    table = win.metrics_table
    column = next(i for i, text in enumerate(table.header_texts()) if text.startswith("PSNR"))
    row = table.method_order().index(method_id)
    return float(table.column_texts(column)[row])


def test_a_model_file_added_from_the_file_menu_is_compared_and_measured(qtbot, window: MainWindow, tmp_path: Path) -> None:
    _, image = compared(qtbot, window, tmp_path)
    network = tiny_espcn(1)
    model = onnx_file(tmp_path / "tiny_espcn.onnx", network)
    before = {key: result.image.copy() for key, result in window.results.items()}

    ids = added(qtbot, window, lambda: window.own_methods.add_model(model))

    (method_id,) = ids
    panel = window.grid.panel(method_id)
    assert panel is not None and panel.title_text().startswith("tiny_espcn")
    expected = forward_uint8(network, window.job.comparison.input)
    shown = panel.shown_array
    assert shown.shape == expected.shape == image.shape
    assert np.max(np.abs(shown.astype(np.int16) - expected)) <= 1
    assert table_psnr(window, method_id) == pytest.approx(psnr(shown, image), abs=0.01)
    # The methods already on screen are kept as they were.
    for key, result in before.items():
        assert np.array_equal(window.results[key].image, result)
    item = window.settings_panel.method_item(method_id)
    assert item.checkState() == QtCore.Qt.CheckState.Checked and "model file" in item.text()
    assert "tiny_espcn" in window.message_bar.text()
    assert any(a.text() == "Add &model..." for a in window.menuBar().actions()[0].menu().actions())


def test_a_checkpoint_dropped_is_added_and_its_remove_button_takes_it_away(qtbot, window: MainWindow, tmp_path: Path) -> None:
    compact = pytest.importorskip("spandrel.architectures.Compact")
    compared(qtbot, window, tmp_path)
    torch.manual_seed(3)
    network = compact.Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=2).eval()
    checkpoint = tmp_path / "compact.pth"
    torch.save(network.state_dict(), checkpoint)
    shown_image = window.image_name

    (method_id,) = added(qtbot, window, lambda: drop_files(window, [checkpoint], QtCore.Qt.KeyboardModifier.NoModifier))

    assert window.image_name == shown_image  # a model file is never opened as the image
    expected = forward_uint8(network, window.job.comparison.input)
    shown = window.grid.panel(method_id).shown_array
    assert np.max(np.abs(shown.astype(np.int16) - expected)) <= 1

    panel = window.settings_panel
    panel.methods.scrollToItem(panel.method_item(method_id))
    button = panel.remove_button_rect(method_id)
    assert button is not None and panel.remove_button_rect("bicubic") is None
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        qtbot.mouseClick(panel.methods.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=button.center())
    assert window.grid.panel(method_id) is None
    assert window.settings_panel.method_item(method_id) is None
    assert method_id not in {spec.id for spec in core.list_methods()}
    assert window.metrics_table.method_order() == ["nearest", "bicubic"]


def test_ticking_an_added_method_through_its_row_still_works(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """The remove button is drawn in the entry; the tick box beside it must still answer."""
    compared(qtbot, window, tmp_path)
    result = image_file(tmp_path, "other_tool.png", photo(8, 48))
    (method_id,) = added(qtbot, window, lambda: window.own_methods.add_result(result))
    methods = window.settings_panel.methods
    item = window.settings_panel.method_item(method_id)
    methods.scrollToItem(item)
    rect = methods.visualItemRect(item)
    option = QtWidgets.QStyleOptionViewItem()
    option.rect = rect
    option.features |= QtWidgets.QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = methods.style().subElementRect(QtWidgets.QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, methods)
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        qtbot.mouseClick(methods.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=box.center())
    assert item.checkState() == QtCore.Qt.CheckState.Unchecked
    assert window.grid.panel(method_id) is None


def test_result_images_dropped_with_ctrl_the_wrong_size_says_so_in_its_panel(qtbot, window: MainWindow, tmp_path: Path) -> None:
    path, image = compared(qtbot, window, tmp_path)
    other_tool = np.clip(image.astype(np.int16) + 3, 0, 255).astype(np.uint8)
    good = image_file(tmp_path, "photo_x2_othertool.png", other_tool)
    wrong = image_file(tmp_path, "photo_small.png", image[:20, :30])

    ids: list[str] = []
    window.own_methods.added.connect(ids.extend)
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        drop_files(window, [good, wrong], QtCore.Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: len(ids) == 2, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.comparison_complete and set(ids) <= set(window.results), timeout=TIMEOUT_MS)

    assert window.image_name == str(path)  # neither was opened as the image to compare
    good_id = next(i for i in ids if core.get_method(i).label == "photo_x2_othertool")
    wrong_id = next(i for i in ids if core.get_method(i).label == "photo_small")
    assert np.array_equal(window.grid.panel(good_id).shown_array, other_tool)
    assert table_psnr(window, good_id) == pytest.approx(psnr(other_tool, image), abs=0.01)
    status = window.grid.panel(wrong_id).status_text()
    assert status is not None and "30x20" in status and "48x48" in status
    assert window.grid.panel("bicubic").shown_array is not None
    assert window.grid.panel("bicubic").status_text() is None


def test_a_file_that_is_not_a_model_is_named_and_the_comparison_stays(qtbot, window: MainWindow, tmp_path: Path) -> None:
    compared(qtbot, window, tmp_path)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a network")
    shown = {key: result.image for key, result in window.results.items()}
    said: list[str] = []
    window.own_methods.failed.connect(said.append)
    window.own_methods.add_model(broken)
    qtbot.waitUntil(lambda: bool(said), timeout=TIMEOUT_MS)
    assert said[0].startswith("Could not add the model") and "broken.onnx" in said[0]
    assert window.message_bar.text() == said[0]
    assert window.results.keys() == shown.keys()
    assert all(window.results[key].image is image for key, image in shown.items())
    assert [spec.id for spec in core.user_methods()] == []


def test_a_session_brings_the_model_back_and_flags_a_changed_file(qtbot, window: MainWindow, tmp_path: Path) -> None:
    compared(qtbot, window, tmp_path)
    network = tiny_espcn(1)
    model = onnx_file(tmp_path / "tiny_espcn.onnx", network)
    result = image_file(tmp_path, "other_tool.png", photo(8, 48))
    (model_id,) = added(qtbot, window, lambda: window.own_methods.add_model(model, "My net"))
    (result_id,) = added(qtbot, window, lambda: window.own_methods.add_result(result, "Other tool"))
    session = tmp_path / "s.json"
    assert window.exporter.save_session(session)

    # A fresh start: the added methods are gone, then the session brings them back.
    removed(qtbot, window, [model_id, result_id])
    assert core.user_methods() == []
    finish(qtbot, window, lambda: window.exporter.open_session(session))
    labels = {spec.label: spec.id for spec in core.user_methods()}
    assert set(labels) == {"My net", "Other tool"}
    panel = window.grid.panel(labels["My net"])
    assert panel is not None and panel.title_text().startswith("My net")
    expected = forward_uint8(network, window.job.comparison.input)
    assert np.max(np.abs(panel.shown_array.astype(np.int16) - expected)) <= 1
    assert window.grid.panel(labels["Other tool"]) is not None
    assert "changed" not in window.message_bar.text()

    # Opened once more, it adds nothing twice.
    finish(qtbot, window, lambda: window.exporter.open_session(session))
    assert sorted(spec.label for spec in core.user_methods()) == ["My net", "Other tool"]
    entries = [window.settings_panel.methods.item(i).text() for i in range(window.settings_panel.methods.count())]
    assert sum(text.startswith(("My net", "Other tool")) for text in entries) == 2

    # The model file is replaced by another network between saving and reopening.
    removed(qtbot, window, [spec.id for spec in core.user_methods()])
    onnx_file(model, tiny_espcn(2))
    finish(qtbot, window, lambda: window.exporter.open_session(session))
    text = window.message_bar.text()
    assert "My net" in text and "tiny_espcn.onnx has changed since the session was saved" in text
    assert "Other tool" not in text
    panel = window.grid.panel(next(spec.id for spec in core.user_methods() if spec.label == "My net"))
    expected = forward_uint8(tiny_espcn(2), window.job.comparison.input)
    assert np.max(np.abs(panel.shown_array.astype(np.int16) - expected)) <= 1


def test_a_model_in_tiles_says_how_far_it_is(qtbot, window: MainWindow, tmp_path: Path) -> None:
    compared(qtbot, window, tmp_path)
    (method_id,) = added(qtbot, window, lambda: window.own_methods.add_model(onnx_file(tmp_path / "tiles.onnx", tiny_espcn(3))))
    seen: list[tuple[str, int, int]] = []
    window.runner.method_progress.connect(lambda *args: seen.append(args))
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    panel = window.settings_panel
    panel.from_dict({**panel.to_dict(), "params": {method_id: {"tile": 8}}})
    with qtbot.waitSignal(window.comparison_finished, timeout=TIMEOUT_MS):
        panel.settings_changed.emit()
    # the 24x24 input of a 48x48 comparison at x2, in tiles of 8: nine tiles
    assert [s for s in seen if s[0] == method_id] == [(method_id, k, 9) for k in range(1, 10)]
    assert any(message.endswith("tile 9 of 9") for message in messages)
