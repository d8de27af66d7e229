"""Speed and memory of the viewer window, against the goals of the viewer issue.

    python3 bench/bench_viewer.py [--out docs/BENCHMARKS.md]

Runs offscreen unless a display is set (under Xvfb it paints through X). Every figure is
measured twice, in fresh processes: as installed, and with PyTorch hidden (an import hook
refuses ``import torch``, as on a machine without it), so what PyTorch's presence costs
the window shows side by side. Measures:

- process start to the first painted window (a fresh child process, cold imports);
- a 1024x1024 image opened at x4 (degrade mode, then upscale mode): time to the first
  panel and to all classic methods, and the longest event-loop stall meanwhile (a 5 ms
  QTimer probe: the largest gap between its ticks);
- the same stall probe while a 2048x2048 image is compared at x4;
- redraw time after a zoom or pan with 9 panels of 4096x4096 output (8 methods and the
  original), at fit, 1:1 and 40x, painting every panel's viewport synchronously;
- peak memory (max RSS) against the bytes of the images shown;
- whether the window's process imported PyTorch.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench._report import cpu_name, write_section

CLASSIC = ("nearest", "bilinear", "bicubic", "lanczos4", "area")
GOALS = {"window": 1.5, "first": 0.3, "all": 2.0, "stall": 0.050, "redraw": 0.016, "memory": 1.5}

#: Code that makes ``import torch`` fail in the process that runs it (``--hide-torch``).
_HIDE_TORCH = """
import importlib.abc, sys
class _HideTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by bench_viewer.py)", name=name)
        return None
sys.meta_path.insert(0, _HideTorch())
"""

_CHILD = """
import os, sys, time
{hide}
sys.path.insert(0, {root!r})
from PySide6 import QtCore, QtWidgets
from gui import MainWindow
app = QtWidgets.QApplication(sys.argv[:1])
store = QtCore.QSettings({ini!r}, QtCore.QSettings.Format.IniFormat)
window = MainWindow(store)
class Probe(QtCore.QObject):
    def eventFilter(self, obj, event):
        if event.type() == QtCore.QEvent.Type.Paint:
            print("painted", time.time(), flush=True)
            os._exit(0)
        return False
