"""Shared fixtures. Qt runs offscreen; PyTorch, when installed, is the reference."""

from __future__ import annotations

import gc
import os


def _offscreen_platform() -> str:
    """Qt's offscreen platform with one 1920x1200 screen (its default is 800x800, smaller
    than the windows the tests open, and a window now keeps inside its screen)."""
    import json
    import tempfile

    screens = {"screens": [{"name": "test-screen", "x": 0, "y": 0, "width": 1920, "height": 1200,
                            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}
    path = os.path.join(tempfile.gettempdir(), f"upscope-offscreen-screen-{os.getuid()}.json")
    with open(path, "w", encoding="utf-8") as config:
        json.dump(screens, config)
    return f"offscreen:configfile={path}"


if "QT_QPA_PLATFORM" not in os.environ:
    os.environ["QT_QPA_PLATFORM"] = _offscreen_platform()
# OpenCV uses an OpenCL CPU device (POCL in CI) only when asked; the OpenCL backend's
# tests need it. The automatic choice still never picks a CPU device.
os.environ.setdefault("OPENCV_OPENCL_DEVICE", ":CPU:")
os.environ.pop("UPSCOPE_BACKEND", None)

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    """pyqtgraph drops mouse moves that come sooner than 10 ms after the last one (a
    person's hand is slower); simulated drags come faster, so every move must count."""
    del config
    try:
        import pyqtgraph
    except ImportError:
        return
    pyqtgraph.setConfigOption("mouseRateLimit", -1)


@pytest.fixture(autouse=True)
def collect_garbage_on_the_main_thread():
    """Collect the last test's Qt wrappers here, on the main thread. Left to chance,
    a collection may run in a worker thread (PyTorch's import allocates a lot there) and
    destroy Qt objects off the GUI thread, which deadlocks PySide6."""
    gc.collect()
    yield


@pytest.fixture
def window(qtbot, tmp_path):
    """Upscope's window at 1400x900, shown, with its settings in a fresh file; no worker
    may outlive it."""
    from PySide6 import QtCore

    from gui import MainWindow

    store = QtCore.QSettings(str(tmp_path / "upscope.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    # No task may outlive the window (it would touch deleted objects).
    assert win.runner.pool.activeThreadCount() == 0


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


def random_image(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Uniform noise over the dtype's range (floats over [-0.25, 1.25]: nothing is clipped)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "u":
        return rng.integers(0, np.iinfo(dtype).max + 1, size=shape, dtype=dtype)
    return (rng.random(shape) * 1.5 - 0.25).astype(dtype)


def seeded_image(seed: int, shape: tuple[int, int, int | None], dtype) -> np.ndarray:
    """`random_image` from a seed and an ``(h, w, channels or None)`` triple (None: 2-D)."""
    h, w, c = shape
    return random_image(np.random.default_rng(seed), (h, w) if c is None else (h, w, c), dtype)


def tolerance(dtype) -> float:
    """docs/METHODS.md#tolerances: 1 LSB for integers, 1e-4 of the data range for float32 (range 1.5 here)."""
    return 1.0 if np.dtype(dtype).kind == "u" else 1.5e-4


def round_like(reference: np.ndarray, dtype) -> np.ndarray:
    """A float64 reference rounded and clipped the way docs/METHODS.md rounds integer results."""
    dtype = np.dtype(dtype)
    if dtype.kind == "u":
        return np.clip(np.rint(reference), 0, np.iinfo(dtype).max)
    return reference


def max_error(ours: np.ndarray, reference: np.ndarray) -> float:
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    return float(np.max(np.abs(ours.astype(np.float64) - reference))) if ours.size else 0.0


def drop_files(win, paths, modifiers=None) -> None:
    """A real drop of file URLs onto the window ``win``, with ``modifiers`` held (none by
    default): a drag-enter event, which must be accepted, then the drop."""
    from PySide6 import QtCore, QtGui, QtWidgets

    held = modifiers if modifiers is not None else QtCore.Qt.KeyboardModifier.NoModifier
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(p)) for p in paths])
    copy, left = QtCore.Qt.DropAction.CopyAction, QtCore.Qt.MouseButton.LeftButton
    for point in (QtCore.QPointF(50, 50), QtCore.QPoint(50, 50)):  # 6.12 takes QPointF, 6.11 QPoint
        try:
            at = point.toPoint() if isinstance(point, QtCore.QPointF) else point
            enter = QtGui.QDragEnterEvent(at, copy, mime, left, held)
            event = QtGui.QDropEvent(point, copy, mime, left, held)
            break
        except TypeError:
            continue
    QtWidgets.QApplication.sendEvent(win, enter)
    assert enter.isAccepted()
    QtWidgets.QApplication.sendEvent(win, event)
