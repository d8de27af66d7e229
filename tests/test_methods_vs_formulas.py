"""Methods with no PyTorch twin, against float64 formulas written out pixel by pixel."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
from conftest import max_error, round_like, seeded_image, tolerance
from hypothesis import given
from hypothesis import strategies as st

import core
import core.methods.taps

DTYPES = [np.uint8, np.uint16, np.float32]


def _separable(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Apply (out, in) weight matrices along each axis, in float64."""
    hwc = image if image.ndim == 3 else image[:, :, None]
    out = np.einsum("ai,ijc,bj->abc", rows, hwc.astype(np.float64), cols)
    return out if image.ndim == 3 else out[:, :, 0]


def lanczos4_matrix(n_in: int, n_out: int) -> np.ndarray:
    """OpenCV's INTER_LANCZOS4: 8 taps of sinc(x) sinc(x/4), half-pixel centres, taps
    normalised to sum to one, indices clamped (edge replicated)."""
    matrix = np.zeros((n_out, n_in))
    for dst in range(n_out):
        src = (dst + 0.5) * n_in / n_out - 0.5
        base = math.floor(src)
        frac = src - base
        taps = []
        for k in range(-3, 5):
            x = k - frac
            taps.append(1.0 if abs(x) < 1e-12 else 16 * math.sin(math.pi * x) * math.sin(math.pi * x / 4) / (math.pi * x) ** 2)
        total = sum(taps)
        for k, tap in zip(range(-3, 5), taps):
            matrix[dst, min(max(base + k, 0), n_in - 1)] += tap / total
    return matrix


def keys_matrix(n_in: int, n_out: int, a: float) -> np.ndarray:
    """Keys cubic convolution, half-pixel centres, indices clamped to the edge."""

    def w(x):
        x = abs(x)
        if x <= 1:
            return (a + 2) * x**3 - (a + 3) * x**2 + 1
        if x < 2:
            return a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
        return 0.0

    matrix = np.zeros((n_out, n_in))
    for dst in range(n_out):
        src = (dst + 0.5) * n_in / n_out - 0.5
        base = math.floor(src)
        for k in range(-1, 3):
            matrix[dst, min(max(base + k, 0), n_in - 1)] += w(src - (base + k))
    return matrix