probe = Probe()
window.grid.installEventFilter(probe)
window.show()
window.open_chart("test-chart")
app.exec()
"""


def max_rss_bytes() -> int:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss on Linux, it does
    not carry the parent's peak over a fork and exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def resident_bytes() -> int:
    """Resident memory now (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def hide_torch() -> None:
    """Make ``import torch`` fail in this process, as where PyTorch is not installed."""
    exec(_HIDE_TORCH, {"__name__": "hide_torch"})  # the same code the start-up child runs


def startup_seconds(repeats: int, hidden: bool) -> list[float]:
    """Wall time from spawning a Python process to its window's first paint."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        code = _CHILD.format(root=str(ROOT), ini=str(Path(tmp) / "s.ini"), hide=_HIDE_TORCH if hidden else "")
        for _ in range(repeats):
            start = time.time()
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
            painted = [line for line in out.stdout.splitlines() if line.startswith("painted")]
            if not painted:
                raise RuntimeError(f"child did not paint: {out.stderr[-500:]}")
            times.append(float(painted[0].split()[1]) - start)
    return times


class StallProbe:
    """Ticks every 5 ms on the GUI thread; the largest gap between ticks minus 5 ms is
    the longest time the event loop could not run."""

    def __init__(self) -> None:
        from PySide6 import QtCore

        self.timer = QtCore.QTimer()
        self.timer.setInterval(5)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.worst = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            self.worst = max(self.worst, now - self.last - 0.005)
        self.last = now

    def start(self) -> None:
        self.last, self.worst = None, 0.0
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.worst


def run_open(app, window, path: Path, mode: str, scale: float = 4.0) -> dict[str, float]:
    """Open ``path`` in ``mode`` and time the first panel and all classic methods."""
    panel = window.settings_panel
    panel.mode.setCurrentIndex(panel.mode.findData(mode))
    panel.scale.setValue(scale)
    window._recompute_timer.stop()
    arrivals: dict[str, float] = {}
    window.runner.result_ready.connect(lambda payload: arrivals.setdefault(payload.result.method_id, time.perf_counter()))
    done: list[int] = []
    window.comparison_finished.connect(done.append)
    probe = StallProbe()
    probe.start()
    start = time.perf_counter()
    window.open_paths([str(path)])
    while not done and time.perf_counter() - start < 120:
        app.processEvents()
        time.sleep(0.001)
    stall = probe.stop()
    window.runner.result_ready.disconnect()
    window.comparison_finished.disconnect(done.append)
    first = min(arrivals.values()) - start
    classic = max(arrivals[m] for m in CLASSIC if m in arrivals) - start
    every = max(arrivals.values()) - start
    return {"first": first, "classic": classic, "every": every, "stall": stall}


def redraw_times(app, window) -> dict[str, float]:
    """Median time to repaint every visible panel after a zoom or pan, per zoom level."""
    grid = window.grid
    results = {}
    steps = {
        "fit": lambda i: grid.fit(),
        "1:1": lambda i: grid.look_at(2048 + 37 * i, 2048 + 23 * i, 1.0),
        "40x": lambda i: grid.look_at(2048 + 3 * i, 2048 + 2 * i, 40.0),
    }
    for name, step in steps.items():
        samples = []
        for i in range(12):
            step(i)
            app.processEvents()  # reduced copies for the zoom arrive from the pool
            time.sleep(0.05)
            app.processEvents()
            start = time.perf_counter()
            for panel in grid.visible_panels():
                panel.view.viewport().repaint()
            samples.append(time.perf_counter() - start)
        results[name] = statistics.median(samples[2:])
    return results


def open_window(tmp: Path):
    """A QApplication and a shown 1600x1000 window with fresh settings in ``tmp``."""
    from PySide6 import QtCore, QtWidgets

    from gui import MainWindow

    app = QtWidgets.QApplication(sys.argv[:1])
    window = MainWindow(QtCore.QSettings(str(tmp / "s.ini"), QtCore.QSettings.Format.IniFormat))
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    return app, window


def nine_panels(image_path: str) -> dict:
    """In a fresh process: 9 panels of 4096x4096 (the original and eight methods,
    upscale x4 from 1024x1024); redraw times and memory."""
    app, window = open_window(Path(tempfile.mkdtemp()))
    wanted = ["nearest", "bilinear", "bicubic", "lanczos4", "area", "bilinear-aligned", "repeat", "avg-unpool"]
    window.settings_panel.from_dict({"methods": wanted})
    before = max_rss_bytes()
    run_open(app, window, Path(image_path), "upscale")
    assert len(window.results) == len(wanted), window.results.keys()
    redraw = redraw_times(app, window)
    shown = sum(r.image.nbytes for r in window.results.values()) + window.job.reference_values.nbytes
    peak = max_rss_bytes()
    now = resident_bytes()
    window.close()
    return {"redraw": redraw, "peak": peak, "before": before, "shown": shown, "now": now}


def machine() -> str:
    cpu = cpu_name()
    import pyqtgraph
    import PySide6

    platform_name = os.environ.get("QT_QPA_PLATFORM") or "xcb (Xvfb)"
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, PySide6 {PySide6.__version__}, "
        f"pyqtgraph {pyqtgraph.__version__}, Qt platform {platform_name}"
    )


def verdict(value: float, goal: float) -> str:
    return "meets" if value <= goal else "misses"


def measure(startup_repeats: int, hidden: bool) -> dict:
    """Every figure of the report, in this process (and the children it starts)."""
    startup = startup_seconds(startup_repeats, hidden)
    print(f"start to first paint: median {statistics.median(startup):.2f} s over {len(startup)}", file=sys.stderr)

    import core

    tmp = Path(tempfile.mkdtemp())
    app, window = open_window(tmp)
    rng = np.random.default_rng(1)

    def photo(size: int) -> Path:
        small = rng.integers(0, 256, (size // 16, size // 16, 3)).astype(np.float32)
        big = np.kron(small, np.ones((16, 16, 1), np.float32)) + rng.normal(0, 8, (size, size, 3))
        path = tmp / f"photo{size}.png"
        core.save_image(path, np.clip(big, 0, 255).astype(np.uint8))
        return path

    image1k, image2k = photo(1024), photo(2048)
    run_open(app, window, photo(256), "degrade")  # warm-up: first calls into OpenCV and Qt
    opened = {mode: run_open(app, window, image1k, mode) for mode in ("degrade", "upscale")}
    for mode, figures in opened.items():
        print(mode, {k: round(v, 3) for k, v in figures.items()}, file=sys.stderr)
    big = run_open(app, window, image2k, "degrade")
    print("2048 degrade", {k: round(v, 3) for k, v in big.items()}, file=sys.stderr)
    torch_imported = "torch" in sys.modules
    window_peak = max_rss_bytes()

    window.close()
    nine_command = [sys.executable, __file__, "--nine", str(image1k)] + (["--hide-torch"] if hidden else [])
    nine = json.loads(subprocess.run(
        nine_command, capture_output=True, text=True, timeout=300, check=True
    ).stdout.strip().splitlines()[-1])
    print("9 x 4096", nine, file=sys.stderr)
    return {"startup": startup, "opened": opened, "big": big, "nine": nine, "torch": torch_imported,
            "window_peak": window_peak, "machine": machine()}


def measured_in_a_child(startup_repeats: int, hidden: bool) -> dict:
    """`measure` in a fresh process, with PyTorch hidden or as installed."""
    command = [sys.executable, __file__, "--measure", "--startup-repeats", str(startup_repeats)]
    run = subprocess.run(command + (["--hide-torch"] if hidden else []), capture_output=True, text=True, timeout=1800)
    if run.returncode != 0:
        raise RuntimeError(f"measuring failed:\n{run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def report(variants: dict[str, dict]) -> str:
    """The viewer section of docs/BENCHMARKS.md: one figure column per variant."""
    names = list(variants)
    first = variants[names[0]]
    rows: list[tuple[str, list[str], str, list[float] | None, float | None]] = []

    def row(
        measure: str,
        figure: Callable[[dict], str],
        goal: float | None = None,
        unit: str = "ms",
        value: Callable[[dict], float] | None = None,
    ) -> None:
        """``figure(v)`` is the text for variant ``v``; ``value(v)`` the number judged
        against ``goal`` (in ``unit``)."""
        texts = [figure(variants[n]) for n in names]
        values = [value(variants[n]) for n in names] if value is not None else None
        if goal is None:
            goal_text = ""
        else:
            goal_text = f"{goal:g} s" if unit == "s" else f"{goal * 1000:.0f} ms" if unit == "ms" else f"{goal}x"
        rows.append((measure, texts, goal_text, values, goal))

    row(
        "process start to first painted window (cold)",
        lambda v: f"{statistics.median(v['startup']):.2f} s (min {min(v['startup']):.2f})",
        GOALS["window"],
        "s",
        lambda v: statistics.median(v["startup"]),
    )
    for mode in ("degrade", "upscale"):
        what = "outputs 1024x1024" if mode == "degrade" else "outputs 4096x4096"
        row(
            f"1024x1024 at x4, {mode} ({what}): first panel",
            lambda v, m=mode: f"{v['opened'][m]['first'] * 1000:.0f} ms",
            GOALS["first"],
            value=lambda v, m=mode: v["opened"][m]["first"],
        )
        row(
            "same: all classic methods",
            lambda v, m=mode: f"{v['opened'][m]['classic'] * 1000:.0f} ms",
            GOALS["all"],
            value=lambda v, m=mode: v["opened"][m]["classic"],
        )
        row("same: all 9 default methods", lambda v, m=mode: f"{v['opened'][m]['every'] * 1000:.0f} ms")
        row(
            "same: longest event-loop stall",
            lambda v, m=mode: f"{v['opened'][m]['stall'] * 1000:.0f} ms",
            GOALS["stall"],
            value=lambda v, m=mode: v["opened"][m]["stall"],
        )
    row(
        "2048x2048 at x4, degrade: longest event-loop stall",
        lambda v: f"{v['big']['stall'] * 1000:.0f} ms",
        GOALS["stall"],
        value=lambda v: v["big"]["stall"],
    )
    row("2048x2048 at x4, degrade: all 9 default methods", lambda v: f"{v['big']['every'] * 1000:.0f} ms")
    for zoom in first["nine"]["redraw"]:
        row(
            f"redraw of 9 panels of 4096x4096 after zoom/pan, {zoom}",
            lambda v, z=zoom: f"{v['nine']['redraw'][z] * 1000:.1f} ms",
            GOALS["redraw"],
            value=lambda v, z=zoom: v["nine"]["redraw"][z],
        )

    def ratio(v: dict) -> float:
        return v["nine"]["peak"] / v["nine"]["shown"]

    row(
        "9 panels of 4096x4096: peak memory / bytes shown",
        lambda v: f"{ratio(v):.2f}x ({v['nine']['peak'] / 2**20:.0f} MiB for {v['nine']['shown'] / 2**20:.0f} MiB)",
        GOALS["memory"],
        "x",
        ratio,
    )
    row(
        "same, peak above the memory in use before the comparison",
        lambda v: f"{(v['nine']['peak'] - v['nine']['before']) / v['nine']['shown']:.2f}x",
    )
    row(
        "same, resident once all results are shown, above that baseline",
        lambda v: f"{(v['nine']['now'] - v['nine']['before']) / v['nine']['shown']:.2f}x",
    )
    row("peak memory of the window that ran the 1024 and 2048 comparisons", lambda v: f"{v['window_peak'] / 2**20:.0f} MiB")
    row("PyTorch imported by the window", lambda v: "yes" if v["torch"] else "no")

    header = "| measure | " + " | ".join(names) + " | goal | |"
    lines = [
        "## Viewer",
        "",
        f"Machine: {first['machine']}.",
        "`python3 bench/bench_viewer.py`; goals from the viewer issue. Times are single runs",
        "(start-up: the median of several) on a shared 2-core machine. Each column is a fresh",
        "set of processes: PyTorch as installed, and hidden (an import hook refuses it, as on a",
        "machine without it). The verdict is the worst of the columns.",
        "",
        header,
        "|---|" + "---|" * len(names) + "---|---|",
    ]
    for measure, texts, goal_text, values, goal in rows:
        judged = "" if values is None or goal is None else verdict(max(values), goal)
        lines.append(f"| {measure} | " + " | ".join(texts) + f" | {goal_text} | {judged} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--startup-repeats", type=int, default=5)
    parser.add_argument("--hide-torch", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--nine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hide_torch:
        hide_torch()
    if args.nine:
        print(json.dumps(nine_panels(args.nine)))
        return 0
    if args.measure:
        print(json.dumps(measure(args.startup_repeats, args.hide_torch)))
        return 0

    variants = {"PyTorch installed": measured_in_a_child(args.startup_repeats, hidden=False)}
    variants["PyTorch hidden"] = measured_in_a_child(args.startup_repeats, hidden=True)
    if importlib.util.find_spec("torch") is None:  # both columns measured the same thing
        variants = {"without PyTorch": variants["PyTorch hidden"]}
    text = report(variants)
    print(text)
    write_section(args.out, "viewer", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
