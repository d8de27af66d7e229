"""Train, measure and export Upscope's learned upsamplers (PyTorch on the CPU).

    python3 -m training.train                      # every family at x2, x3, x4
    python3 -m training.train --family espcn --scale 3 --steps 200 --out /tmp/models

Data: scikit-image's sample photographs, which ship inside the installed package under
free licences, as luma (BT.601, MATLAB's ``rgb2ycbcr``) in [0, 1]. `TRAINING_IMAGES` are
cut into random patches; `HELD_OUT_IMAGES` are never seen in training and measure the
result. Each high-resolution image is degraded with Upscope's anti-aliased bicubic
(``core.downsample(..., "bicubic-aa")``), as super-resolution papers do.

The networks predict a correction over a bicubic upsampling (see `training.models`).
Seeds are fixed and PyTorch's deterministic algorithms are on, so the same command on the
same CPU and thread count gives the same weights bit for bit; the card records both.

Writes ``<family>_x<scale>.onnx`` (one file, weights inside) and ``<family>_x<scale>.json``
(the model card: architecture, parameters, data, held-out images, steps, minutes, seed,
threads, CPU, SHA-256 of the ONNX file, and PSNR/SSIM against bicubic on the held-out
images, luma with a border of ``scale`` pixels shaved).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import core
from core.backends.cpu import processor_name
from training.data import HELD_OUT_IMAGES, TRAINING_IMAGES, held_out_scores, pair, sample_luma
from training.models import build

FAMILY_NAMES = {"espcn": "ESPCN (sub-pixel convolution)", "fsrcnn": "FSRCNN (learned transposed convolution)"}
SEED = 2026
PATCH = 32  # low-resolution patch side
BATCH = 32
DEFAULT_STEPS = 3000
MODELS_DIR = Path(__file__).resolve().parents[1] / "resources" / "models"


@contextlib.contextmanager
def deterministic(threads: int) -> Iterator[None]:
    """Fixed seed, thread count and deterministic algorithms while training; PyTorch's
    global settings are restored afterwards (a test runs the recipe in-process)."""
    saved = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
             torch.utils.deterministic.fill_uninitialized_memory)
    torch.manual_seed(SEED)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    # Deterministic mode fills new tensors with NaN by default, a fifth of a step here.
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.set_num_threads(saved[0])
        torch.use_deterministic_algorithms(saved[1])
        torch.utils.deterministic.fill_uninitialized_memory = saved[2]


def bicubic(lr: torch.Tensor, scale: int) -> torch.Tensor:
    return F.interpolate(lr, size=(lr.shape[2] * scale, lr.shape[3] * scale), mode="bicubic", align_corners=False)


def train(family: str, scale: int, steps: int, threads: int = 2, log_every: int = 250) -> tuple[torch.nn.Module, float]:
    """Train one network; returns it and the minutes it took."""
    with deterministic(threads):
        pairs = [pair(sample_luma(name), scale) for name in TRAINING_IMAGES]
        rng = np.random.default_rng(SEED)
        net = build(family, scale)
        optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
        schedule = torch.optim.lr_scheduler.MultiStepLR(optimiser, [int(steps * 0.7), int(steps * 0.9)], 0.3)
        started = time.perf_counter()
        for step in range(steps):
            lows, highs = [], []
            for _ in range(BATCH):
                hr, lr = pairs[rng.integers(len(pairs))]
                y = int(rng.integers(0, lr.shape[0] - PATCH + 1))
                x = int(rng.integers(0, lr.shape[1] - PATCH + 1))
                low = lr[y:y + PATCH, x:x + PATCH]
                high = hr[y * scale:(y + PATCH) * scale, x * scale:(x + PATCH) * scale]
                if rng.random() < 0.5:  # flips and transposes: eight times the data
                    low, high = low[:, ::-1], high[:, ::-1]
                if rng.random() < 0.5:
                    low, high = low.T, high.T
                lows.append(np.ascontiguousarray(low))
                highs.append(np.ascontiguousarray(high))
            low_t = torch.from_numpy(np.stack(lows)[:, None])
            high_t = torch.from_numpy(np.stack(highs)[:, None])
            loss = F.mse_loss(net(low_t), high_t - bicubic(low_t, scale))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            if log_every and (step + 1) % log_every == 0:
                print(f"  {family} x{scale} step {step + 1}/{steps}: loss {loss.item():.3e}", flush=True)
        return net.eval(), (time.perf_counter() - started) / 60


def export_onnx(net: torch.nn.Module, path: Path) -> None:
    """Write ``net``'s export form as one ONNX file with free height and width."""
    import warnings

    example = torch.rand(1, 1, 16, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            net.export_form(), example, str(path), dynamo=False, opset_version=17,
            input_names=["luma"], output_names=["correction"],
            dynamic_axes={"luma": {2: "height", 3: "width"}, "correction": {2: "out_height", 3: "out_width"}},
        )


