"""Learned upsamplers: inference time per megapixel against bicubic, and their gain.

    python3 bench/bench_learned.py [--out docs/BENCHMARKS.md]

For each shipped model and scale, a 512x512 RGB uint8 input is upsampled through
`core.upsample` (OpenCV's DNN module, tiled) and timed (median of 3 after a warm-up);
bicubic on the same input is the anchor. Time is given per output megapixel. The gain is
luma PSNR/SSIM over bicubic on the held-out images (photographs, microscopy, text, a
smooth gradient), measured again here with the shipped ONNX files through the app's path
(8-bit image, `core.downsample`, `core.upsample`), as the mean and per image.
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
from training.data import HELD_OUT_IMAGES, Scores, held_out_scores


def mean(scores: dict[str, Scores], key: str) -> float:
    return sum(getattr(s, key) for s in scores.values()) / len(scores)


def run() -> str:
    image = test_image(512)
    lines = [
        "## Learned upsamplers",
        "",
        f"Machine: {machine()}. `python3 bench/bench_learned.py`.",
        "",
        "A 512x512 RGB uint8 input; time per output megapixel (median of 3), through `core.upsample` "
        "(OpenCV DNN on the CPU, 256x256 tiles). Gain: luma PSNR and SSIM over bicubic on the held-out "
        f"images ({', '.join(HELD_OUT_IMAGES)}), through the app's path (8-bit image, `core.downsample` "
        "bicubic-aa, `core.upsample` to 8 bits), border of s pixels shaved, measured with the shipped files: "
        "the mean, then each image.",
        "No GPU was available for this run; the models were not timed on one.",
        "",
        "| model | scale | ms per MP | bicubic ms per MP | vs bicubic | PSNR (dB) | bicubic PSNR | gain (dB) | SSIM gain "
        "| parameters | trained (min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    per_image: dict[tuple[str, int], dict[str, Scores]] = {}
    for family in ("espcn", "fsrcnn"):
        for scale in SCALES:
            megapixels = (512 * scale) ** 2 / 1e6
            ours = median_time(lambda: core.upsample(image, family, scale=scale), 3)
            anchor = median_time(lambda: core.upsample(image, "bicubic", scale=scale), 3)
            scores = per_image[family, scale] = held_out_scores(lambda lr: core.upsample(lr, family, scale=scale), scale)
            card = model_card(family, scale)
            lines.append(
                f"| {family} | x{scale} | {ours * 1000 / megapixels:.0f} | {anchor * 1000 / megapixels:.1f} | "
                f"{ours / anchor:.0f}x | {mean(scores, 'psnr'):.3f} | {mean(scores, 'bicubic_psnr'):.3f} | "
                f"{mean(scores, 'psnr_gain'):+.3f} | {mean(scores, 'ssim_gain'):+.4f} | "
                f"{card['parameters']:,} | {card['minutes']:.1f} |"
            )
            print(lines[-1], flush=True)
    lines += ["", "PSNR gain over bicubic (dB) per held-out image; bicubic's own PSNR in brackets.", "",
              "| image | " + " | ".join(f"{family} x{scale}" for family, scale in per_image) + " |",
              "|---|" + "---:|" * len(per_image)]
    for name in HELD_OUT_IMAGES:
        cells = [f"{s[name].psnr_gain:+.2f} ({s[name].bicubic_psnr:.1f})" for s in per_image.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    run_benchmark(__doc__, "learned", run)


if __name__ == "__main__":
    main()
