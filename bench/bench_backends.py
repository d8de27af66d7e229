"""Compute backends side by side: time, bytes moved and parity with the CPU.

    python3 bench/bench_backends.py [--quick] [--out docs/BENCHMARKS.md]

A 2048x2048 RGB uint8 photograph-like image is compared at x4 in degrade mode (shrunk to
512x512 with the default anti-aliased bicubic, then every method brings it back to
2048x2048). For each backend that runs here (CPU; OpenCL, on whatever device OpenCV uses;
PyTorch, on CUDA, MPS or its CPU) it prints:

- per method: the median time of one upsampling with the input already on the device,
  the result brought back to the host included; which backend really ran it; the largest
  difference from the CPU's result, in levels;
- the whole comparison (downsampling, every method, metrics, difference maps) as the
  viewer and the command line run it; the bytes moved to and from the device; the
  largest PSNR difference from the CPU's metrics.

The ratio column is each time over the CPU's in the same run. Set
``OPENCV_OPENCL_DEVICE=":CPU:"`` to include an OpenCL CPU device (POCL): it proves the
code path, not the speed.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core
from bench._report import run_benchmark
from bench.bench_core import machine
from core.backends.base import BackendError
from core.backends.choice import get_backend

SCALE = 4
#: Every classic and neural method (the figures in docs/BENCHMARKS.md cover them all, more
#: than the default set of a comparison).
METHODS = tuple(spec.id for spec in core.list_methods() if spec.family != "learned")


def test_image(size: int) -> np.ndarray:
    """Smooth blocks plus noise: photograph-like statistics, reproducible."""
    rng = np.random.default_rng(2048)
    small = rng.integers(0, 256, (size // 16, size // 16, 3)).astype(np.float32)
    big = core.upsample(small.astype(np.uint8), "bicubic", size=(size, size), backend="cpu").astype(np.float32)
    return np.clip(big + rng.normal(0, 8, big.shape), 0, 255).astype(np.uint8)


def timed(function, repeats: int) -> tuple[float, object]:
    value = function()  # warm-up (kernels compiled, caches filled)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def method_rows(backend, image: np.ndarray, cpu_results: dict, repeats: int) -> list[tuple]:
    comparison = core.Comparison(image, core.ComparisonSettings(scale=SCALE, methods=METHODS, backend="cpu"))
    low = comparison.input
    handle = backend.put(low)
    rows = []
    for choice in comparison.choices:
        spec = core.get_method(choice.id)
        params = spec.resolve_params({})
        size = comparison.output_size
        refusal = backend.refusal(spec.id, low.shape, low.dtype, size, params) if backend.name != "cpu" else None
        if refusal:
            rows.append((spec.id, None, "cpu", refusal, None))
            continue
        seconds, out = timed(lambda: backend.get(backend.resample(handle, spec.id, size, params)), repeats)
        error = float(np.abs(out.astype(np.int32) - cpu_results[spec.id]).max()) if spec.id in cpu_results else 0.0
        rows.append((spec.id, seconds, backend.name, None, error))
    return rows


def comparison_row(backend, image: np.ndarray, cpu_metrics: dict | None, repeats: int) -> tuple:
    settings = core.ComparisonSettings(scale=SCALE, methods=METHODS, backend=backend.name, diff_kind="abs")
    before = backend.traffic.snapshot()
    seconds, results = timed(lambda: list(core.compare(image, settings)), repeats)
    after = backend.traffic.snapshot()
    runs = repeats + 1
    moved_up = (after[0] - before[0]) / runs
    moved_down = (after[1] - before[1]) / runs
    psnr_error = 0.0
    if cpu_metrics is not None:
        psnr_error = max(abs(r.metrics.psnr - cpu_metrics[r.method_id]) for r in results)
    on_device = sum(1 for r in results if r.backend == backend.name)
    return seconds, moved_up, moved_down, psnr_error, on_device, len(results), results


def run(quick: bool) -> str:
    size = 512 if quick else 2048
    image = test_image(size)
    names = ["cpu"]
    absent = {}
    for name in ("opencl", "torch"):
        try:
            get_backend(name)
            names.append(name)
        except BackendError as exc:
            absent[name] = str(exc)
    lines = [
        "## Compute backends",
        "",
        f"Machine: {machine()}.",
        "",
        f"A {size}x{size} RGB uint8 image, degrade mode at x{SCALE} ({size // SCALE}x{size // SCALE} input, "
        f"{size}x{size} outputs). `python3 bench/bench_backends.py{' --quick' if quick else ''}`.",
        "",
        "Backends measured:",
        "",
    ]
    for name in names:
        lines.append(f"- `{name}`: {get_backend(name).info().summary()}")
    for name, reason in absent.items():
        lines.append(f"- `{name}`: not measured, {reason}")
    gpus = [n for n in names if get_backend(n).info().gpu]
    if not gpus:
        lines += ["", "**No GPU was available for this run.** The OpenCL and PyTorch figures below come from "
                  "CPU devices (POCL, PyTorch's CPU build): they prove the code paths and measure their "
                  "overheads; they are not GPU speeds, and none is estimated here."]
    reference = core.Comparison(image, core.ComparisonSettings(scale=SCALE, methods=METHODS, backend="cpu"))
    cpu_results = {c.id: core.upsample(reference.input, c.id, size=reference.output_size, backend="cpu")
                   for c in reference.choices}
    per_method: dict[str, list[tuple]] = {}
    whole: dict[str, tuple] = {}
    for name in names:
        backend = get_backend(name)
        slow = name != "cpu" and not backend.info().gpu
        repeats = 1 if (slow and not quick) else 3
        print(f"{name}: methods...", flush=True)
        per_method[name] = method_rows(backend, image, cpu_results, repeats)
        print(f"{name}: whole comparison...", flush=True)
        cpu_metrics = None if name == "cpu" else {r.method_id: r.metrics.psnr for r in whole["cpu"][6]}
        whole[name] = comparison_row(backend, image, cpu_metrics, 1 if slow else 2)
    cpu_times = {row[0]: row[1] for row in per_method["cpu"]}

    lines += ["", "### Per method (input on the device, result brought back)", "",
              "| method | " + " | ".join(f"{n} ms | vs cpu | max diff" for n in names) + " |",
              "|---|" + "---:|---:|---:|" * len(names)]
    for index, (method_id, *_rest) in enumerate(per_method["cpu"]):
        cells = [method_id]
        for name in names:
            _, seconds, ran, refusal, error = per_method[name][index]
            if seconds is None:
                cells += ["runs on the CPU", "", ""]
            else:
                cells += [f"{seconds * 1000:.1f}", f"{seconds / cpu_times[method_id]:.2f}x", f"{error:g}"]
        lines.append("| " + " | ".join(cells) + " |")

    lines += ["", "### Whole comparison (downsampling, every method, metrics, difference maps)", "",
              "| backend | seconds | vs cpu | methods on the backend | MiB to device | MiB from device | max PSNR diff (dB) |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        seconds, up, down, psnr_error, on_device, total, _ = whole[name]
        lines.append(
            f"| {name} | {seconds:.2f} | {seconds / whole['cpu'][0]:.2f}x | {on_device} of {total} | "
            f"{up / 2**20:.1f} | {down / 2**20:.1f} | {psnr_error:.1e} |"
        )
    lines += ["", f"The image is {image.nbytes / 2**20:.0f} MiB; each result {size * size * 3 / 2**20:.0f} MiB and "
              f"each difference map {size * size * 4 / 2**20:.0f} MiB (float32, mean over channels) come back once."]
    report = "\n".join(lines)
    print(report)
    return report


def main() -> None:
    run_benchmark(__doc__, "backends", run, quick="512x512 only")


if __name__ == "__main__":
    main()
