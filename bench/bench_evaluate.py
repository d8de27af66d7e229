"""Dataset evaluation's throughput: images per second on builtin:photos.

    python3 bench/bench_evaluate.py [--out docs/BENCHMARKS.md]

Runs `core.evaluate` over ``builtin:photos`` at x2, x3 and x4 with every classic and
neural method, each time into a fresh folder: locally with 1 and with 2 worker processes,
and on a two-worker `dask.distributed` LocalCluster (one thread per worker) when Dask is
installed. It reports images per second (an image at one scale with all its methods is
one unit), the scaling from 1 to 2 processes (goal: at least 1.7x) and the overhead of
Dask against local processes on the same cores (goal: at most 1.2x).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core
from bench._report import cpu_name, run_benchmark
from core.report.evaluation import EvaluationSettings, evaluate

METHODS = tuple(spec.id for spec in core.list_methods() if spec.family in ("classic", "neural"))
SETTINGS = EvaluationSettings(scales=(2.0, 3.0, 4.0), methods=METHODS)


def timed(jobs: int | None = None, scheduler: str | None = None) -> tuple[float, int]:
    """Seconds of one evaluation into a fresh folder, and the units it ran."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        report = evaluate(["builtin:photos"], SETTINGS, Path(folder) / "out", jobs=jobs, scheduler=scheduler)
        seconds = time.perf_counter() - start
        assert not report.failed, report.failed
        return seconds, report.computed // len(METHODS)


def run() -> str:
    import cv2

    # One process means one core: OpenCV's own threads (on by default) would use the others.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        one, units = timed(jobs=1)
    finally:
        cv2.setNumThreads(threads)
    timed(jobs=2)  # the first spawn of workers also fills the disk cache of Python's modules
    two, _ = timed(jobs=2)
    lines = [
        f"Measured by `python3 bench/bench_evaluate.py` on {cpu_name()} ({os.cpu_count()} cores): builtin:photos "
        f"(9 images) at x2, x3 and x4, {len(METHODS)} methods, {units} units (an image at one scale).",
        "",
        "| run | seconds | images x scales per second |",
        "|---|---:|---:|",
        f"| local, 1 process (OpenCV at one thread) | {one:.1f} | {units / one:.2f} |",
        f"| local, 2 processes | {two:.1f} | {units / two:.2f} |",
    ]
    cluster_seconds = None
    try:
        import distributed
    except ImportError:
        lines.append("| Dask LocalCluster | - | dask is not installed |")
    else:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            timed(scheduler=cluster.scheduler_address)  # the workers import Upscope once
            cluster_seconds, _ = timed(scheduler=cluster.scheduler_address)
        lines.append(f"| Dask LocalCluster, 2 workers | {cluster_seconds:.1f} | {units / cluster_seconds:.2f} |")
    lines += ["", f"Scaling from 1 to 2 processes: {one / two:.2f}x (goal at least 1.7x)."]
    if cluster_seconds is not None:
        lines.append(f"Dask against local processes on the same cores: {cluster_seconds / two:.2f}x the time "
                     "(goal at most 1.2x).")
    report = "\n".join(lines)
    print(report)
    return report


if __name__ == "__main__":
    run_benchmark(__doc__ or "", "evaluate", run)
