"""The analysis views' cost at 2048x2048, against a whole comparison.

    python3 bench/bench_analysis.py [--out docs/BENCHMARKS.md]

On a 2048x2048 RGB uint8 photograph (scikit-image's astronaut, resized), degrade mode
at x4 with every classic and neural method, it times:

- the whole comparison (``list(core.compare(...))``, metrics included): the anchor;
- per result: ``core.spectrum``, ``core.radial_profile``, ``core.checkerboard_score``
  (against the ground truth), ``core.ssim_map`` and ``core.flip_map`` (when
  ``flip-evaluator`` is installed);

and gives each as a share of the whole comparison's time, and, for the ones a view
computes for every panel (spectrum, profile, checkerboard, the SSIM or FLIP map), the
cost for all the comparison's results.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core
from bench._report import cpu_name, run_benchmark
from bench.bench_compare import photograph, settings
from bench.bench_core import median_time


def run() -> str:
    image = photograph(2048)
    comparison_settings = settings(4)
    whole = median_time(lambda: list(core.compare(image, comparison_settings)), 3)
    comparison = core.Comparison(image, comparison_settings)
    results = [r for r in comparison if r.ok]
    truth = comparison.ground_truth
    bicubic = next(r.image for r in results if r.method_id == "bicubic")
    steps = [
        ("spectrum", lambda: core.spectrum(bicubic)),
        ("radial profile", lambda: core.radial_profile(bicubic)),
        ("checkerboard score", lambda: core.checkerboard_score(bicubic, 4, truth)),
        ("SSIM map", lambda: core.ssim_map(truth, bicubic)),
    ]
    if core.flip_available():
        steps.append(("FLIP map", lambda: core.flip_map(truth, bicubic)))
    lines = [
        f"Measured by `python3 bench/bench_analysis.py` on {cpu_name()}: a 2048x2048 RGB uint8 photograph, "
        f"degrade at x4, {len(results)} methods. The whole comparison (metrics included, no analysis) took "
        f"{whole:.2f} s (median of three).",
        "",
        "| step, one 2048x2048 result | time (ms) | share of the comparison | for all results (s) |",
        "|---|---:|---:|---:|",
    ]
    for name, step in steps:
        repeats = 1 if name == "FLIP map" else 3
        seconds = median_time(step, repeats)
        lines.append(f"| {name} | {seconds * 1000:.0f} | {seconds / whole:.1%} | {seconds * len(results):.2f} |")
        print(lines[-1], flush=True)
    start = time.perf_counter()
    for result in results:
        comparison.analyse(result)
    lines.append(f"| `Comparison.analyse` of every result (checkerboard) | - | - | {time.perf_counter() - start:.2f} |")
    return "\n".join(lines)


def main() -> None:
    run_benchmark(__doc__, "analysis", run)


if __name__ == "__main__":
    main()
