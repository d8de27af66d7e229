"""How an image's energy is spread over spatial frequencies: the 2-D spectrum, its
radial profile, and the checkerboard score of an upsampled image
(docs/METHODS.md#spectrum, docs/METHODS.md#checkerboard).

All three look at the same thing: the luma of the image (BT.601 weights on R, G and B
scaled to [0, 1]; grey images as they are; alpha ignored), its mean taken out, times a
2-D Hann window (so the image's edges, where the periodic extension of the FFT jumps, do
not smear energy along the axes), through OpenCV's DFT in float32.
"""

from __future__ import annotations

import math
from fractions import Fraction

import cv2
import numpy as np

from core.common.arrays import as_hwc, data_range
from core.common.errors import ParameterError

#: Luma weights of R, G and B (BT.601), as the paper convention's Y without its offset.
_LUMA = np.array([0.299, 0.587, 0.114])
#: The checkerboard score counts the energy within this many cycles per pixel of each
#: frequency of the upsampling grid (a square of side 2x this around it).
GRID_REACH = 1 / 128
#: Grid periods longer than this many output pixels (scales like x2.53) are not looked
#: for: their harmonics would cover the spectrum.
LONGEST_GRID_PERIOD = 16


def windowed_luma(image: np.ndarray) -> np.ndarray:
    """The ``(H, W)`` float32 signal the spectrum is taken of: luma in [0, 1], its mean
    subtracted, times a separable Hann window. Float images are read in float64, and a
    signal beyond 1e30 (float data near float32's limit) is divided by its largest
    magnitude, which leaves every share of energy (the checkerboard score) as it was."""
    hwc = as_hwc(image)
    work = np.dtype(np.float64 if hwc.dtype.kind == "f" else np.float32)
    unit: np.ndarray = hwc.astype(work)
    scale = 1.0 / data_range(hwc.dtype)
    if hwc.shape[2] >= 3:
        weights = (_LUMA * scale).astype(work)
        grey = cv2.transform(np.ascontiguousarray(unit[:, :, :3]), weights[None, :]).reshape(hwc.shape[:2])
    else:
        grey = unit[:, :, 0] * scale
    if not all(math.isfinite(v) for v in cv2.sumElems(grey)):
        raise ParameterError("the spectrum needs finite values; the image holds NaN or infinity")
    grey = grey - cv2.mean(grey)[0]
    largest = float(np.abs(grey).max()) if grey.size else 0.0
    if largest > 1e30:
        grey /= largest
    grey = grey.astype(np.float32, copy=False)
    height, width = hwc.shape[:2]
    grey *= _hann(height)[:, None]
    grey *= _hann(width)[None, :]
    return grey


def _hann(n: int) -> np.ndarray:
    return np.hanning(n).astype(np.float32) if n > 1 else np.ones(1, np.float32)


def _power(image: np.ndarray) -> np.ndarray:
    """``|FFT|^2`` of `windowed_luma`, uncentred (zero frequency at ``(0, 0)``), ``(H, W)``
    float32. OpenCV's DFT: about 60 ms at 2048x2048, seven times NumPy's."""
    transform = cv2.dft(windowed_luma(image), flags=cv2.DFT_COMPLEX_OUTPUT)
    magnitude = cv2.magnitude(transform[:, :, 0], transform[:, :, 1])
    return cv2.multiply(magnitude, magnitude)


def power_spectrum(image: np.ndarray) -> np.ndarray:
    """``|FFT|^2`` of `windowed_luma`, centred (zero frequency at ``(H // 2, W // 2)``),
    ``(H, W)`` float32. Row ``i`` is the vertical frequency ``(i - H // 2) / H`` cycles
    per pixel, column ``j`` the horizontal one ``(j - W // 2) / W``."""
    return np.fft.fftshift(_power(image))


def spectrum(image: np.ndarray) -> np.ndarray:
    """The centred log-magnitude spectrum of ``image``: ``log10(|F| + 1e-9)`` of the FFT
    ``F`` of its windowed luma (see `power_spectrum` for where each frequency lies),
    ``(H, W)`` float32. The floor keeps a flat image finite (-9 where nothing is)."""
    power = power_spectrum(image).astype(np.float64)
    return (0.5 * np.log10(power + 1e-18)).astype(np.float32)


