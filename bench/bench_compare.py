"""A whole comparison against the script a researcher would write, in one run.

    python3 bench/bench_compare.py [--quick] [--out docs/BENCHMARKS.md]

For 1024x1024 and 2048x2048 RGB uint8 photographs (scikit-image's astronaut, resized) in
degrade mode at x2 and x4, with every classic and neural method, it measures:

- **comparison**: ``list(core.compare(image, settings))``, metrics included (PSNR, SSIM,
  MSE, MAE, max error of every method against the original);
- **methods**: the sum of the methods' own times inside that comparison;
- **script**: what a researcher writes by hand for the same numbers: the same degraded
  input, each method by ``cv2.resize`` with its flag (or Upscope's own function where
  OpenCV has none), then scikit-image's ``peak_signal_noise_ratio`` and
  ``structural_similarity`` (Gaussian window, sigma 1.5, as METHODS.md defines SSIM);
  goal: the comparison at least 10x faster;
- **metrics**: Upscope's metrics (PSNR, SSIM, MSE, MAE, max error) of every method's
  result, the reference prepared once as a comparison does, against scikit-image's PSNR
  and SSIM of the same pairs (goal: at least 10x faster);
- **peak memory** of the comparison, in a fresh process, against the bytes of the images
  it produces (the original, the degraded input and one result per method).

It also times ``transposed-conv`` and ``bilinear-aligned`` as ratios to ``bilinear`` on the
same input and scale (goal: at most 2x). ``--quick`` runs 1024x1024 only.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core
from bench._report import cpu_name, run_benchmark

#: The OpenCV call a researcher would use for each method; the others run Upscope's own
#: function (the script has no shorter way to get them).
OPENCV_FLAGS = {
    "nearest": cv2.INTER_NEAREST,
    "nearest-exact": cv2.INTER_NEAREST_EXACT,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "lanczos4": cv2.INTER_LANCZOS4,
    "area": cv2.INTER_AREA,
}


def methods() -> list[str]:
    """Every classic and neural method (the learned ones have their own benchmark)."""
    return [m.id for m in core.list_methods() if m.family in ("classic", "neural")]


def photograph(size: int) -> np.ndarray:
    import skimage.data

    return cv2.resize(skimage.data.astronaut(), (size, size), interpolation=cv2.INTER_CUBIC)


def settings(scale: int) -> core.ComparisonSettings:
    return core.ComparisonSettings(mode="degrade", scale=float(scale), methods=tuple(methods()), diff_kind=None)


def comparison_time(image: np.ndarray, scale: int) -> tuple[float, float, list[core.MethodResult]]:
    """Seconds of the whole comparison, the sum of the methods' own seconds, the results."""
    start = time.perf_counter()
    results = list(core.compare(image, settings(scale)))
    elapsed = time.perf_counter() - start
    for result in results:
        if not result.ok:
            raise SystemExit(f"{result.method_id} did not run: {result.reason}")
    return elapsed, sum(r.seconds for r in results), results


def skimage_metrics(original: np.ndarray, result: np.ndarray) -> tuple[float, float]:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    psnr = peak_signal_noise_ratio(original, result, data_range=255)
    ssim = structural_similarity(original, result, channel_axis=2, data_range=255, gaussian_weights=True,
                                 sigma=1.5, use_sample_covariance=False)
    return psnr, ssim


def script_time(image: np.ndarray, scale: int) -> float:
    """Seconds of the researcher's script: degrade, then each method and scikit-image's
    PSNR and SSIM against the original."""
    start = time.perf_counter()
    small, _ = core.downsample(image, scale, "bicubic-aa")
    size = (small.shape[1] * scale, small.shape[0] * scale)
    original = image[: size[1], : size[0]]
    for method in methods():
        if method in OPENCV_FLAGS:
            result = cv2.resize(small, size, interpolation=OPENCV_FLAGS[method])
        else:
            result = core.upsample(small, method, scale=scale)
        skimage_metrics(original, result)
    return time.perf_counter() - start


