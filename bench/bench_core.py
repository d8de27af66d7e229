"""Speed of the core methods, as ratios to anchors measured in the same run.

    python3 bench/bench_core.py [--quick] [--out docs/BENCHMARKS.md]

For 512x512, 1024x1024 and 2048x2048 RGB uint8 inputs at x2, x4 and x3.5 it prints each
method's median time and:

- for OpenCV-backed methods, the ratio to a bare ``cv2.resize`` with the same flag
  (goal: at most 1.10x);
- for transposed-conv and max-unpool, the ratio to PyTorch on the CPU (goal: below 1);
- for every method, its time as a multiple of the memory-bandwidth floor: the bytes it
  must read and write, at the copy bandwidth measured at the start of the run.

It also reports the price of exactness: uint16 and float32 inputs (512x512 RGB, 2048x2048
without ``--quick``, and a 1x8191 row) where OpenCV's float32 coordinates are not exact
enough and Upscope's exact taps run instead, timed against a bare ``cv2.resize``. It
compares SSIM with scikit-image (goal: 3x faster, same value to 1e-4) and
``bilinear-numpy`` with ``bilinear`` and with the seed article's pure-Python loop. The
results are written as Markdown to ``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core
from bench._report import cpu_name, run_benchmark

OPENCV_ANCHORS = {
    "nearest": cv2.INTER_NEAREST,
    "nearest-exact": cv2.INTER_NEAREST_EXACT,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "lanczos4": cv2.INTER_LANCZOS4,
    "area": cv2.INTER_AREA,
}


def median_time(function, repeats: int) -> float:
    """Median wall time of ``repeats`` calls after one warm-up call, in seconds."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_times(ours, anchor, repeats: int) -> tuple[float, float]:
    """Median times of two callables run alternately, so both see the same machine load."""
    ours()
    anchor()
    a, b = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours()
        a.append(time.perf_counter() - start)
        start = time.perf_counter()
        anchor()
        b.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def copy_bandwidth() -> float:
    """Bytes per second of a large memory copy (read + write counted)."""
    src = np.ones(256 * 1024 * 1024, np.uint8)
    dst = np.empty_like(src)
    seconds = median_time(lambda: np.copyto(dst, src), 5)
    return 2 * src.nbytes / seconds


