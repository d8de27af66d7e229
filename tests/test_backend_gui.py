"""The Compute menu and status bar (pytest-qt, offscreen): the device in use is shown,
a backend chosen from the menu computes the next comparison, and a backend that fails is
reported once and switched off while the results still come (from the CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_viewer import TIMEOUT_MS, drop, finish, image_file, photo

import core
from core.backends.base import BackendError
from core.backends.choice import get_backend, reset_backends
from gui import MainWindow


@pytest.fixture(autouse=True)
def fresh_backends():
    reset_backends()
    yield
    reset_backends()


def choose(qtbot, win: MainWindow, name: str) -> None:
    with qtbot.waitSignal(win.compute.changed, timeout=TIMEOUT_MS):
        win.compute.actions[name].trigger()


def test_status_bar_names_the_device_and_the_menu_lists_backends(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.compute.state is not None, timeout=TIMEOUT_MS)
    state = window.compute.state
    # Once the status bar has laid the label out, the whole line shows.
    qtbot.waitUntil(lambda: window.compute.label.text() == f"Compute: {state.current.device_text()}", timeout=5000)
    assert state.current.summary() in window.compute.label.toolTip()
    assert window.compute.actions["cpu"].isEnabled()
    for name, reason in state.unavailable.items():  # what cannot run says why
        assert not window.compute.actions[name].isEnabled()
        assert window.compute.actions[name].toolTip() == f"Cannot run here: {reason}"
    assert window.compute.menu.toolTipsVisible()  # the reasons show on hover
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert "Compute" in titles


@pytest.mark.parametrize("name", ["opencl", "torch"])
def test_a_chosen_backend_computes_the_comparison(qtbot, window: MainWindow, tmp_path: Path, name: str) -> None:
    try:
        get_backend(name)
    except BackendError as exc:
        pytest.skip(f"{name} unavailable: {exc}")
    choose(qtbot, window, name)
    assert window.compute.label.text().startswith(f"Compute: {get_backend(name).label}:")
    image = photo(4, 64)
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "photo.png", image)]))
    assert window.job.comparison.backend.name == name
    label = get_backend(name).label
    assert f"on {label}" in window.grid.panel("bilinear").title_text()
    assert "on CPU" in window.grid.panel("lanczos4").title_text()  # no such kernel: visibly on the CPU
    expected = core.upsample(core.downsample(image, 4, "bicubic-aa")[0], "bilinear", scale=4, backend="cpu")
    assert np.abs(window.results["bilinear"].image.astype(int) - expected).max() <= 1
    assert window.store.value("backend") == name


def test_a_failing_backend_is_reported_once_and_switched_off(qtbot, window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    try:
        backend = get_backend("torch")
    except BackendError as exc:
        pytest.skip(f"torch unavailable: {exc}")
    choose(qtbot, window, "torch")

    def lost(*args, **kwargs):
        raise RuntimeError("CUDA error: device lost")

    monkeypatch.setattr(backend, "resample", lost)
    image = photo(5, 64)
    finish(qtbot, window, lambda: drop(window, [image_file(tmp_path, "photo.png", image)]))
    assert "device lost" in window.message_bar.text() and "off for the rest of this session" in window.message_bar.text()
    assert all(r.backend == "cpu" for r in window.results.values())
    assert sum(1 for r in window.results.values() if r.backend_notice) == 1
    qtbot.waitUntil(lambda: window.compute.label.text().startswith("Compute: CPU"), timeout=TIMEOUT_MS)
    assert not window.compute.actions["torch"].isEnabled()