def metrics_times(results: list[core.MethodResult], original: np.ndarray) -> tuple[float, float]:
    """Seconds of Upscope's metrics of every result, and of scikit-image's PSNR + SSIM."""
    start = time.perf_counter()
    prepared = core.PreparedReference(original)  # as a comparison measures its methods
    for result in results:
        core.compute_metrics(original, result.image, prepared=prepared)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for result in results:
        skimage_metrics(original, result.image)
    return ours, time.perf_counter() - start


_MEMORY_CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from bench.bench_compare import photograph, settings
import core

def resident(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field))

image = photograph({size})
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # the peak (VmHWM) starts again from what is resident now
before = resident("VmRSS:")
comparison = core.Comparison(image, settings({scale}))
results = list(comparison)
peak = resident("VmHWM:")
produced = image.nbytes + comparison.input.nbytes + sum(r.image.nbytes for r in results)
print(json.dumps({{"before": before, "peak": peak, "produced": produced}}))
"""


def peak_memory(size: int, scale: int) -> tuple[float, float]:
    """MiB of peak resident memory a fresh process adds while comparing, and MiB of the
    images the comparison produces."""
    code = _MEMORY_CHILD.format(root=str(ROOT), size=size, scale=scale)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    return (report["peak"] - report["before"]) / 2**20, report["produced"] / 2**20


def ratio_to_bilinear(image: np.ndarray, scale: int, method: str, repeats: int = 5) -> float:
    small, _ = core.downsample(image, scale, "bicubic-aa")
    times: dict[str, list[float]] = {method: [], "bilinear": []}
    for name in times:
        core.upsample(small, name, scale=scale)
    for _ in range(repeats):
        for name in times:
            start = time.perf_counter()
            core.upsample(small, name, scale=scale)
            times[name].append(time.perf_counter() - start)
    return statistics.median(times[method]) / statistics.median(times["bilinear"])


def run(quick: bool = False) -> str:
    sizes = [1024] if quick else [1024, 2048]
    lines = [
        "## A whole comparison against a researcher's script",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by `python3 bench/bench_compare.py`{' --quick' if quick else ''} on "
        f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"OpenCV {cv2.__version__}. Degrade mode, every classic and neural method ({len(methods())}), "
        "metrics included; the script is the same work written with `cv2.resize` and scikit-image's "
        "PSNR and SSIM. Medians of three runs, alternating.",
        "",
        "| input | scale | comparison (s) | methods (s) | script (s) | script / comparison | "
        "metrics (s) | scikit-image metrics (s) | ratio | peak memory (MiB) | images produced (MiB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        image = photograph(size)
        for scale in (2, 4):
            ours, inner, scripts, ours_metrics, theirs_metrics = [], [], [], [], []
            for _ in range(3):
                elapsed, method_seconds, results = comparison_time(image, scale)
                ours.append(elapsed)
                inner.append(method_seconds)
                scripts.append(script_time(image, scale))
                original = image[: results[0].image.shape[0], : results[0].image.shape[1]]
                metric_ours, metric_theirs = metrics_times(results, original)
                ours_metrics.append(metric_ours)
                theirs_metrics.append(metric_theirs)
            peak, produced = peak_memory(size, scale)
            row = (statistics.median(ours), statistics.median(inner), statistics.median(scripts),
                   statistics.median(ours_metrics), statistics.median(theirs_metrics))
            line = (f"| {size}x{size} | x{scale} | {row[0]:.2f} | {row[1]:.2f} | {row[2]:.2f} | "
                    f"{row[2] / row[0]:.1f}x | {row[3]:.2f} | {row[4]:.2f} | {row[4] / row[3]:.1f}x | "
                    f"{peak:.0f} | {produced:.0f} |")
            print(line, flush=True)
            lines.append(line)
    lines += ["", "| input | scale | method | time / `bilinear` |", "|---|---|---|---:|"]
    for size in sizes:
        image = photograph(size)
        for scale in (2, 4):
            for method in ("transposed-conv", "bilinear-aligned"):
                line = f"| {size}x{size} | x{scale} | `{method}` | {ratio_to_bilinear(image, scale, method):.1f}x |"
                print(line, flush=True)
                lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    run_benchmark(__doc__, "compare", run, quick="1024x1024 only")
