"""Metrics against scikit-image and NumPy; difference maps by their definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import random_image
from hypothesis import given
from hypothesis import strategies as st
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import core

DTYPES = [np.uint8, np.uint16, np.float32]


def _pair(seed, shape, dtype, noise=0.1):
    rng = np.random.default_rng(seed)
    reference = random_image(rng, shape, dtype)
    if np.dtype(dtype).kind == "u":
        top = np.iinfo(dtype).max
        test = np.clip(reference + rng.normal(0, noise * top, shape), 0, top).astype(dtype)
    else:
        reference = np.clip(reference, 0, 1)
        test = (reference + rng.normal(0, noise, shape)).astype(np.float32)
    return reference, test


shapes = st.tuples(st.integers(11, 48), st.integers(11, 48), st.sampled_from([None, 1, 3, 4]))


def _shape(shape):
    h, w, c = shape
    return (h, w) if c is None else (h, w, c)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, seed=st.integers(0, 2**16), noise=st.sampled_from([0.001, 0.05, 0.3]))
def test_psnr_matches_scikit_image(dtype, shape, seed, noise):
    reference, test = _pair(seed, _shape(shape), dtype, noise)
    peak = core.data_range(dtype)
    expected = peak_signal_noise_ratio(reference, test, data_range=peak)
    # scikit-image averages float32 images in float32; we accumulate in float64.
    assert core.psnr(reference, test) == pytest.approx(expected, rel=1e-9 if dtype != np.float32 else 1e-6)
    exact = 10 * math.log10(peak**2 / np.mean((test.astype(np.float64) - reference) ** 2))
    assert core.psnr(reference, test) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, seed=st.integers(0, 2**16), noise=st.sampled_from([0.001, 0.05, 0.3]))
def test_ssim_matches_scikit_image(dtype, shape, seed, noise):
    reference, test = _pair(seed, _shape(shape), dtype, noise)
    expected = structural_similarity(
        reference,
        test,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=core.data_range(dtype),
        channel_axis=-1 if reference.ndim == 3 else None,
    )
    assert core.ssim(reference, test) == pytest.approx(expected, abs=1e-4)


def test_ssim_on_a_photograph_matches_scikit_image():
    import skimage.data

    image = skimage.data.astronaut()
    low, _ = core.downsample(image, 4, "bicubic-aa")
    restored = core.upsample(low, "bicubic", scale=4)
    expected = structural_similarity(image, restored, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=255, channel_axis=-1)
    assert core.ssim(image, restored) == pytest.approx(expected, abs=1e-4)


def test_identical_images_give_infinite_psnr_and_unit_ssim():
    image = np.random.default_rng(1).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    metrics = core.compute_metrics(image, image.copy())
    assert metrics.psnr == math.inf and metrics.ssim == pytest.approx(1.0)
    assert metrics.mse == metrics.mae == metrics.max_abs == 0


def test_error_metrics_are_in_the_images_units():
    reference = np.zeros((4, 4), np.uint16)
    test = reference.copy()
    test[0, 0], test[1, 1] = 400, 65535  # no uint16 wrap-around
    assert core.mse(reference, test) == pytest.approx((400**2 + 65535**2) / 16)
    assert core.mae(reference, test) == pytest.approx((400 + 65535) / 16)
    assert core.max_abs_error(reference, test) == 65535


def test_paper_convention_measures_shaved_luma_like_matlab():
    rng = np.random.default_rng(3)
    reference = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    test = np.clip(reference.astype(int) + rng.integers(-9, 10, reference.shape), 0, 255).astype(np.uint8)

    def luma(rgb):  # MATLAB rgb2ycbcr's Y for uint8 input, in [16, 235], unrounded
        r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
        return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255

    shave = 4
    y_ref, y_test = luma(reference)[shave:-shave, shave:-shave], luma(test)[shave:-shave, shave:-shave]
    metrics = core.compute_metrics(reference, test, convention="paper", shave=shave)
    assert metrics.convention == "paper" and metrics.shave == shave
    assert metrics.psnr == pytest.approx(peak_signal_noise_ratio(y_ref, y_test, data_range=255), rel=1e-6)
    expected_ssim = structural_similarity(y_ref, y_test, gaussian_weights=True, sigma=1.5,
                                          use_sample_covariance=False, data_range=255)
    assert metrics.ssim == pytest.approx(expected_ssim, abs=1e-4)


def test_paper_convention_keeps_grey_and_ignores_alpha():
    grey = np.arange(400, dtype=np.float32).reshape(20, 20) / 400
    np.testing.assert_allclose(core.paper_view(grey, 2), grey[2:-2, 2:-2], atol=1e-7)
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 3] = 255
    np.testing.assert_allclose(core.paper_view(rgba, 0), 16 / 255)


def test_ssim_is_not_defined_below_its_window():
    small = np.zeros((10, 30), np.uint8)
    with pytest.raises(core.ParameterError, match="SSIM needs at least 11x11 pixels; the images are 30x10"):
        core.ssim(small, small)
    assert core.compute_metrics(small, small).ssim is None


def test_metrics_refuse_different_shapes():
    with pytest.raises(core.ParameterError, match=r"shapes \(4, 4\) and \(4, 5\)"):
        core.psnr(np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8))


@given(seed=st.integers(0, 2**16), channels=st.sampled_from([None, 3]))
def test_difference_maps_follow_their_definitions(seed, channels):
    rng = np.random.default_rng(seed)
    shape = (6, 7) if channels is None else (6, 7, channels)
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = rng.integers(0, 256, shape, dtype=np.uint8)
    signed = a.astype(np.float64) - b
    np.testing.assert_array_equal(core.difference(b, a), signed)
    np.testing.assert_array_equal(core.difference(b, a, kind="abs"), np.abs(signed))
    np.testing.assert_array_equal(core.difference(b, a, kind="squared"), signed**2)
    mean = core.difference(b, a, kind="abs", per_channel=False)
    expected = np.abs(signed) if channels is None else np.abs(signed).mean(axis=2)
    np.testing.assert_allclose(mean, expected, rtol=1e-6)
    assert mean.dtype == np.float32 and mean.shape == (6, 7)


def test_unknown_difference_kind_is_named():
    with pytest.raises(core.ParameterError, match="'ratio'"):
        core.difference(np.zeros((2, 2), np.uint8), np.zeros((2, 2), np.uint8), kind="ratio")
