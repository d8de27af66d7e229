"""Learned upsamplers: inference time per megapixel against bicubic, and their gain.

    python3 bench/bench_learned.py [--out docs/BENCHMARKS.md]

For each shipped model and scale, a 512x512 RGB uint8 input is upsampled through
`core.upsample` (OpenCV's DNN module, tiled) and timed (median of 3 after a warm-up);
bicubic on the same input is the anchor. Time is given per output megapixel. The gain is
luma PSNR/SSIM over bicubic on the held-out photographs, measured again here with the
shipped ONNX files.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import core
from bench._report import run_benchmark
from bench.bench_backends import test_image
from bench.bench_core import machine, median_time
from core.methods.learned import SCALES, model_card
from training.data import HELD_OUT_IMAGES, held_out_scores


def run() -> str:
    image = test_image(512)
    lines = [
        "## Learned upsamplers",
        "",
        f"Machine: {machine()}. `python3 bench/bench_learned.py`.",
        "",
        "A 512x512 RGB uint8 input; time per output megapixel (median of 3), through `core.upsample` "
        "(OpenCV DNN on the CPU, 256x256 tiles). Gain: luma PSNR and SSIM over bicubic on the held-out "
        f"photographs ({', '.join(HELD_OUT_IMAGES)}), border of s pixels shaved, measured with the shipped files.",
        "No GPU was available for this run; the models were not timed on one.",
        "",
        "| model | scale | ms per MP | bicubic ms per MP | vs bicubic | PSNR (dB) | bicubic PSNR | gain (dB) | SSIM gain "
        "| parameters | trained (min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for family in ("espcn", "fsrcnn"):
        for scale in SCALES:
            megapixels = (512 * scale) ** 2 / 1e6
            ours = median_time(lambda: core.upsample(image, family, scale=scale), 3)
            anchor = median_time(lambda: core.upsample(image, "bicubic", scale=scale), 3)
            scores = held_out_scores(lambda lr: core.upsample(lr, family, scale=scale), scale)
            card = model_card(family, scale)
            lines.append(
                f"| {family} | x{scale} | {ours * 1000 / megapixels:.0f} | {anchor * 1000 / megapixels:.1f} | "
                f"{ours / anchor:.0f}x | {scores['psnr']:.3f} | {scores['bicubic_psnr']:.3f} | "
                f"{scores['psnr'] - scores['bicubic_psnr']:+.3f} | {scores['ssim'] - scores['bicubic_ssim']:+.4f} | "
                f"{card['parameters']:,} | {card['minutes']:.1f} |"
            )
            print(lines[-1], flush=True)
    return "\n".join(lines)


def main() -> None:
    run_benchmark(__doc__, "learned", run)


if __name__ == "__main__":
    main()