def frequencies(n: int) -> np.ndarray:
    """The frequency, in cycles per pixel, of each row (or column) of a centred spectrum
    of ``n`` samples: ``(i - n // 2) / n``."""
    return (np.arange(n) - n // 2) / n


def radial_profile(image: np.ndarray, bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The mean power of ``image``'s spectrum in rings of equal frequency.

    Returns ``(frequency, power)``: ``bins`` ring centres from 0 to 0.5 cycles per pixel
    (the Nyquist frequency; the corners beyond it are left out), default half the
    shorter side, and the mean of `power_spectrum` over each ring (normalised by the
    number of pixels, so images of different sizes compare). Rings no frequency falls in
    are NaN."""
    power = power_spectrum(image)
    height, width = power.shape
    count = bins if bins is not None else max(1, min(height, width) // 2)
    if count < 1:
        raise ParameterError(f"radial_profile needs at least one ring; got bins={bins}")
    fy, fx = frequencies(height)[:, None], frequencies(width)[None, :]
    radius = np.hypot(fy, fx)
    ring = np.floor(radius / 0.5 * count).astype(np.int64)
    inside = ring < count
    sums = np.bincount(ring[inside], weights=power[inside], minlength=count)
    counts = np.bincount(ring[inside], minlength=count)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts / (height * width)
    centres = (np.arange(count) + 0.5) * (0.5 / count)
    return centres, np.where(counts > 0, mean, np.nan)


def grid_period(scale: float) -> int:
    """The period, in output pixels, of the pattern an upsampling by ``scale`` lays on
    the output: ``p`` for ``scale = p / q`` in lowest terms (2 for x2, 5 for x2.5); 1
    for a scale that is not a ratio of small numbers (no period to look for)."""
    if not math.isfinite(scale) or scale <= 0:
        raise ParameterError(f"scale must be a positive number; got {scale}")
    fraction = Fraction(scale).limit_denominator(LONGEST_GRID_PERIOD)
    if abs(float(fraction) - scale) > 1e-9 or fraction.numerator > LONGEST_GRID_PERIOD:
        return 1
    return fraction.numerator


def grid_energy(power: np.ndarray, scale: tuple[float, float]) -> float:
    """The share of ``power``'s energy (uncentred, as `_power` makes it; zero frequency
    left out) within `GRID_REACH` of the frequencies of the upsampling grid:
    ``(a / p_y, b / p_x)`` for whole ``a``, ``b`` not both zero, ``p`` the `grid_period`
    of each axis's scale. The set is a union of blocks of rows by columns, so it is
    summed block by block without a mask of the whole spectrum."""
    height, width = power.shape
    fy, fx = np.abs(np.fft.fftfreq(height)), np.abs(np.fft.fftfreq(width))
    py, px = grid_period(scale[0]), grid_period(scale[1])
    rows_any = np.flatnonzero(_near_harmonics(fy, py, skip_zero=False))
    cols_any = np.flatnonzero(_near_harmonics(fx, px, skip_zero=False))
    rows_zero = np.flatnonzero(_near_harmonics(fy, py, skip_zero=False) & ~_near_harmonics(fy, py))
    cols_zero = np.flatnonzero(_near_harmonics(fx, px, skip_zero=False) & ~_near_harmonics(fx, px))
    total = float(cv2.sumElems(power)[0]) - float(power[0, 0])
    if total <= 0:
        return 0.0
    near = float(power[np.ix_(rows_any, cols_any)].sum(dtype=np.float64))
    near -= float(power[np.ix_(rows_zero, cols_zero)].sum(dtype=np.float64))  # near zero on both axes: no grid
    return near / total


def _near_harmonics(f: np.ndarray, period: int, *, skip_zero: bool = True) -> np.ndarray:
    """Which of the frequencies ``f`` (magnitudes, cycles per pixel) lie within
    `GRID_REACH` of a multiple of ``1 / period`` (zero among them unless ``skip_zero``)."""
    near = np.zeros(f.shape, bool)
    for a in range(0 if not skip_zero else 1, period // 2 + 1):
        near |= np.abs(f - a / period) <= GRID_REACH
    return near


def grid_share(image: np.ndarray, scale: float | tuple[float, float]) -> float:
    """The share of ``image``'s spectral energy at the frequencies of the grid of an
    upsampling by ``scale`` (`grid_energy` of its power spectrum), 0 to 1."""
    factors = (float(scale[0]), float(scale[1])) if isinstance(scale, (tuple, list)) else (float(scale), float(scale))
    return grid_energy(_power(image), factors)


def checkerboard_score(
    result: np.ndarray, scale: float | tuple[float, float], reference: np.ndarray | None = None,
    *, reference_share: float | None = None,
) -> float:
    """How much of ``result``'s energy sits at the frequencies of its upsampling grid,
    beyond what ``reference`` has there (docs/METHODS.md#checkerboard).

    ``scale`` is the upsampling factor (one number, or ``(y, x)``); the grid's
    frequencies are the multiples of ``1 / p`` cycles per pixel on each axis and their
    combinations, ``p`` the `grid_period` (2 at x2, 4 at x4). The score is the share of
    the result's spectral energy within `GRID_REACH` of them, minus the same share of
    ``reference`` (the ground truth, same size; none: 0), in percent: tens of percent
    for a transposed convolution with uneven overlap on a photograph, about zero for
    interpolation (negative: less there than the reference). ``reference_share`` (the
    reference's `grid_share`, made once for many results) stands in for ``reference``.
    """
    share = grid_share(result, scale)
    if reference_share is not None:
        share -= reference_share
    elif reference is not None:
        ref, res = as_hwc(reference), as_hwc(result)
        if ref.shape[:2] != res.shape[:2]:
            raise ParameterError(
                f"the reference is {ref.shape[1]}x{ref.shape[0]} and the result {res.shape[1]}x{res.shape[0]}; "
                "the checkerboard score compares them at one size"
            )
        share -= grid_share(reference, scale)
    return share * 100.0