def pure_python_bilinear(image: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """The seed article's triple loop (with its border bug fixed), for timing only."""
    in_h, in_w, channels = image.shape
    out = np.zeros((out_h, out_w, channels), np.float64)
    for c in range(channels):
        for y in range(out_h):
            sy = max((y + 0.5) * in_h / out_h - 0.5, 0.0)
            y0 = min(int(sy), in_h - 1)
            y1 = min(y0 + 1, in_h - 1)
            dy = sy - y0
            for x in range(out_w):
                sx = max((x + 0.5) * in_w / out_w - 0.5, 0.0)
                x0 = min(int(sx), in_w - 1)
                x1 = min(x0 + 1, in_w - 1)
                dx = sx - x0
                top = image[y0, x0, c] * (1 - dx) + image[y0, x1, c] * dx
                bottom = image[y1, x0, c] * (1 - dx) + image[y1, x1, c] * dx
                out[y, x, c] = top * (1 - dy) + bottom * dy
    return out


def torch_anchor(method: str, image: np.ndarray, scale: int):
    """A callable running PyTorch's own operation on the same data, or None."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    x = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None].contiguous()
    c = x.shape[1]
    if method == "transposed-conv":
        from core.methods.neural import transposed_conv_kernel

        kernel = torch.from_numpy(transposed_conv_kernel("bilinear", None, (scale, scale)).astype(np.float32))
        weight = kernel[None, None].repeat(c, 1, 1, 1)
        k = kernel.shape[0]
        return lambda: F.conv_transpose2d(x, weight, stride=scale, padding=(k - scale) // 2, groups=c)
    if method == "max-unpool":
        big = (
            torch.from_numpy(np.repeat(np.repeat(image, scale, 0), scale, 1).astype(np.float32))
            .permute(2, 0, 1)[None]
            .contiguous()
        )
        pooled, indices = F.max_pool2d(big, scale, scale, return_indices=True)
        return lambda: F.max_unpool2d(pooled, indices, scale, scale)
    return None


def run(quick: bool) -> str:
    rng = np.random.default_rng(0)
    sizes = [512] if quick else [512, 1024, 2048]
    scales = [2, 4, 3.5]
    bandwidth = copy_bandwidth()
    lines = [
        "# Benchmarks",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by `python3 bench/bench_core.py`"
        + (" --quick" if quick else "")
        + f" on {machine()}.",
        "",
        f"Memory copy bandwidth: {bandwidth / 1e9:.1f} GB/s (read + write). The floor of a method is "
        "(input bytes + output bytes) / bandwidth.",
        "",
        "## Methods",
        "",
        "Median of repeated runs, ours and the anchor alternately. Inputs are RGB uint8 noise. "
        "'vs anchor' divides our time by the bare OpenCV call with the same flag (goal: at most "
        "1.10x), or by PyTorch's own operation (goal: below 1). Where OpenCV's nearest or area "
        "mapping is not exact for a size pair, Upscope computes it itself and the ratio shows the "
        "price of being right.",
        "",
        "| input | scale | method | time (ms) | anchor | vs anchor | x floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        image = rng.integers(0, 256, (n, n, 3), dtype=np.uint8)
        repeats = 9 if n <= 1024 else 5
        for scale in scales:
            out = math.floor(n * scale + 0.5)
            floor_s = (image.nbytes + out * out * 3) / bandwidth
            for spec in core.list_methods():
                if spec.refusal((scale, scale)):
                    continue
                if spec.id == "bilinear-numpy" and n > 1024:
                    continue  # several GB of float32 temporaries; its ratio is reported below
                run_ours = lambda: core.upsample(image, spec.id, scale=scale)  # noqa: E731
                anchor_name, call = "", None
                if spec.id in OPENCV_ANCHORS:
                    flag = OPENCV_ANCHORS[spec.id]
                    anchor_name = f"cv2.resize {cv2_flag_name(flag)}"
                    call = lambda: cv2.resize(image, (out, out), interpolation=flag)  # noqa: E731
                elif (call := torch_anchor(spec.id, image, int(scale))) is not None:
                    anchor_name = "PyTorch " + ("conv_transpose2d" if spec.id == "transposed-conv" else "max_unpool2d")
                if call is None:
                    ours, anchor = median_time(run_ours, repeats), None
                else:
                    ours, anchor = paired_times(run_ours, call, repeats)
                ratio = f"{ours / anchor:.2f}x" if anchor else ""
                row = f"| {n}² | x{scale:g} | `{spec.id}` | {ours * 1e3:.1f} | {anchor_name} | {ratio} | {ours / floor_s:.1f} |"
                print(row, flush=True)
                lines.append(row)
    lines += ["", *exactness_section(rng, quick), "", *ssim_section(rng, quick), "", *bilinear_numpy_section(rng)]
    return "\n".join(lines) + "\n"


def exactness_section(rng, quick: bool) -> list[str]:
    """Where OpenCV is not within the tolerance (docs/METHODS.md#where-opencv-runs), each
    method's time with the path it took, against a bare ``cv2.resize`` with its flag."""
    rows = [
        "## The price of exactness",
        "",
        "uint16 and float32 noise. OpenCV computes source coordinates in float32 (and drops area slivers "
        "under a thousandth of a pixel), so on most of these sizes it is several levels off; Upscope then runs "
        "its exact taps. 'path' says which ran; 'vs cv2.resize' is the price of being right where it "
        "says 'exact' (the bare call is timed on the same input, though its result is not within the "
        "tolerance). The 1x8191 row goes to 20000 pixels.",
        "",
        "| input | dtype | scale | method | path | time (ms) | cv2.resize (ms) | vs cv2.resize |",
        "|---|---|---|---|---|---|---|---|",
    ]
    shapes = [(512, 512, 3), (1, 8191, 1)] if quick else [(512, 512, 3), (2048, 2048, 3), (1, 8191, 1)]
    for shape in shapes:
        for dtype in (np.uint16, np.float32):
            image = rng.integers(0, 65536, shape).astype(dtype) if dtype == np.uint16 else rng.random(shape, np.float32)
            if shape[0] == 1:
                sizes = [((1, 20000), "x2.44")]
            else:
                sizes = [((math.floor(shape[0] * s + 0.5),) * 2, f"x{s:g}") for s in (2, 3.5)]
            for size, scale in sizes:
                for method in ("bilinear", "bicubic", "lanczos4", "area"):
                    row = exactness_row(image, method, size, 3 if shape[0] >= 2048 else 7)
                    label = f"{shape[1]}x{shape[0]}" if shape[0] == 1 else f"{shape[0]}²"
                    row = f"| {label} | {np.dtype(dtype).name} | {scale} | {row}"
                    print(row, flush=True)
                    rows.append(row)
    return rows


def exactness_row(image: np.ndarray, method: str, size: tuple[int, int], repeats: int) -> str:
    """The method, its path, its time and the bare ``cv2.resize``'s, as the end of a table row."""
    from core.methods.taps import opencv_within_tolerance_for

    flag = OPENCV_ANCHORS[method]
    path = "OpenCV" if opencv_within_tolerance_for(image, size, flag) else "exact"
    ours, anchor = paired_times(
        lambda: core.upsample(image, method, size=size, backend="cpu"),
        lambda: cv2.resize(image, (size[1], size[0]), interpolation=flag),
        repeats,
    )
    return f"`{method}` | {path} | {ours * 1e3:.1f} | {anchor * 1e3:.1f} | {ours / anchor:.1f}x |"


def ssim_section(rng, quick: bool) -> list[str]:
    from skimage.metrics import structural_similarity

    rows = [
        "## SSIM against scikit-image",
        "",
        "A photograph-like pair (noise, then blurred) in RGB uint8. Goal: at least 3x faster, with the same value to 1e-4.",
        "",
        "| size | ours (ms) | scikit-image (ms) | speed-up | |difference| |",
        "|---|---|---|---|---|",
    ]
    for n in [512] if quick else [512, 1024, 2048]:
        a = cv2.GaussianBlur(rng.integers(0, 256, (n, n, 3), dtype=np.uint8), (0, 0), 2)
        b = np.clip(a.astype(int) + rng.integers(-12, 13, a.shape), 0, 255).astype(np.uint8)
        theirs_value = structural_similarity(
            a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1
        )
        ours = median_time(lambda: core.ssim(a, b), 3)
        theirs = median_time(
            lambda: structural_similarity(
                a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1
            ),
            3,
        )
        diff = abs(core.ssim(a, b) - theirs_value)
        row = f"| {n}² | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | {theirs / ours:.1f}x | {diff:.1e} |"
        print(row, flush=True)
        rows.append(row)
    return rows


def bilinear_numpy_section(rng) -> list[str]:
    image = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    numpy_s = median_time(lambda: core.upsample(image, "bilinear-numpy", scale=2), 5)
    opencv_s = median_time(lambda: core.upsample(image, "bilinear", scale=2), 5)
    small = image[:48, :48]
    start = time.perf_counter()
    pure_python_bilinear(small, 96, 96)
    loop_small = time.perf_counter() - start
    loop_s = loop_small * (1024 * 1024) / (96 * 96)  # scaled by output pixels
    rows = [
        "## `bilinear-numpy`: the textbook formula",
        "",
        "512² RGB at x2. The pure-Python loop was timed on 48² to 96² and scaled by the number of output pixels.",
        "",
        "| implementation | time (ms) | relative to `bilinear` |",
        "|---|---|---|",
        f"| `bilinear` (OpenCV) | {opencv_s * 1e3:.1f} | 1x |",
        f"| `bilinear-numpy` (vectorised NumPy) | {numpy_s * 1e3:.1f} | {numpy_s / opencv_s:.0f}x |",
        f"| seed article's pure-Python loop | {loop_s * 1e3:.0f} (scaled) | {loop_s / opencv_s:.0f}x |",
    ]
    print("\n".join(rows[-3:]), flush=True)
    return rows


def cv2_flag_name(flag: int) -> str:
    return {v: k for k, v in vars(cv2).items() if k.startswith("INTER_") and isinstance(v, int)}.get(flag, str(flag))


def machine() -> str:
    cpu = cpu_name()
    try:
        import torch

        torch_version = f", PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        torch_version = ", no PyTorch"
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"OpenCV {cv2.__version__}{torch_version}"
    )


def main() -> None:
    run_benchmark(__doc__, "core", run, quick="512x512 only")


if __name__ == "__main__":
    main()
