"""The window as a process: it starts on bad saved settings and bad sessions (each named
once, the window still opens), it does not import PyTorch to fill its Compute menu, and
closing it during a long step ends the process at once (offscreen, in child processes
where the process itself is what is measured)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore
from test_viewer import finish, image_file, photo

import core
from gui import MainWindow

ROOT = Path(__file__).resolve().parents[1]

#: A child process that runs the viewer as `app.py` does (`gui.run_viewer`) and closes
#: its window when told: on the first result, or once the comparison has finished. It
#: prints one REPORT line (what the window showed, how long `close()` took) and EXIT.
VIEWER_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
from PySide6 import QtCore, QtWidgets
import core, gui

args = json.loads(sys.argv[1])
app = QtWidgets.QApplication(sys.argv[:1])
if args.get("settings"):
    QtCore.QSettings("Upscope", "Upscope").setValue("settings", json.dumps(args["settings"]))
if args.get("stuck"):
    # A step that no cancellation reaches (one long library call, a blocked read).
    run = core.Comparison.run
    def stuck(self, choice, **kwargs):
        if getattr(choice, "id", choice) == args["stuck"]:
            time.sleep(120)
        return run(self, choice, **kwargs)
    core.Comparison.run = stuck

def hook():
    window = next(w for w in app.topLevelWidgets() if isinstance(w, gui.MainWindow))
    def close(*_):
        if getattr(close, "done", False):
            return
        close.done = True
        report = {"message": window.message_bar.text(), "image": window.image_name,
                  "compute": window.compute.state is not None}
        start = time.monotonic()
        window.close()
        report["close_seconds"] = time.monotonic() - start
        report["closed_at"] = time.time()
        print("REPORT " + json.dumps(report), flush=True)
    if args.get("close_on") == "result":
        window.runner.result_ready.connect(close)
    else:
        window.comparison_finished.connect(close)

QtCore.QTimer.singleShot(0, hook)
status = gui.run_viewer(args.get("images", []), session=args.get("session"))
print("EXIT", status, flush=True)
"""


def run_viewer_child(tmp_path: Path, timeout: float = 120, **args) -> tuple[dict, float, str]:
    """Run `VIEWER_CHILD` with ``args``; returns its report, the seconds from the end of
    the window's ``close()`` to the end of the process, and its output."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("UPSCOPE_BACKEND", None)
    with subprocess.Popen(
        [sys.executable, "-c", VIEWER_CHILD, json.dumps(args), str(ROOT)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path,
    ) as child:
        try:
            output, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            output, _ = child.communicate()
            pytest.fail(f"the viewer process did not end within {timeout} s:\n{output}")
    ended = time.time()
    line = next((x for x in output.splitlines() if x.startswith("REPORT ")), None)
    assert line is not None, output
    report = json.loads(line.removeprefix("REPORT "))
    return report, ended - report["closed_at"], output


# -- closing ------------------------------------------------------------------------------

def test_closing_during_a_step_that_never_ends_ends_the_process_at_once(tmp_path: Path) -> None:
    image = image_file(tmp_path, "photo.png", photo(50, 256))
    settings = {"methods": ["nearest", "bilinear"], "mode": "upscale"}
    report, exit_seconds, output = run_viewer_child(
        tmp_path, images=[str(image)], settings=settings, stuck="bilinear", close_on="result"
    )
    assert report["close_seconds"] < 2, output
    assert exit_seconds < 2, output
    assert "Traceback" not in output, output


def test_closing_during_a_long_comparison_of_a_big_image_is_quick(tmp_path: Path) -> None:
    image = image_file(tmp_path, "big.png", photo(51, 2048))
    # bilinear-numpy takes seconds on a 4096x4096 output: closing comes in the middle of it.
    settings = {"methods": ["nearest", "bilinear-numpy", "lanczos4"], "mode": "upscale", "scale": 2.0}
    report, exit_seconds, output = run_viewer_child(tmp_path, images=[str(image)], settings=settings, close_on="result")
    assert report["image"] == str(image)
    assert report["close_seconds"] < 2, output
    assert exit_seconds < 2, output
    assert "Traceback" not in output and "RuntimeError" not in output, output


# -- PyTorch only when chosen -------------------------------------------------------------

TORCH_CHILD = r"""
import importlib.util, json, sys, time
sys.path.insert(0, sys.argv[1])
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication(sys.argv[:1])
from gui import MainWindow
window = MainWindow(QtCore.QSettings(sys.argv[2], QtCore.QSettings.Format.IniFormat))
window.show()
deadline = time.monotonic() + 60
while window.compute.state is None and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
report = {"probed": window.compute.state is not None, "torch_at_start": "torch" in sys.modules,
          "torch_enabled": window.compute.actions["torch"].isEnabled(),
          "installed": importlib.util.find_spec("torch") is not None}