def area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Pixel-area relation: output pixel d covers [d r, (d + 1) r) of the input, r = in/out;
    its value is the overlap-weighted mean of the input pixels."""
    r = n_in / n_out
    matrix = np.zeros((n_out, n_in))
    for dst in range(n_out):
        lo, hi = dst * r, (dst + 1) * r
        for src in range(int(math.floor(lo)), min(int(math.ceil(hi)), n_in)):
            matrix[dst, src] = max(0.0, min(hi, src + 1) - max(lo, src)) / r
    return matrix


shapes = st.tuples(st.integers(1, 24), st.integers(1, 24), st.sampled_from([None, 1, 3, 4]))
scales = st.sampled_from([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 7 / 3, 1.3])



@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, sy=scales, sx=scales, seed=st.integers(0, 2**16))
def test_lanczos4_matches_windowed_sinc(dtype, shape, sy, sx, seed):
    image = seeded_image(seed, shape, dtype)
    ours = core.upsample(image, "lanczos4", scale=(sy, sx))
    h, w = ours.shape[:2]
    reference = _separable(image, lanczos4_matrix(image.shape[0], h), lanczos4_matrix(image.shape[1], w))
    if dtype == np.float32:  # OpenCV's float path keeps float32 taps
        assert max_error(ours, reference) <= 1.5e-4
    else:
        assert max_error(ours, round_like(reference, dtype)) <= 1


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, sy=scales, sx=scales, seed=st.integers(0, 2**16))
def test_area_matches_pixel_overlap(dtype, shape, sy, sx, seed):
    image = seeded_image(seed, shape, dtype)
    ours = core.upsample(image, "area", scale=(sy, sx))
    h, w = ours.shape[:2]
    reference = _separable(image, area_matrix(image.shape[0], h), area_matrix(image.shape[1], w))
    assert max_error(ours, round_like(reference, dtype)) <= tolerance(dtype)


@pytest.mark.parametrize("a", [-0.5, -1.0, -0.6])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, sy=scales, sx=scales, seed=st.integers(0, 2**16))
def test_bicubic_with_other_a_matches_keys_formula(a, dtype, shape, sy, sx, seed):
    image = seeded_image(seed, shape, dtype)
    ours = core.upsample(image, "bicubic", scale=(sy, sx), a=a)
    h, w = ours.shape[:2]
    reference = _separable(image, keys_matrix(image.shape[0], h, a), keys_matrix(image.shape[1], w, a))
    assert max_error(ours, round_like(reference, dtype)) <= tolerance(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, sy=scales, sx=scales, band_bytes=st.integers(1, 4096), seed=st.integers(0, 2**16))
def test_tap_resampling_in_row_bands_matches_the_formula(dtype, shape, sy, sx, band_bytes, seed):
    """Large images are resampled a band of output rows at a time; with bands of one or a
    few rows the result must still be the whole-image formula (band edges invisible)."""
    image = seeded_image(seed, shape, dtype)
    with mock.patch.object(core.methods.taps, "BAND_BYTES", band_bytes):
        ours = core.upsample(image, "bicubic", scale=(sy, sx), a=-0.5)
    h, w = ours.shape[:2]
    reference = _separable(image, keys_matrix(image.shape[0], h, -0.5), keys_matrix(image.shape[1], w, -0.5))
    assert max_error(ours, round_like(reference, dtype)) <= tolerance(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, sy=scales, sx=scales, seed=st.integers(0, 2**16))
def test_bilinear_numpy_equals_bilinear(dtype, shape, sy, sx, seed):
    image = seeded_image(seed, shape, dtype)
    ours = core.upsample(image, "bilinear-numpy", scale=(sy, sx))
    opencv = core.upsample(image, "bilinear", scale=(sy, sx))
    assert max_error(ours, opencv.astype(np.float64)) <= (1 if dtype != np.float32 else 1e-5 * 1.5)


def test_bilinear_numpy_does_not_repeat_the_seed_articles_border_bug():
    """The article's loop wraps index -1 to the last pixel and mis-weights the far edge."""
    image = np.zeros((4, 4), np.uint8)
    image[:, -1] = 255  # a bright right column: wrapping would leak it into the left edge
    result = core.upsample(image, "bilinear-numpy", scale=2)
    assert result[:, 0].max() == 0 and result[:, -1].min() == 255
    ramp = np.array([[0, 100, 200]], np.float32)
    out = core.upsample(ramp, "bilinear-numpy", size=(1, 6))
    np.testing.assert_allclose(out[0], [0, 25, 75, 125, 175, 200])  # weights sum to one at the edges


def test_area_keeps_every_pixel_where_opencv_drops_one():
    """21 -> 27 pixels: output 9 starts exactly at input 7 (9 * 21 / 27 = 7). OpenCV's
    floating-point INTER_AREA picks input 6 there and input 7 never appears."""
    import cv2

    row = np.arange(21, dtype=np.uint8)[None, :] * 10
    ours = core.upsample(row, "area", size=(1, 27))
    assert ours[0, 9] == 70  # [7, 7.78) lies inside input pixel 7
    assert cv2.resize(row, (27, 1), interpolation=cv2.INTER_AREA)[0, 9] == 60


def test_opencv_is_used_only_where_its_mapping_is_exact():
    import cv2

    from core.methods.taps import area_taps, nearest_index, opencv_is_exact

    assert not opencv_is_exact(21, 27, cv2.INTER_AREA)  # the dropped pixel above
    assert opencv_is_exact(512, 1024, cv2.INTER_AREA) and opencv_is_exact(512, 1792, cv2.INTER_AREA)
    # Wherever the probe trusts OpenCV, its pixels equal the exact weights' on noise.
    rng = np.random.default_rng(5)
    for n_in in range(2, 24):
        for n_out in range(n_in + 1, 3 * n_in):
            row = rng.integers(0, 256, (1, n_in, 3), dtype=np.uint8)
            for flag in (cv2.INTER_AREA, cv2.INTER_NEAREST):
                if not opencv_is_exact(n_in, n_out, flag):
                    continue
                opencv = cv2.resize(row, (n_out, 1), interpolation=flag).astype(np.float64)
                if flag == cv2.INTER_AREA:
                    index, weight = area_taps(n_in, n_out)
                    exact = np.rint((row[0][index] * weight[..., None]).sum(1))
                else:
                    exact = row[0][nearest_index(n_in, n_out)]
                assert np.abs(opencv[0] - exact).max() <= 1, (n_in, n_out, flag)