def card(family: str, scale: int, net: torch.nn.Module, steps: int, minutes: float, threads: int,
         onnx_path: Path, scores: dict[str, float]) -> dict:
    return {
        "id": family,
        "scale": scale,
        "architecture": FAMILY_NAMES[family],
        "layers": str(net.export_form()),
        "parameters": sum(p.numel() for p in net.parameters()),
        "input": "luma (BT.601, MATLAB rgb2ycbcr) in [0, 1], shape (1, 1, h, w)",
        "output": "correction added to bicubic (a = -0.75) upsampling of the same luma, shape (1, 1, h*s, w*s)",
        "training_images": [f"skimage.data.{name}" for name in TRAINING_IMAGES],
        "held_out_images": [f"skimage.data.{name}" for name in HELD_OUT_IMAGES],
        "degradation": "core.downsample(..., 'bicubic-aa') of the image cropped to a multiple of the scale",
        "steps": steps,
        "batch": BATCH,
        "patch": PATCH,
        "seed": SEED,
        "threads": threads,
        "cpu": processor_name(),
        "torch": torch.__version__,
        "minutes": round(minutes, 2),
        "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "held_out": {key: round(value, 4) for key, value in scores.items()},
        "psnr_gain_db": round(scores["psnr"] - scores["bicubic_psnr"], 3),
        "ssim_gain": round(scores["ssim"] - scores["bicubic_ssim"], 4),
    }


def make(family: str, scale: int, steps: int, out: Path, threads: int) -> dict:
    """Train, export and measure one model; returns its card (also written to ``out``)."""
    out.mkdir(parents=True, exist_ok=True)
    net, minutes = train(family, scale, steps, threads)
    onnx_path = out / f"{family}_x{scale}.onnx"
    export_onnx(net, onnx_path)

    def with_net(lr: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            low = torch.from_numpy(np.ascontiguousarray(lr))[None, None]
            correction = net(low)[0, 0].numpy()
        return core.upsample(lr, "bicubic", scale=scale) + correction

    scores = held_out_scores(with_net, scale)
    summary = card(family, scale, net, steps, minutes, threads, onnx_path, scores)
    (out / f"{family}_x{scale}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{family} x{scale}: {minutes:.1f} min, held-out PSNR {scores['psnr']:.3f} dB "
          f"(bicubic {scores['bicubic_psnr']:.3f}, gain {summary['psnr_gain_db']:+.3f}), "
          f"SSIM gain {summary['ssim_gain']:+.4f}", flush=True)
    return summary


def main() -> None:
    core.list_methods()  # load every module now: a long run must not mix versions of core
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=("espcn", "fsrcnn"), action="append")
    parser.add_argument("--scale", type=int, choices=(2, 3, 4), action="append")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    args = parser.parse_args()
    for family in args.family or ("espcn", "fsrcnn"):
        for scale in args.scale or (2, 3, 4):
            make(family, scale, args.steps, args.out, args.threads)


if __name__ == "__main__":
    main()
