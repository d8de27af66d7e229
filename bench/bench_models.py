"""Model files through Upscope against the same network run directly.

    python3 bench/bench_models.py [--quick] [--out docs/BENCHMARKS.md]

Random-weight test networks, made here as the tests make them (nothing is downloaded):
an ESPCN-like network exported to ONNX, and two spandrel architectures saved as
checkpoints (Real-ESRGAN Compact and a small ESRGAN RRDB network), all at x2. For a
1024x1024 RGB uint8 photograph (scikit-image's astronaut, resized) it times, per output
megapixel:

- **Upscope**: ``core.upsample(image, model, scale=2)``: the uint8 image to the model's
  units, its default tiles of 512 pixels with their overlap (four tiles here), the
  result back to uint8;
- **direct**: the same network on the whole image as one float32 tensor, in onnxruntime
  (``InferenceSession.run``) or PyTorch (``model(x)`` in inference mode), input already
  converted, output left as it is.

The two run in turns, seven times each after a warm-up, and the medians are compared.

Goal: Upscope at most 1.15x the direct run, tiling included. ``--quick`` uses 512x512
(one tile).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import core
from bench._report import cpu_name, run_benchmark


def alternating(first: Callable[[], object], second: Callable[[], object], rounds: int = 7) -> tuple[float, float]:
    """Median times of ``first`` and ``second`` run in turns after one warm-up each, so
    that a change in the machine's load falls on both alike."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for index, function in enumerate((first, second)):
            start = time.perf_counter()
            function()
            times[index].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def photograph(side: int) -> np.ndarray:
    import cv2
    from skimage import data

    return cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_AREA)


def models(folder: Path) -> list[tuple[str, Path, object]]:
    """(name, file, direct runner) of each test network."""
    import onnxruntime
    import tiny_models
    import torch

    made = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        espcn = tiny_models.export_onnx(tiny_models.espcn_like(2), folder / "espcn_x2.onnx")
    session = onnxruntime.InferenceSession(str(espcn), providers=["CPUExecutionProvider"])
    made.append(("ESPCN-like (ONNX)", espcn, lambda x: session.run(None, {"x": x})[0]))
    for kind, name in (("compact", "Real-ESRGAN Compact (.pth)"), ("rrdb", "ESRGAN RRDB (.pth)")):
        net = tiny_models.spandrel_model(kind, 2)
        path = tiny_models.save_checkpoint(net, folder / f"{kind}_x2.pth")

        def direct(x: np.ndarray, net=net) -> np.ndarray:
            with torch.inference_mode():
                return net(torch.from_numpy(x)).numpy()

        made.append((name, path, direct))
    return made


def run(quick: bool = False) -> str:
    import onnxruntime
    import torch

    side = 512 if quick else 1024
    image = photograph(side)
    tensor = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255)
    megapixels = (2 * side) ** 2 / 1e6
    lines = [
        f"Measured by `python3 bench/bench_models.py` on {cpu_name()}, {torch.get_num_threads()} threads, "
        f"PyTorch {torch.__version__}, onnxruntime {onnxruntime.__version__}. A {side}x{side} RGB uint8 "
        f"photograph at x2 ({megapixels:g} output megapixels); Upscope's default tiles of 512 pixels "
        f"({(side // 512) ** 2} tile(s)). Medians of seven runs each, in turns, after a warm-up.",
        "",
        "| model | tile overlap (px) | Upscope (ms / MP) | direct (ms / MP) | Upscope / direct |",
        "|---|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for name, path, direct in models(Path(folder)):
            method = core.add_model(path)
            halo = core.loaded_model(method).facts.halo
            ours, theirs = alternating(lambda method=method: core.upsample(image, method, scale=2),
                                       lambda direct=direct: direct(tensor))
            lines.append(f"| {name} | {halo} | {ours * 1000 / megapixels:.0f} | {theirs * 1000 / megapixels:.0f} | "
                         f"{ours / theirs:.2f}x |")
            print(lines[-1], flush=True)
            core.forget_method(method)
    return "\n".join(lines)


def main() -> None:
    run_benchmark(__doc__, "models", run, quick="512x512 only (one tile)")


if __name__ == "__main__":
    main()
