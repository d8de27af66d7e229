"""Image-quality metrics and difference maps, as METHODS.md defines them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from ._arrays import as_hwc, data_range as default_range, size_text
from ._errors import ParameterError

Convention = Literal["all", "paper"]
DiffKind = Literal["signed", "abs", "squared"]

# SSIM constants of Wang et al. 2004, as scikit-image uses them with gaussian_weights=True.
_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5  # int(3.5 * sigma + 0.5): an 11x11 window
_SSIM_K1, _SSIM_K2 = 0.01, 0.03

# ITU-R BT.601 luma as MATLAB's rgb2ycbcr computes it, for RGB in [0, 1]: Y in [16, 235]/255.
_LUMA_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0
_LUMA_OFFSET = 16.0 / 255.0


@dataclass(frozen=True)
class Metrics:
    """The numbers of one comparison; errors are in the compared image's own units.

    ``psnr`` is ``inf`` for identical images; ``ssim`` is None when the image is smaller
    than SSIM's 11x11 window. ``convention`` says which pixels were measured: ``"all"``
    (every pixel and channel) or ``"paper"`` (luma, border of ``shave`` pixels removed,
    units of the [0, 1] range).
    """

    mse: float
    mae: float
    max_abs: float
    psnr: float
    ssim: float | None
    convention: Convention = "all"
    shave: int = 0


def check_convention(convention: str) -> None:
    """Raise `ParameterError` unless ``convention`` is ``"all"`` or ``"paper"``."""
    if convention not in ("all", "paper"):
        raise ParameterError(f"convention must be 'all' or 'paper'; got {convention!r}")


def check_diff_kind(kind: str) -> None:
    """Raise `ParameterError` unless ``kind`` is ``"signed"``, ``"abs"`` or ``"squared"``."""
    if kind not in ("signed", "abs", "squared"):
        raise ParameterError(f"difference kind must be 'signed', 'abs' or 'squared'; got {kind!r}")


def _pair(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref, tst = as_hwc(reference, "reference"), as_hwc(test, "test image")
    if ref.shape != tst.shape:
        raise ParameterError(f"cannot compare images of shapes {reference.shape} and {test.shape}")
    return ref, tst


def _range(reference: np.ndarray, given: float | None) -> float:
    if given is None:
        return default_range(reference.dtype)
    if not (isinstance(given, (int, float)) and math.isfinite(given) and given > 0):
        raise ParameterError(f"data_range must be a positive number; got {given!r}")
    return float(given)


def mse(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean squared error over all pixels and channels, in the images' units squared."""
    ref, tst = _pair(reference, test)
    return float(np.mean(np.square(tst.astype(np.float64) - ref)))


