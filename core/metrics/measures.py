"""Image-quality metrics: MSE, MAE, max error, PSNR and SSIM, on all channels or by the
paper convention (docs/METHODS.md#metrics)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from core.common.arrays import as_hwc, size_text
from core.common.arrays import data_range as default_range
from core.common.cancel import check_cancelled
from core.common.colour import luma
from core.common.errors import ParameterError
from core.common.vocabulary import Convention, check_convention

#: SSIM's Gaussian window (docs/METHODS.md#ssim): sigma 1.5, truncated at radius 5
#: (``int(3.5 sigma + 0.5)``, an 11x11 window), and the constants K1 and K2 of Wang et
#: al. 2004, as scikit-image uses them with ``gaussian_weights=True``.
SSIM_SIGMA = 1.5
SSIM_RADIUS = 5
SSIM_K1, SSIM_K2 = 0.01, 0.03


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


def checked_pair(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(reference, test)`` as ``(H, W, C)`` views, checked to be images of one shape and
    one dtype; `ParameterError` names both shapes or both dtypes otherwise (a uint8 black
    and a float32 white are 1 apart in float units but 255 apart in uint8 ones, so no
    common range exists to measure them in)."""
    ref, tst = as_hwc(reference, "reference"), as_hwc(test, "test image")
    if ref.shape != tst.shape:
        raise ParameterError(f"cannot compare images of shapes {reference.shape} and {test.shape}")
    if ref.dtype != tst.dtype:
        raise ParameterError(
            f"cannot compare a {ref.dtype} reference with a {tst.dtype} test image; "
            "convert one of them so both have the same dtype"
        )
    return ref, tst