if report["installed"]:
    window.compute.actions["torch"].trigger()
    deadline = time.monotonic() + 120
    while not window.compute.label.text().startswith("Compute: PyTorch") and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    report["label_after_choice"] = window.compute.label.text()
    report["torch_after_choice"] = "torch" in sys.modules
window.close()
print("REPORT " + json.dumps(report), flush=True)
"""


def test_the_compute_menu_does_not_import_pytorch_until_it_is_chosen(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "UPSCOPE_BACKEND": "cpu"}
    run = subprocess.run(
        [sys.executable, "-c", TORCH_CHILD, str(ROOT), str(tmp_path / "s.ini")],
        capture_output=True, text=True, env=env, timeout=240,
    )
    line = next((x for x in run.stdout.splitlines() if x.startswith("REPORT ")), None)
    assert line is not None, run.stdout + run.stderr
    report = json.loads(line.removeprefix("REPORT "))
    assert report["probed"]
    assert not report["torch_at_start"]
    # The menu still says whether PyTorch can run: its package being there is enough.
    assert report["torch_enabled"] == report["installed"]
    if report["installed"]:  # choosing it imports it, off the GUI thread, and uses it
        assert report["torch_after_choice"]
        assert report["label_after_choice"].startswith("Compute: PyTorch"), report
    assert "can't register atexit" not in run.stderr


# -- bad saved settings -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("saved", "named"),
    [
        ("[]", "a list instead of an object"),
        ("42", "a number instead of an object"),
        ("null", "null instead of an object"),
        ("{not json", "not valid JSON"),
        ('{"scale": 1000}', "scale 1000 cannot be used"),
        ('{"scale": NaN, "mode": "sideways"}', "mode 'sideways', scale nan cannot be used"),
        ('{"references": {"degrade": []}, "gain": [1]}', "wrong kind"),
    ],
)
def test_bad_saved_settings_are_named_once_and_replaced_by_the_defaults(qtbot, tmp_path: Path, saved: str, named: str) -> None:
    path = str(tmp_path / "upscope.ini")
    fresh = MainWindow(QtCore.QSettings(str(tmp_path / "fresh.ini"), QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(fresh)
    defaults = fresh.settings_panel.to_dict()
    store = QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat)
    store.setValue("settings", saved)
    store.sync()
    first = MainWindow(QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    message = first.message_bar.text()
    assert message.startswith(f"Saved settings ({path}): ") and named in message, message
    assert first.settings_panel.to_dict() == defaults
    # The window works: it compares the chart, and the message stays until read.
    finish(qtbot, first, lambda: first.open_chart("test-chart"))
    assert first.message_bar.text() == message
    first.close()
    # Told once: the next launch starts clean.
    second = MainWindow(QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.message_bar.text() == ""
    assert second.settings_panel.to_dict() == defaults
    second.close()
    fresh.close()


def test_saved_values_out_of_range_keep_the_rest_of_the_settings(qtbot, tmp_path: Path) -> None:
    path = str(tmp_path / "upscope.ini")
    store = QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat)
    store.setValue("settings", json.dumps({"mode": "upscale", "scale": 1000, "convention": "paper"}))
    store.setValue("recent", "42")
    store.sync()
    win = MainWindow(QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    settings = win.settings_panel.comparison_settings()
    assert (settings.mode, settings.scale, settings.convention) == ("upscale", 4.0, "paper")
    assert "scale 1000" in win.message_bar.text()
    assert win.recent_files() == []
    win.close()


# -- bad sessions -------------------------------------------------------------------------

BASE = {"format": "upscope-session", "version": 1}
BAD_SESSIONS = {
    "view-1e308": (json.dumps({**BASE, "view": {"cx": 1e308, "cy": 10, "zoom": 2}}), "view.cx"),
    "zoom-1e308": (json.dumps({**BASE, "view": {"cx": 10, "cy": 10, "zoom": 1e308}}), "view.zoom"),
    "deep": ('{"format": "upscope-session", "version": 1, "settings": ' + "[" * 100_000 + "]" * 100_000 + "}",
             "nested too deeply"),
    "digits": ('{"format": "upscope-session", "version": 1, "regions": [[' + "7" * 5000 + ", 1, 1, 1]]}", "number too long"),
    "ragged": (json.dumps({**BASE, "settings": {"methods": [{"id": "transposed-conv", "params": {"kernel": [[1, 2], [3]]}}]}}),
               "settings.methods[0]: transposed-conv: parameter 'kernel' has rows of different lengths"),
    "scale": (json.dumps({**BASE, "settings": {"scale": 1000}}), "settings.scale must be a number from 1 to 16"),
    "nan": ('{"format": "upscope-session", "version": 1, "settings": {"scale": [2, NaN]}}', "settings.scale"),
    "method": (json.dumps({**BASE, "settings": {"methods": ["bicubic", "magic"]}}),
               "settings.methods[1]: unknown method 'magic'"),
}


@pytest.mark.parametrize("case", sorted(BAD_SESSIONS))
def test_a_bad_session_is_refused_with_its_file_and_key(tmp_path: Path, case: str) -> None:
    text, named = BAD_SESSIONS[case]
    path = tmp_path / f"{case}.json"
    path.write_text(text)
    with pytest.raises(core.UpscopeError) as refused:
        core.load_session(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and named in message, message
    assert len(message) < 400 and "\n" not in message


@pytest.mark.parametrize("case", ["view-1e308", "deep", "digits", "ragged"])
def test_the_window_opens_on_a_bad_session_and_says_why(qtbot, tmp_path: Path, case: str) -> None:
    text, named = BAD_SESSIONS[case]
    path = tmp_path / f"{case}.json"
    path.write_text(text)
    win = MainWindow(QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    finish(qtbot, win, lambda: win.open_at_start([], str(path)))
    message = win.message_bar.text()
    assert str(path) in message and named in message and "test chart" in message, message
    assert win.job.image_name == "Test chart"
    win.close()


def test_the_app_starts_on_a_bad_session(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(BAD_SESSIONS["view-1e308"][0])
    report, exit_seconds, output = run_viewer_child(tmp_path, session=str(path))
    assert str(path) in report["message"] and "view.cx" in report["message"], output
    assert report["image"] == "Test chart"
    assert "Traceback" not in output, output


def test_a_session_view_off_its_image_is_kept_on_it(qtbot, tmp_path: Path) -> None:
    image = photo(52, 64)
    picture = image_file(tmp_path, "p.png", image)
    session = core.Session(image=str(picture), view=core.View(5000.0, 3.0, 4.0))
    core.save_session(tmp_path / "s.json", session)
    win = MainWindow(QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    finish(qtbot, win, lambda: win.exporter.open_session(tmp_path / "s.json"))
    state = win.grid.state
    assert (state.cx, state.cy, state.zoom) == (64.0, 3.0, 4.0)
    assert np.isfinite(win.grid.panel("reference").view_range()).all()
    win.close()


def test_no_tab_bar_of_the_docks_lies_over_the_grid(qtbot, window) -> None:
    """Every dock tab group is formed in one pass before the window is shown: a group
    formed earlier leaves its old tab bar drawn over the grid."""
    from PySide6 import QtWidgets

    window.resize(1300, 700)
    window.show()
    qtbot.wait(100)
    central = window.centralWidget().geometry()
    stray = [[bar.tabText(i) for i in range(bar.count())] for bar in window.findChildren(QtWidgets.QTabBar)
             if bar.isVisible() and bar.geometry().intersects(central)]
    assert stray == []