def mae(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean absolute error over all pixels and channels."""
    ref, tst = _pair(reference, test)
    return float(np.mean(np.abs(tst.astype(np.float64) - ref)))


def max_abs_error(reference: np.ndarray, test: np.ndarray) -> float:
    """Largest absolute difference over all pixels and channels."""
    ref, tst = _pair(reference, test)
    return float(np.max(np.abs(tst.astype(np.float64) - ref)))


def psnr(reference: np.ndarray, test: np.ndarray, *, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio ``10 log10(R^2 / MSE)`` in dB.

    ``R`` defaults to 255 (uint8), 65535 (uint16) or 1.0 (float). Identical images give
    ``inf``. Matches ``skimage.metrics.peak_signal_noise_ratio``.
    """
    peak = _range(reference, data_range)
    error = mse(reference, test)
    return math.inf if error == 0 else 10.0 * math.log10(peak * peak / error)


def ssim(reference: np.ndarray, test: np.ndarray, *, data_range: float | None = None) -> float:
    """Structural similarity (Wang et al. 2004), mean over channels.

    Gaussian window sigma 1.5 (11x11), K1 = 0.01, K2 = 0.03, population covariance; the
    map's 5-pixel border is left out of the mean. Matches
    ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=R, channel_axis=-1)`` to 1e-4, computed with
    OpenCV's separable Gaussian blur in float32 for speed.

    Raises `ParameterError` for images smaller than 11x11.
    """
    ref, tst = _pair(reference, test)
    window = 2 * _SSIM_RADIUS + 1
    if ref.shape[0] < window or ref.shape[1] < window:
        raise ParameterError(f"SSIM needs at least {window}x{window} pixels; the images are {size_text(*ref.shape[:2])}")
    peak = _range(reference, data_range)
    # float32 halves the memory traffic of float64. Centring both images on one common
    # value keeps E[x^2] - E[x]^2 from cancelling catastrophically (measured: 2e-6 from
    # scikit-image's float64, against 6e-5 uncentred).
    centre = np.float32(ref.mean(dtype=np.float64) / peak)
    x = _unit_centred(ref, peak, centre)
    y = _unit_centred(tst, peak, centre)

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (window, window), _SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov = blur(x * y) - mu_x * mu_y
    mu_x += centre
    mu_y += centre
    c1, c2 = _SSIM_K1**2, _SSIM_K2**2  # the data range is 1 after scaling
    numerator = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    ssim_map = numerator / denominator
    r = _SSIM_RADIUS
    return float(ssim_map[r:-r, r:-r].mean(dtype=np.float64))


def _unit_centred(image: np.ndarray, peak: float, centre: np.float32) -> np.ndarray:
    """``image / peak - centre`` in float32, as one new array."""
    out = image.astype(np.float32)
    out *= np.float32(1.0 / peak)
    out -= centre
    return out


def paper_view(image: np.ndarray, shave: int) -> np.ndarray:
    """What super-resolution papers measure: luma in [0, 1] with ``shave`` border pixels cut.

    RGB(A) images become BT.601 luma ``Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255``
    for R, G, B in [0, 1] (MATLAB's ``rgb2ycbcr``; alpha is ignored); grey images keep
    their one channel, scaled to [0, 1]. Returns float64 ``(H - 2 shave, W - 2 shave)``.
    """
    hwc = as_hwc(image)
    unit = hwc.astype(np.float64) / default_range(hwc.dtype)
    luma = unit[:, :, :3] @ _LUMA_WEIGHTS + _LUMA_OFFSET if hwc.shape[2] >= 3 else unit[:, :, 0]
    if shave:
        if 2 * shave >= min(luma.shape):
            raise ParameterError(f"cannot shave {shave} pixels from each side of a {size_text(*luma.shape[:2])} image")
        luma = luma[shave:-shave, shave:-shave]
    return luma


def compute_metrics(
    reference: np.ndarray, test: np.ndarray, *, convention: Convention = "all", shave: int = 0
) -> Metrics:
    """Every metric of ``test`` against ``reference``.

    ``convention="all"`` measures every pixel and channel in the images' own units;
    ``"paper"`` measures `paper_view` of both (luma, ``shave`` pixels of border removed,
    range 1.0). SSIM is None when the measured image is smaller than 11x11.
    """
    check_convention(convention)
    if convention == "paper":
        _pair(reference, test)
        reference, test = paper_view(reference, shave), paper_view(test, shave)
        peak: float | None = 1.0
        reference, test = reference.astype(np.float32), test.astype(np.float32)
    else:
        peak, shave = None, 0
    try:
        structural: float | None = ssim(reference, test, data_range=peak)
    except ParameterError:
        structural = None
    return Metrics(
        mse=mse(reference, test),
        mae=mae(reference, test),
        max_abs=max_abs_error(reference, test),
        psnr=psnr(reference, test, data_range=peak),
        ssim=structural,
        convention=convention,
        shave=shave,
    )


def difference(
    test: np.ndarray, reference: np.ndarray, *, kind: DiffKind = "signed", per_channel: bool = True
) -> np.ndarray:
    """Difference map ``test - reference`` in float32, in the images' own units.

    Parameters
    ----------
    kind:
        ``"signed"`` (``test - reference``), ``"abs"`` or ``"squared"``.
    per_channel:
        True keeps the channels: ``(H, W, C)`` (``(H, W)`` for grey); False averages the
        map over channels: ``(H, W)``.
    """
    check_diff_kind(kind)
    ref, tst = _pair(reference, test)
    signed = tst.astype(np.float32) - ref.astype(np.float32)
    if kind == "signed":
        result = signed
    elif kind == "abs":
        result = np.abs(signed)
    else:
        result = np.square(signed)
    if not per_channel:
        return result.mean(axis=2)
    return result if test.ndim == 3 else result[:, :, 0]
