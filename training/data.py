"""The data of the learned upsamplers: scikit-image's sample photographs as luma, their
anti-aliased bicubic reductions, and the held-out measurement (no PyTorch needed)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import core

TRAINING_IMAGES = ("astronaut", "chelsea", "rocket", "camera", "moon", "stereo_motorcycle")
HELD_OUT_IMAGES = ("coffee", "coins", "clock")


def sample_luma(name: str) -> np.ndarray:
    """A scikit-image sample photograph as float32 luma in [0, 1] (BT.601, MATLAB's
    ``rgb2ycbcr``; the left view of a stereo pair)."""
    import skimage.data

    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):
        image = image[0]
    return core.paper_view(np.ascontiguousarray(image), 0).astype(np.float32)


def pair(luma: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """``(hr, lr)``: ``luma`` cropped to a multiple of ``scale``, and its anti-aliased
    bicubic reduction."""
    hr = core.crop_to_multiple(luma, scale)
    lr, _ = core.downsample(hr, scale, "bicubic-aa")
    return hr, lr


def held_out_scores(upsample: Callable[[np.ndarray], np.ndarray], scale: int) -> dict[str, float]:
    """Mean PSNR (dB) and SSIM over the held-out images of ``upsample(lr) -> hr`` and of
    bicubic, luma with ``scale`` pixels shaved: keys ``psnr``, ``ssim``,
    ``bicubic_psnr``, ``bicubic_ssim``."""
    gains: dict[str, list[float]] = {"psnr": [], "ssim": [], "bicubic_psnr": [], "bicubic_ssim": []}
    for name in HELD_OUT_IMAGES:
        hr, lr = pair(sample_luma(name), scale)
        base = core.upsample(lr, "bicubic", scale=scale)
        for key, image in (("bicubic_", base), ("", upsample(lr))):
            shaved = (hr[scale:-scale, scale:-scale], image[scale:-scale, scale:-scale])
            gains[key + "psnr"].append(core.psnr(*shaved, data_range=1.0))
            gains[key + "ssim"].append(core.ssim(*shaved, data_range=1.0))
    return {key: float(np.mean(values)) for key, values in gains.items()}
