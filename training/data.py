"""The data of the learned upsamplers: the training and held-out images, their
anti-aliased bicubic reductions at 8 and 16 bits, and the held-out measurement through the
app's own path (no PyTorch needed).

A model is given what the app gives it: the luma (`core.methods.learned.model_input`) of
the image reduced with ``core.downsample(..., "bicubic-aa")`` *in the image's own dtype*,
so for an 8-bit image the model sees 8-bit steps. Held-out images are 8-bit arrays as the
app would open them; training images are stored in 8 or 16 bits (`training_pair`).

Training sees three kinds of content (`training_images`): the sample photographs, each of
them also softened twice (a Gaussian blur, as in over-sampled microscopy or a defocused
photograph, whose truth holds no detail to restore), and smooth synthetic fields. Trained
on sharp photographs alone, a network sharpens everything, and on soft 8-bit content it
turns one-level steps and faint texture into false detail (2 dB below bicubic on
``skimage.data.cell``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

import core
from core.methods.learned import model_input

TRAINING_IMAGES = ("astronaut", "chelsea", "rocket", "camera", "moon", "stereo_motorcycle")
#: Each training photograph is also used blurred with a Gaussian of a sigma (high-resolution
#: pixels) drawn from each of these ranges.
SOFT_SIGMAS = ((1.0, 2.5), (2.5, 6.0))
SMOOTH_FIELDS = 12
SMOOTH_FIELD_SIZE = 384
#: Photographs, microscopy (grey phase contrast and colour bright field), rendered text
#: and a smooth synthetic gradient: none of them is seen in training.
HELD_OUT_IMAGES = ("coffee", "coins", "clock", "cell", "immunohistochemistry", "fine-text", "gradient")
#: What each held-out image is, as cards and method descriptions name it.
CONTENT = {
    "coffee": "photograph", "coins": "photograph", "clock": "photograph",
    "cell": "smooth grey microscopy", "immunohistochemistry": "colour microscopy",
    "fine-text": "rendered text", "gradient": "smooth gradient",
}
GRADIENT_SIZE = 512
CHART_SIZE = 512
_SYNTHETIC = {
    "fine-text": f"core.make_chart('fine-text', {CHART_SIZE}), one channel",
    "gradient": f"training.data.smooth_gradient({GRADIENT_SIZE})",
}


def source(name: str) -> str:
    """Where the image ``name`` comes from, as a card names it."""
    return _SYNTHETIC.get(name, f"skimage.data.{name}")


def smooth_gradient(size: int) -> np.ndarray:
    """A smooth grey ``(size, size)`` uint8 image: a diagonal ramp from about 38 to 217
    with a gentle wave on it, nothing sharper than a few hundred pixels. In 8 bits it is a
    staircase of wide flat steps, the content on which sharpening models do harm."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1.0)
    level = 0.15 + 0.7 * (0.5 * x + 0.3 * y + 0.2 * np.sin(3 * x) * np.cos(2 * y))
    return np.rint(level * 255).astype(np.uint8)


def sample_image(name: str) -> np.ndarray:
    """The 8-bit image ``name`` of `TRAINING_IMAGES` or `HELD_OUT_IMAGES`: a scikit-image
    sample (the left view of a stereo pair), ``(H, W)`` grey or ``(H, W, 3)`` RGB."""
    if name == "fine-text":
        return np.ascontiguousarray(core.make_chart("fine-text", CHART_SIZE)[:, :, 0])
    if name == "gradient":
        return smooth_gradient(GRADIENT_SIZE)
    import skimage.data

    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):
        image = image[0]
    return np.ascontiguousarray(image)


