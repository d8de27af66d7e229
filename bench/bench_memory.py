"""Memory of large comparisons: peak resident memory against the bytes of the results held.

    python3 bench/bench_memory.py [--quick] [--out docs/BENCHMARKS.md]

Each case runs in a fresh process and reports its peak resident memory (``VmHWM`` of
``/proc/self/status``, so Linux only; NumPy's and OpenCV's allocations included) beside the bytes of the results the
comparison keeps (result images and difference maps) and `core.estimate_memory`'s
figure. The photograph is scikit-image's astronaut, resized to 4000x4000 and tiled (no
download). Cases: a 96-megapixel photograph compared at x4 (degrade mode, the nine
default methods), with and without difference maps; the same through the command line
with a cropped figure; and an x16 upscale of a 2000x2000 photograph, which the output
limit refuses before anything is allocated. ``--quick`` uses a 24-megapixel photograph.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Runs in the child: builds the photograph, runs one case, prints a JSON line.
CHILD = textwrap.dedent("""
    import json, sys, time
    import cv2, numpy as np, skimage.data
    import core

    def peak():
        # VmHWM starts afresh with the program; ru_maxrss would count the forked parent.
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024

    def photograph(height, width):
        tile = cv2.resize(skimage.data.astronaut(), (4000, 4000), interpolation=cv2.INTER_CUBIC)
        reps = (-(-height // 4000), -(-width // 4000), 1)
        return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])

    case = json.loads(sys.argv[1])
    image = photograph(*case["size"])
    if case.get("save"):
        cv2.imwrite(case["save"], image[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
        print(json.dumps({}))
        sys.exit()
    settings = core.ComparisonSettings(**case["settings"])
    start_peak = peak()
    report = {"image_bytes": image.nbytes, "start_peak": start_peak, "available": core.available_memory()}
    start = time.perf_counter()
    try:
        report["estimate"] = core.estimate_memory(image.shape, image.dtype, settings)
        results = list(core.Comparison(image, settings))
    except core.UpscopeError as exc:
        report.update(refused=str(exc), seconds=time.perf_counter() - start, peak=peak())
        print(json.dumps(report))
        sys.exit()
    report.update(
        seconds=time.perf_counter() - start,
        peak=peak(),
        held=sum(r.image.nbytes + (0 if r.difference is None else r.difference.nbytes) for r in results if r.ok),
        methods=sum(r.ok for r in results),
    )
    print(json.dumps(report))
""")

GB = 1e9


def child(case: dict) -> dict:
    """Run one case in a fresh process; its JSON report."""
    run = subprocess.run([sys.executable, "-c", CHILD, json.dumps(case)], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if run.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{run.stderr}")
    return json.loads(run.stdout)


#: Runs ``app.py`` with the given arguments and prints its peak memory as it exits.
APP_WITH_PEAK = textwrap.dedent("""
    import atexit, runpy, sys

    def peak():
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    print(int(line.split()[1]) * 1024)

    atexit.register(peak)
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")


def command_line(size: tuple[int, int], folder: Path) -> dict:
    """``app.py --export`` of the photograph with a cropped figure, difference maps and
    the metrics table; its peak memory and time."""
    image = folder / "photo.png"
    child({"size": size, "save": str(image)})
    argv = [sys.executable, "-c", APP_WITH_PEAK, str(ROOT / "app.py"), str(image), "--export",
            str(folder / "figure.png"), "--scale", "4", "--crop", "4000,3000,400,300", "--diff", "--table", "--force"]
    start = time.perf_counter()
    run = subprocess.run(argv, cwd=folder, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise RuntimeError(f"the command line failed:\n{run.stderr}")
    return {"peak": int(run.stdout.split()[-1]), "seconds": seconds}


def run(quick: bool = False) -> str:
    from bench.bench_core import machine

    size = (4000, 6000) if quick else (8000, 12000)
    megapixels = size[0] * size[1] / 1e6
    total = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    lines = [
        "## Memory of large comparisons",
        "",
        f"Machine: {machine()}, {total / 2**30:.0f} GiB of memory. `python3 bench/bench_memory.py"
        f"{' --quick' if quick else ''}`.",
        "",
        f"A {size[1]}x{size[0]} ({megapixels:.0f}-megapixel) RGB uint8 photograph (astronaut, resized and tiled), "
        "compared at x4 in degrade mode with the nine default methods, each case in a fresh process. "
        "'Held' is what the comparison keeps: nine result images (and, with maps, their float32 "
        "difference maps). 'Peak' is the process's peak resident memory, interpreter, libraries and "
        "photograph included; 'growth' is the peak less the process before the comparison (libraries "
        "loaded, photograph made). The estimate is `core.estimate_memory`, which `core.Comparison` checks "
        "against the memory available before it starts.",
        "",
        "| case | held | estimate | peak | growth | peak / held | time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    cases = [
        ("x4, difference maps kept (the command line's default)", {"scale": 4}),
        ("x4, no difference maps (what the window keeps until maps are shown)", {"scale": 4, "diff_kind": None}),
    ]
    for label, settings in cases:
        report = child({"size": size, "settings": settings})
        growth = report["peak"] - report["start_peak"]
        lines.append(
            f"| {label} | {report['held'] / GB:.2f} GB | {report['estimate'] / GB:.2f} GB | {report['peak'] / GB:.2f} GB | "
            f"{growth / GB:.2f} GB | {report['peak'] / report['held']:.2f}x | {report['seconds']:.0f} |"
        )
        print(lines[-1], flush=True)

    with tempfile.TemporaryDirectory() as folder:
        cli = command_line(size, Path(folder))
    held = 9 * size[0] * size[1] * (3 + 4)
    lines.append(
        f"| `app.py --export` with `--crop 4000,3000,400,300 --diff --table` (reads the PNG, compares, draws) | "
        f"{held / GB:.2f} GB | | {cli['peak'] / GB:.2f} GB | | {cli['peak'] / held:.2f}x | {cli['seconds']:.0f} |"
    )
    print(lines[-1], flush=True)

    refused = child({"size": (2000, 2000), "settings": {"mode": "upscale", "scale": 16}})
    growth = refused["peak"] - refused["start_peak"]
    grew = (f"its peak memory growing by {growth / 2**20:.0f} MiB" if growth >= 2**20
            else "its peak memory not growing at all")
    lines += [
        "",
        "An x16 upscale of a 2000x2000 photograph (the window's largest scale) would make nine 32000x32000 "
        "results of 3.1 GB each. The output limit refuses it before anything is allocated: "
        f"in {refused['seconds'] * 1000:.1f} ms, {grew} (peak {refused['peak'] / 2**20:.0f} MiB with the "
        "photograph and libraries), with the message:",
        "",
        f"> {refused['refused']}",
    ]
    print("\n".join(lines[-3:]), flush=True)
    return "\n".join(lines)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench._report import run_benchmark

    run_benchmark(__doc__, "memory", run, quick="a 24-megapixel photograph instead of 96")


if __name__ == "__main__":
    main()