def _range(dtype: np.dtype, given: object) -> float:
    """The data range R: ``given`` (a positive finite number, NumPy scalars included), or
    the dtype's default when None."""
    if given is None:
        return default_range(dtype)
    number = None
    if not isinstance(given, (bool, np.bool_)) and isinstance(given, (int, float, np.integer, np.floating)):
        try:
            number = float(given)
        except OverflowError:  # a whole number beyond float64's range
            number = None
    if number is None or not (math.isfinite(number) and number > 0):
        raise ParameterError(f"data_range must be a positive finite number; got {_short(given)}")
    return number


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def mse(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean squared error over all pixels and channels, in the images' units squared."""
    return _scan(_Rows(*checked_pair(reference, test))).mse


def mae(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean absolute error over all pixels and channels."""
    return _scan(_Rows(*checked_pair(reference, test))).mae


def max_abs_error(reference: np.ndarray, test: np.ndarray) -> float:
    """Largest absolute difference over all pixels and channels."""
    return _scan(_Rows(*checked_pair(reference, test))).max_abs


def psnr(reference: np.ndarray, test: np.ndarray, *, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio ``10 log10(R^2 / MSE)`` in dB.

    ``R`` defaults to 255 (uint8), 65535 (uint16) or 1.0 (float). Identical images give
    ``inf``. Matches ``skimage.metrics.peak_signal_noise_ratio``.
    """
    rows = _Rows(*checked_pair(reference, test))
    peak = _range(rows.reference.dtype, data_range)
    return _psnr(peak, _scan(rows).mse)


def ssim(reference: np.ndarray, test: np.ndarray, *, data_range: float | None = None) -> float:
    """Structural similarity (Wang et al. 2004), mean over channels, at most 1.

    Gaussian window sigma 1.5 (11x11), K1 = 0.01, K2 = 0.03, population covariance; the
    map's 5-pixel border is left out of the mean. Matches
    ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=R, channel_axis=-1)`` on float64 data to
    1e-4, computed with OpenCV's separable Gaussian blur in float32 for speed (float64
    when the values reach 1e18 data ranges, where float32 squares would overflow). Each
    image is centred on its own mean per channel first, so variances of data far from
    zero do not cancel. It runs in bands of rows (`band_rows`), each read with the
    window's 5 rows of context above and below, so it equals the whole-image computation
    while its working memory stays a few dozen megabytes whatever the image size.

    Raises `ParameterError` for images smaller than 11x11.
    """
    rows = _Rows(*checked_pair(reference, test))
    _check_ssim_size(rows.shape)
    peak = _range(rows.reference.dtype, data_range)
    return _ssim(rows, peak, _scan(rows, errors=False))


def ssim_map(reference: np.ndarray, test: np.ndarray, *, data_range: float | None = None) -> np.ndarray:
    """The local SSIM of ``test`` against ``reference`` at every pixel, averaged over
    channels: ``(H, W)`` float32, at most 1 (docs/METHODS.md#ssim).

    Computed by the code of `ssim` (same window, constants, centring and float32 work),
    band by band. Pixels within 5 of the border use reflected neighbours, as
    scikit-image's ``full=True`` map does; `ssim` leaves them out of its mean, so the
    mean of this map's interior ``[5:-5, 5:-5]`` is the SSIM the metrics give.
    Raises `ParameterError` for images smaller than 11x11."""
    rows = _Rows(*checked_pair(reference, test))
    _check_ssim_size(rows.shape)
    peak = _range(rows.reference.dtype, data_range)
    scan = _scan(rows, errors=False)
    height, width, channels = rows.shape
    magnitude = scan.largest / peak
    if magnitude > SSIM_FLOAT64_LIMIT:
        raise ParameterError(f"SSIM cannot measure values up to {scan.largest:.3g} in units of a data range of {peak:.3g}")
    work = np.dtype(np.float64 if magnitude > SSIM_FLOAT32_LIMIT else np.float32)
    ref_centre, tst_centre = scan.reference_means.astype(work), scan.test_means.astype(work)
    out = np.empty((height, width), np.float32)
    r = SSIM_RADIUS
    step = band_rows(width * channels * work.itemsize, SSIM_BAND_BYTES)
    for top in range(0, height, step):
        check_cancelled()
        bottom = min(top + step, height)
        first, last = max(0, top - r), min(height, bottom + r)  # context rows, or the image's own edge
        ref, tst = rows.take(first, last)
        band = _reference_band(_unit_centred(ref, ref_centre, peak), ref_centre / work.type(peak))
        local = _ssim_map(band, _unit_centred(tst, tst_centre, peak), tst_centre / work.type(peak))
        np.mean(local[top - first:bottom - first], axis=2, out=out[top:bottom], dtype=np.float32)
    np.minimum(out, 1.0, out=out)
    return out


#: Metrics and difference maps work in bands of rows sized so that one float32 working
#: array of a band holds about this many bytes (SSIM keeps about a dozen alive at once).
BAND_BYTES = 8 * 2**20
#: ...and at least this many rows, so the 10 rows of context SSIM reads around a band
#: stay a small part of its work.
MIN_BAND_ROWS = 64


def band_rows(row_bytes: int, band_bytes: int = BAND_BYTES) -> int:
    """Rows per band for rows of ``row_bytes`` bytes (see `BAND_BYTES`)."""
    return max(MIN_BAND_ROWS, band_bytes // max(row_bytes, 1), 1)


class _Rows:
    """Two ``(H, W, C)`` images of one shape as a metric measures them, read a band of
    rows at a time: the arrays themselves, or (``paper``) the float64 BT.601 luma of
    their view with ``shave`` border pixels cut, ``(H - 2 shave, W - 2 shave, 1)``."""

    def __init__(self, reference: np.ndarray, test: np.ndarray, *, paper: bool = False, shave: int = 0) -> None:
        self.reference, self.test, self.paper, self.shave = reference, test, paper, shave
        height, width, channels = reference.shape
        self.shape = (height - 2 * shave, width - 2 * shave, 1) if paper else (height, width, channels)

    def take(self, top: int, bottom: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``top:bottom`` of both images as measured (views where possible)."""
        if not self.paper:
            return self.reference[top:bottom], self.test[top:bottom]
        s, width = self.shave, self.reference.shape[1]
        window = (slice(top + s, bottom + s), slice(s, width - s))
        pair = (self.reference[window], self.test[window])
        return _luma(pair[0])[:, :, None], _luma(pair[1])[:, :, None]


@dataclass(frozen=True)
class _Scan:
    """One pass over two images: the error sums (zero when not asked for), each image's
    mean per channel ``(C,)`` and the largest magnitude of either, in their units."""

    mse: float
    mae: float
    max_abs: float
    reference_means: np.ndarray
    test_means: np.ndarray
    largest: float


def _scan(rows: _Rows, *, errors: bool = True) -> _Scan:
    """The error sums of `mse`, `mae` and `max_abs_error` (with ``errors``), and what
    SSIM needs to know first: each image's channel means and the largest magnitude, in
    one pass of float64 bands."""
    height, width, channels = rows.shape
    squares = absolute = largest_error = largest = 0.0
    sums = np.zeros((2, channels))
    step = band_rows(width * channels * 8)
    for top in range(0, height, step):
        check_cancelled()
        ref, tst = rows.take(top, min(top + step, height))
        for index, block in enumerate((ref, tst)):
            sums[index] += cv2.sumElems(block)[:channels]  # float64 sums, far faster than NumPy's per channel
            if block.dtype.kind == "f":
                low, high, _, _ = cv2.minMaxLoc(block.reshape(block.shape[0], -1))
                largest = max(largest, -low, high)
        if not errors:
            continue
        if not rows.paper and channels <= 4:
            # OpenCV's norms of the difference: exact sums (integers, or float64 for float
            # data) in one pass each, with no float copy of either image.
            squares += cv2.norm(tst, ref, cv2.NORM_L2SQR)
            absolute += cv2.norm(tst, ref, cv2.NORM_L1)
            largest_error = max(largest_error, cv2.norm(tst, ref, cv2.NORM_INF))
            continue
        error = tst.astype(np.float64)
        error -= ref
        flat = error.reshape(-1)
        # Not flat @ flat: BLAS splits a dot product by its thread count, so the last digits
        # would differ between a worker (one thread) and this process.
        squares += cv2.norm(error.reshape(error.shape[0], -1), cv2.NORM_L2SQR)
        np.abs(flat, out=flat)
        absolute += float(flat.sum())
        largest_error = max(largest_error, float(flat.max()))
    count = height * width * channels
    means = sums / (height * width)
    if rows.test.dtype.kind == "u" and not rows.paper:
        largest = float(np.iinfo(rows.test.dtype).max)  # a bound is all SSIM needs
    return _Scan(squares / count, absolute / count, largest_error, means[0], means[1], largest)


def _psnr(peak: float, error: float) -> float:
    """``10 log10(peak^2 / error)``, written so that neither the square of a huge peak nor
    that of a tiny one leaves float64's range."""
    return math.inf if error == 0 else 20.0 * math.log10(peak) - 10.0 * math.log10(error)


def _check_ssim_size(shape: tuple[int, ...]) -> None:
    window = 2 * SSIM_RADIUS + 1
    if shape[0] < window or shape[1] < window:
        raise ParameterError(f"SSIM needs at least {window}x{window} pixels; the images are {size_text(*shape[:2])}")


#: Data (in units of the data range) up to this magnitude is measured by SSIM in
#: float32, whose squares stay far inside float32's range; larger values in float64, up
#: to `SSIM_FLOAT64_LIMIT` (beyond it only a data range that is not a range of the data,
#: such as 1e-300, reaches: refused).
SSIM_FLOAT32_LIMIT = 1e18
SSIM_FLOAT64_LIMIT = 1e150


def _ssim(rows: _Rows, peak: float, scan: _Scan, kept: ReferenceBands | None = None) -> float:
    """Mean SSIM of ``rows`` (at least 11x11), band by band, at most 1. ``scan`` gives
    each image's channel means and the largest magnitude, in their own units. ``kept``
    holds the reference's blurred mean and variance per band from an earlier test image
    of the same comparison (used, and filled, when the work is in float32)."""
    height, width, channels = rows.shape
    r = SSIM_RADIUS
    # Only rows and columns at least r from the border are averaged, so a band of those
    # rows needs r real rows above and below it and never the blur's border rule: the
    # band's result is the whole image's, row for row.
    # float32 halves the memory traffic of float64; the paper convention's luma is
    # float64 and is measured so. Each image is centred on its own channel means, so
    # E[x^2] - E[x]^2 never cancels a large offset catastrophically (one common centre
    # left the test image's variance 2.4x off when it sat 1000 above the reference).
    magnitude = scan.largest / peak
    if magnitude > SSIM_FLOAT64_LIMIT:
        raise ParameterError(
            f"SSIM cannot measure values up to {scan.largest:.3g} in units of a data range of {peak:.3g}; "
            "give the range the data spans"
        )
    work = np.dtype(np.float64 if rows.paper or magnitude > SSIM_FLOAT32_LIMIT else np.float32)
    if work != np.float32:
        kept = None
    ref_centre, tst_centre = scan.reference_means.astype(work), scan.test_means.astype(work)
    total = 0.0
    step = band_rows(width * channels * work.itemsize, SSIM_BAND_BYTES)
    for top in range(r, height - r, step):
        check_cancelled()
        bottom = min(top + step, height - r)
        ref, tst = rows.take(top - r, bottom + r)

        def reference_band(ref: np.ndarray = ref) -> _ReferenceBand:
            return _reference_band(_unit_centred(ref, ref_centre, peak), ref_centre / work.type(peak))

        band = kept.get(top, reference_band) if kept is not None else reference_band()
        y = _unit_centred(tst, tst_centre, peak)
        ssim_map = _ssim_map(band, y, tst_centre / work.type(peak))
        interior = np.ascontiguousarray(ssim_map[r:-r, r:width - r]) if channels > 4 else ssim_map[r:-r, r:width - r]
        total += float(sum(cv2.sumElems(interior)[:channels])) if channels <= 4 else float(interior.sum())
    value = total / ((height - 2 * r) * (width - 2 * r) * channels)
    # Every pixel's SSIM is at most 1 (Cauchy-Schwarz); a mean above it is rounding.
    return min(value, 1.0)


#: SSIM's bands are smaller than the other metrics' (`BAND_BYTES`): its chain of a dozen
#: operations per band then runs on arrays that stay in the processor's caches.
SSIM_BAND_BYTES = 2 * 2**20


def _blur(a: np.ndarray) -> np.ndarray:
    window = 2 * SSIM_RADIUS + 1
    return cv2.GaussianBlur(a, (window, window), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)


def _as_channels(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """OpenCV returns one channel as ``(h, w)``; keep ``like``'s ``(h, w, C)``."""
    return a.reshape(like.shape)


@dataclass(frozen=True)
class _ReferenceBand:
    """What SSIM needs of one band of the reference, whatever the test image: ``x``
    (centred, in units of the data range), its local mean ``mu``, variance ``variance``
    and uncentred local mean ``mean`` (``mu`` plus the centre), each shaped like ``x``."""

    x: np.ndarray
    mu: np.ndarray
    variance: np.ndarray
    mean: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.x.nbytes + self.mu.nbytes + self.variance.nbytes + self.mean.nbytes


def _reference_band(x: np.ndarray, centre: np.ndarray) -> _ReferenceBand:
    """`_ReferenceBand` of the centred band ``x`` whose centre is ``centre`` ``(C,)``."""
    mu = _as_channels(_blur(x), x)
    variance = _as_channels(_blur(x * x), x)
    variance -= mu * mu
    return _ReferenceBand(x, mu, variance, mu + centre)


def _ssim_map(reference: _ReferenceBand, y: np.ndarray, centre_y: np.ndarray) -> np.ndarray:
    """The SSIM map of a reference band (`_reference_band`) and the test band ``y``, in
    units of the data range and centred on its own ``(C,)`` ``centre_y``. Rows and columns
    within 5 of the edges use reflected neighbours. Computed as luminance times structure,
    two ratios of at most 1 in magnitude, so no product of squares is ever formed; every
    step writes into an array already made, so a band costs four new arrays."""
    x, mu_x, var_x, mean_x = reference.x, reference.mu, reference.variance, reference.mean
    c1, c2 = SSIM_K1**2, SSIM_K2**2  # the data range is 1 after scaling
    scratch = np.multiply(y, y)
    mu_y = _as_channels(_blur(y), y)
    var_y = _as_channels(_blur(scratch), y)
    np.multiply(x, y, out=scratch)
    cov = _as_channels(_blur(scratch), y)
    np.multiply(mu_x, mu_y, out=scratch)
    cov -= scratch
    np.multiply(mu_y, mu_y, out=scratch)
    var_y -= scratch
    # structure = (2 cov + c2) / (var_x + var_y + c2), into cov
    cov *= 2
    cov += c2
    var_y += var_x
    var_y += c2
    cov /= var_y
    # luminance = (2 MX MY + c1) / (MX^2 + MY^2 + c1) of the uncentred means MX, MY
    mu_y += centre_y  # MY; (C,) against (h, w, C)
    np.multiply(mean_x, mean_x, out=var_y)
    var_y += c1
    np.multiply(mean_x, mu_y, out=scratch)
    scratch *= 2
    scratch += c1
    mu_y *= mu_y
    var_y += mu_y
    scratch /= var_y
    scratch *= cov
    return scratch


class ReferenceBands:
    """The reference's SSIM statistics (`_ReferenceBand`, float32) per band of rows,
    made by the first test image measured and read by the others; at most ``budget``
    bytes are kept (bands past it are recomputed each time). Thread-safe: a comparison
    measures its methods in parallel."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._bands: dict[int, _ReferenceBand] = {}
        self._lock = threading.Lock()

    def get(self, top: int, make: Callable[[], _ReferenceBand]) -> _ReferenceBand:
        """The statistics of the band starting at row ``top``, made by ``make`` once
        (while the budget lasts)."""
        with self._lock:
            found = self._bands.get(top)
        if found is not None:
            return found
        made = make()
        size = made.nbytes
        with self._lock:
            if size <= self._budget:
                self._budget -= size
                self._bands.setdefault(top, made)
        return made


def _unit_centred(image: np.ndarray, centre: np.ndarray, peak: float) -> np.ndarray:
    """``(image - centre) / peak`` in ``centre``'s dtype, as one new array (``centre`` is
    ``(C,)``, one value per channel, in the image's units)."""
    channels = image.shape[2]
    if image.dtype.kind == "u" and centre.dtype == np.float32 and channels <= 4 and image.flags.c_contiguous:
        # Integer samples lie within [0, peak]: ``image / peak - centre / peak`` loses
        # nothing to float32 there, and takes two passes instead of three (OpenCV reads
        # the integers and scales them in one).
        out = cv2.addWeighted(image, 1.0 / peak, image, 0.0, 0.0, dtype=cv2.CV_32F).reshape(image.shape)
        out -= (centre / centre.dtype.type(peak)).astype(np.float32)
        return out
    out = image.astype(centre.dtype)
    out -= centre
    out *= centre.dtype.type(1.0 / peak)
    return out


def _luma(block: np.ndarray) -> np.ndarray:
    """Float64 ``(h, w)`` of an ``(h, w, C)`` block: BT.601 luma in [0, 1] of RGB(A),
    the one channel scaled to [0, 1] of grey (alpha ignored)."""
    unit = block.astype(np.float64) / default_range(block.dtype)
    return luma(unit[:, :, :3]) if block.shape[2] >= 3 else unit[:, :, 0]


def _check_shave(shape: tuple[int, ...], shave: int) -> None:
    if shave and 2 * shave >= min(shape[:2]):
        raise ParameterError(f"cannot shave {shave} pixels from each side of a {size_text(*shape[:2])} image")


def paper_view(image: np.ndarray, shave: int) -> np.ndarray:
    """What super-resolution papers measure: luma in [0, 1] with ``shave`` border pixels cut.

    RGB(A) images become BT.601 luma ``Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255``
    for R, G, B in [0, 1] (MATLAB's ``rgb2ycbcr``; alpha is ignored); grey images keep
    their one channel, scaled to [0, 1]. Returns float64 ``(H - 2 shave, W - 2 shave)``.
    (`compute_metrics` reads the same view band by band, without making it whole.)
    """
    hwc = as_hwc(image)
    _check_shave(hwc.shape, shave)
    height, width = hwc.shape[:2]
    return _luma(hwc[shave:height - shave, shave:width - shave])


#: The most bytes of SSIM statistics a `PreparedReference` keeps (a 2048x2048 RGB
#: reference needs 96 MiB; a larger one keeps its first bands and recomputes the rest).
REFERENCE_STATISTICS_BYTES = 256 * 2**20


class PreparedReference:
    """A reference about to be measured against many test images (every method of one
    comparison): ``image`` with a `ReferenceBands` that keeps its SSIM statistics after
    the first measurement, so each further SSIM blurs only the test image. Pass it to
    `compute_metrics` as ``prepared``; the numbers are the same as without it."""

    def __init__(self, image: np.ndarray, budget: int = REFERENCE_STATISTICS_BYTES) -> None:
        self.image = image
        self.bands = ReferenceBands(budget)


def compute_metrics(
    reference: np.ndarray,
    test: np.ndarray,
    *,
    convention: Convention = "all",
    shave: int = 0,
    prepared: PreparedReference | None = None,
) -> Metrics:
    """Every metric of ``test`` against ``reference``.

    ``convention="all"`` measures every pixel and channel in the images' own units;
    ``"paper"`` measures `paper_view` of both in float64 (luma, ``shave`` pixels of
    border removed, range 1.0). SSIM is None when the measured image is smaller than
    11x11.

    Works in bands of rows (`band_rows`): two passes over the images, the errors and
    the images' means (OpenCV's exact norms and sums), then SSIM; beyond the two images
    it needs a few dozen megabytes whatever their size. ``prepared`` (a
    `PreparedReference` of this ``reference``) reuses the reference's SSIM statistics
    across calls.
    """
    check_convention(convention)
    ref, tst = checked_pair(reference, test)
    if convention == "paper":
        _check_shave(ref.shape, shave)
        rows = _Rows(ref, tst, paper=True, shave=shave)
        peak = 1.0
    else:
        rows, peak, shave = _Rows(ref, tst), default_range(ref.dtype), 0
    scan = _scan(rows)
    try:
        _check_ssim_size(rows.shape)
        kept = prepared.bands if prepared is not None and prepared.image is reference and convention == "all" else None
        structural: float | None = _ssim(rows, peak, scan, kept)
    except ParameterError:
        structural = None
    return Metrics(
        mse=scan.mse,
        mae=scan.mae,
        max_abs=scan.max_abs,
        psnr=_psnr(peak, scan.mse),
        ssim=structural,
        convention=convention,
        shave=shave,
    )
