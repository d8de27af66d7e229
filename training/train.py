"""Train, measure and export Upscope's learned upsamplers (PyTorch on the CPU).

    python3 -m training.train                      # every family at x2, x3, x4
    python3 -m training.train --family espcn --scale 3 --steps 200 --out /tmp/models

Data: scikit-image's sample photographs, which ship inside the installed package under
free licences, as 8-bit images (`training.data`). `TRAINING_IMAGES` are cut into random
patches; `HELD_OUT_IMAGES` (photographs, microscopy, rendered text and a smooth gradient)
are never seen in training and measure the result. Each high-resolution image is degraded
with Upscope's anti-aliased bicubic (``core.downsample(..., "bicubic-aa")``), as
super-resolution papers do, in the image's own dtype: the network learns from the luma
the app will give it, reduced in 8 bits for most patches and in 16 bits for the rest
(`BITS_16_SHARE`), so it learns that a one-level step of an 8-bit image is not an edge.
Besides the photographs, training sees soft and smooth content (`training.data.training_images`),
whose target is the image before it was rounded to 8 bits.

The loss is the mean over patches of ``log10(MSE + ROUNDING_VARIANCE)``, that is the mean
PSNR of the patches, as the card averages PSNR over images. A plain MSE is ruled by the
textured patches, whose errors are a thousand times larger: the network then sharpens the
faint texture of smooth images at the cost of a decibel or two there. The floor keeps a
patch from being pushed below what 8 bits can hold.

The networks predict a correction over a bicubic upsampling (see `training.models`).
Seeds are fixed and PyTorch's deterministic algorithms are on, so the same command on the
same CPU and thread count gives the same weights bit for bit; the card records both.

Writes ``<family>_x<scale>.onnx`` (one file, weights inside) and ``<family>_x<scale>.json``
(the model card: architecture, parameters, data, held-out images, steps, minutes, seed,
threads, CPU, SHA-256 of the ONNX file, and PSNR/SSIM against bicubic on each held-out
image and their mean, measured through the app's own path with the exported file: 8-bit
image, ``core.downsample``, the app's bicubic plus the ONNX model run by OpenCV's DNN,
rounded to 8 bits, luma with a border of ``scale`` pixels shaved; the card lists the
images where the model does not beat bicubic).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

import core
from core.backends.cpu import processor_name
from core.common.arrays import as_hwc, like_input
from core.methods.learned import corrected_bicubic, tiled_correction
from training.data import (
    CONTENT,
    HELD_OUT_IMAGES,
    SMOOTH_FIELDS,
    SOFT_SIGMAS,
    TRAINING_IMAGES,
    Scores,
    held_out_scores,
    source,
    training_images,
    training_pair,
)
from training.models import build

FAMILY_NAMES = {"espcn": "ESPCN (sub-pixel convolution)", "fsrcnn": "FSRCNN (learned transposed convolution)"}
SEED = 2026
PATCH = 32  # low-resolution patch side
BATCH = 32
DEFAULT_STEPS = 3000
#: The share of training patches reduced in 16 bits; the others are reduced in 8 bits.
BITS_16_SHARE = 0.25
#: The share of training patches drawn from each kind of `training.data.training_images`.
SHARES = {"photographs": 0.5, "soft": 0.25, "smooth": 0.25}
#: The variance of rounding to 8 bits, ``(1/255)^2 / 12``: the floor of each patch's MSE in the loss.
ROUNDING_VARIANCE = (1 / 255) ** 2 / 12
MODELS_DIR = Path(__file__).resolve().parents[1] / "resources" / "models"
DEGRADATION = (
    "core.downsample(..., 'bicubic-aa') of the image cropped to a multiple of the scale, in the dtype the app "
    f"would hold it in: 8 bits for {1 - BITS_16_SHARE:.0%} of the training patches, 16 bits for {BITS_16_SHARE:.0%}"
)
TRAINING_NOTE = (
    f"patches drawn {SHARES['photographs']:.0%} from the photographs, {SHARES['soft']:.0%} from them blurred "
    f"(Gaussian sigma drawn from {', '.join(f'{a}-{b}' for a, b in SOFT_SIGMAS)} pixels) and {SHARES['smooth']:.0%} "
    f"from {SMOOTH_FIELDS} smooth synthetic fields; the target is the image before rounding (the photographs' own "
    "8-bit values); loss: mean over patches of log10(MSE + (1/255)^2/12)"
)


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
        kinds = list(SHARES)
        pairs = {kind: [{bits: training_pair(image, scale, bits) for bits in (8, 16)} for _, image in images]
                 for kind, images in training_images(SEED).items()}
        shares = np.array([SHARES[kind] for kind in kinds])
        rng = np.random.default_rng(SEED)
        net = build(family, scale)
        optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
        schedule = torch.optim.lr_scheduler.MultiStepLR(optimiser, [int(steps * 0.7), int(steps * 0.9)], 0.3)
        started = time.perf_counter()
        for step in range(steps):
            lows, highs = [], []
            for _ in range(BATCH):
                of_kind = pairs[kinds[rng.choice(len(kinds), p=shares)]]
                by_bits = of_kind[rng.integers(len(of_kind))]
                hr, lr = by_bits[16 if rng.random() < BITS_16_SHARE else 8]
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
            error = (net(low_t) - (high_t - bicubic(low_t, scale))) ** 2
            loss = torch.log10(error.mean(dim=(1, 2, 3)) + ROUNDING_VARIANCE).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            if log_every and (step + 1) % log_every == 0:
                print(f"  {family} x{scale} step {step + 1}/{steps}: loss {loss.item():.4f}", flush=True)
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


def through_the_app(onnx_path: Path, scale: int) -> Callable[[np.ndarray], np.ndarray]:
    """``lr -> hr`` as ``core.upsample(lr, <model>, scale=scale)`` computes it, with the
    ONNX file at ``onnx_path`` in place of the shipped one: OpenCV's DNN on the tiled
    luma, added to the app's bicubic, rounded to ``lr``'s dtype."""
    net = cv2.dnn.readNetFromONNX(str(onnx_path))

    def upsample(lr: np.ndarray) -> np.ndarray:
        hwc = as_hwc(lr)
        size = (hwc.shape[0] * scale, hwc.shape[1] * scale)
        return like_input(corrected_bicubic(hwc, size, lambda luma: tiled_correction(net, luma, scale)), lr)

    return upsample


def card(family: str, scale: int, net: torch.nn.Module, steps: int, minutes: float, threads: int,
         onnx_path: Path, scores: dict[str, Scores]) -> dict:
    mean = {key: float(np.mean([getattr(s, key) for s in scores.values()]))
            for key in ("psnr", "ssim", "bicubic_psnr", "bicubic_ssim")}
    return {
        "id": family,
        "scale": scale,
        "architecture": FAMILY_NAMES[family],
        "layers": str(net.export_form()),
        "parameters": sum(p.numel() for p in net.parameters()),
        "input": "luma (BT.601, MATLAB rgb2ycbcr) in [0, 1] of the image's own 8-bit, 16-bit or float values, "
                 "shape (1, 1, h, w)",
        "output": "correction added to bicubic (a = -0.75) upsampling of the same luma, shape (1, 1, h*s, w*s)",
        "training_images": [source(name) for name in TRAINING_IMAGES],
        "training_content": {kind: [what for what, _ in images] for kind, images in training_images(SEED).items()},
        "training_note": TRAINING_NOTE,
        "held_out_images": [source(name) for name in HELD_OUT_IMAGES],
        "degradation": DEGRADATION,
        "measured": "through the app's path: the 8-bit held-out image reduced by core.downsample(..., 'bicubic-aa'), "
                    "enlarged by core.upsample to 8 bits, core.compute_metrics(convention='paper', shave=scale): "
                    "luma in [0, 1], a border of scale pixels shaved",
        "steps": steps,
        "batch": BATCH,
        "patch": PATCH,
        "seed": SEED,
        "threads": threads,
        "cpu": processor_name(),
        "torch": torch.__version__,
        "minutes": round(minutes, 2),
        "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "held_out": {key: round(value, 4) for key, value in mean.items()},
        "psnr_gain_db": round(mean["psnr"] - mean["bicubic_psnr"], 3),
        "ssim_gain": round(mean["ssim"] - mean["bicubic_ssim"], 4),
        "held_out_per_image": {
            name: {"content": CONTENT[name], "psnr": round(s.psnr, 4), "ssim": round(s.ssim, 4),
                   "bicubic_psnr": round(s.bicubic_psnr, 4), "bicubic_ssim": round(s.bicubic_ssim, 4),
                   "psnr_gain_db": round(s.psnr_gain, 3), "ssim_gain": round(s.ssim_gain, 4)}
            for name, s in scores.items()
        },
        "no_psnr_gain_on": [name for name, s in scores.items() if round(s.psnr_gain, 3) <= 0],
        "no_ssim_gain_on": [name for name, s in scores.items() if round(s.ssim_gain, 4) <= 0],
    }


def make(family: str, scale: int, steps: int, out: Path, threads: int) -> dict:
    """Train, export and measure one model; returns its card (also written to ``out``)."""
    out.mkdir(parents=True, exist_ok=True)
    net, minutes = train(family, scale, steps, threads)
    onnx_path = out / f"{family}_x{scale}.onnx"
    export_onnx(net, onnx_path)
    scores = held_out_scores(through_the_app(onnx_path, scale), scale)
    summary = card(family, scale, net, steps, minutes, threads, onnx_path, scores)
    (out / f"{family}_x{scale}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{family} x{scale}: {minutes:.1f} min, held-out PSNR {summary['held_out']['psnr']:.3f} dB "
          f"(bicubic {summary['held_out']['bicubic_psnr']:.3f}, gain {summary['psnr_gain_db']:+.3f}), "
          f"SSIM gain {summary['ssim_gain']:+.4f}", flush=True)
    for name, s in scores.items():
        print(f"  {name:22s} {s.psnr_gain:+.3f} dB  SSIM {s.ssim_gain:+.4f}  (bicubic {s.bicubic_psnr:.3f} dB)", flush=True)
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