def smooth_field(rng: np.random.Generator, size: int = SMOOTH_FIELD_SIZE) -> np.ndarray:
    """A random smooth grey ``(size, size)`` float32 field in 8-bit units, not rounded:
    white noise on a grid of 6 to 192 pixels enlarged by bicubic (from faint texture to a
    slow ramp), spanning a random 5 to 90 levels somewhere between 13 and 242. Rounded to 8
    bits, few of its steps are more than one level, as in cell microscopy or a sky."""
    cell = int(rng.choice([6, 12, 24, 48, 96, 192]))
    noise = rng.standard_normal((size // cell + 4, size // cell + 4)).astype(np.float32)
    field = core.upsample(noise, "bicubic", scale=cell)[2 * cell:2 * cell + size, 2 * cell:2 * cell + size]
    field = (field - field.min()) / (field.max() - field.min())
    low = rng.uniform(0.05, 0.6)
    high = low + rng.uniform(0.02, 0.35)
    return ((low + (high - low) * field) * 255).astype(np.float32)


def soften(image: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` blurred by a Gaussian of ``sigma`` pixels, float32 in its units, not rounded."""
    return cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigma)


def training_images(seed: int) -> dict[str, list[tuple[str, np.ndarray]]]:
    """The training images by kind, each as ``(what, truth)``, ``truth`` float32 in 8-bit
    units before any rounding: ``"photographs"`` (`TRAINING_IMAGES`, their 8-bit values),
    ``"soft"`` (each photograph softened once per range of `SOFT_SIGMAS`) and ``"smooth"``
    (`SMOOTH_FIELDS` smooth fields), all drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    photographs = [(source(name), sample_image(name).astype(np.float32)) for name in TRAINING_IMAGES]
    soft = []
    for low, high in SOFT_SIGMAS:
        for what, image in photographs:
            sigma = float(rng.uniform(low, high))
            soft.append((f"{what} blurred (sigma {sigma:.2f})", soften(image, sigma)))
    fields = [(f"training.data.smooth_field (#{i + 1} of seed {seed})", smooth_field(rng)) for i in range(SMOOTH_FIELDS)]
    return {"photographs": photographs, "soft": soft, "smooth": fields}


def training_pair(truth: np.ndarray, scale: int, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``(hr, lr)`` float32 luma (`model_input`) of ``truth`` (float32, 8-bit units)
    cropped to a multiple of ``scale``, and of what the app reduces when it opens that
    image stored in ``bits`` (8 or 16) bits: the rounded image, reduced by anti-aliased
    bicubic in the same dtype.

    The target is the truth before rounding: a network trained against an 8-bit target
    learns to draw 8-bit staircases it cannot place, and on a smooth gradient that costs
    more than bicubic's error (0.6 dB at x3)."""
    hr = core.crop_to_multiple(truth, scale)
    peak, dtype = (255, np.uint8) if bits == 8 else (65535, np.uint16)
    stored = np.rint(hr * np.float32(peak / 255)).clip(0, peak).astype(dtype)
    lr, _ = core.downsample(stored, scale, "bicubic-aa")
    return model_input(hr * np.float32(1 / 255)), model_input(lr)


@dataclass(frozen=True)
class Scores:
    """Luma PSNR (dB) and SSIM of a model and of bicubic on one held-out image."""

    psnr: float
    ssim: float
    bicubic_psnr: float
    bicubic_ssim: float

    @property
    def psnr_gain(self) -> float:
        return self.psnr - self.bicubic_psnr

    @property
    def ssim_gain(self) -> float:
        return self.ssim - self.bicubic_ssim


def held_out_scores(upsample: Callable[[np.ndarray], np.ndarray], scale: int) -> dict[str, Scores]:
    """Per held-out image, the scores of ``upsample(lr) -> hr`` and of bicubic through the
    app's path: the 8-bit image cropped to a multiple of ``scale``, reduced with
    ``core.downsample(..., "bicubic-aa")`` to an 8-bit ``lr``, enlarged back to 8 bits,
    and measured by ``core.compute_metrics(..., convention="paper", shave=scale)`` (luma
    in [0, 1], ``scale`` pixels of border shaved)."""
    scores = {}
    for name in HELD_OUT_IMAGES:
        hr = core.crop_to_multiple(sample_image(name), scale)
        lr, _ = core.downsample(hr, scale, "bicubic-aa")
        base = core.compute_metrics(hr, core.upsample(lr, "bicubic", scale=scale), convention="paper", shave=scale)
        ours = core.compute_metrics(hr, upsample(lr), convention="paper", shave=scale)
        assert ours.ssim is not None and base.ssim is not None  # every held-out image is far larger than 11x11
        scores[name] = Scores(ours.psnr, ours.ssim, base.psnr, base.ssim)
    return scores
