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
shaved_shapes = st.tuples(st.integers(13, 48), st.integers(13, 48), st.sampled_from([None, 1, 3, 4]))


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


# Precision, dtypes and messages ------------------------------------------------------------


def _ssim_float64(reference: np.ndarray, test: np.ndarray, data_range: float) -> float:
    """SSIM as Wang et al. 2004 define it, written out in float64: Gaussian window sigma
    1.5 truncated at radius 5 and normalised, population statistics, C1 = (0.01 R)^2,
    C2 = (0.03 R)^2, the mean of the map over the pixels whose window lies inside the
    image (the map without its 5-pixel border), then over channels."""
    offsets = np.arange(-5, 6)
    taps = np.exp(-(offsets**2) / (2 * 1.5**2))
    taps /= taps.sum()

    def local_mean(plane: np.ndarray) -> np.ndarray:
        rows = sum(t * plane[i:plane.shape[0] - 10 + i] for i, t in enumerate(taps))
        return sum(t * rows[:, i:plane.shape[1] - 10 + i] for i, t in enumerate(taps))

    x3 = reference.astype(np.float64).reshape(reference.shape[:2] + (-1,))
    y3 = test.astype(np.float64).reshape(test.shape[:2] + (-1,))
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for channel in range(x3.shape[2]):
        x, y = x3[:, :, channel], y3[:, :, channel]
        mu_x, mu_y = local_mean(x), local_mean(y)
        var_x = local_mean((x - x.mean()) ** 2) - (mu_x - x.mean()) ** 2
        var_y = local_mean((y - y.mean()) ** 2) - (mu_y - y.mean()) ** 2
        cov = local_mean((x - x.mean()) * (y - y.mean())) - (mu_x - x.mean()) * (mu_y - y.mean())
        ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
        values.append(ssim_map.mean())
    return float(np.mean(values))


def test_the_float64_ssim_of_these_tests_is_scikit_images():
    reference, test = _pair(5, (30, 26, 3), np.float32, 0.05)
    expected = structural_similarity(reference.astype(np.float64), test.astype(np.float64), gaussian_weights=True,
                                     sigma=1.5, use_sample_covariance=False, data_range=1.0, channel_axis=-1)
    assert _ssim_float64(reference, test, 1.0) == pytest.approx(expected, rel=1e-12)


@given(
    seed=st.integers(0, 2**16),
    shape=shapes,
    offset=st.sampled_from([0.0, 1.0, 1000.0, -3e4, 1e5]),
    scale=st.sampled_from([1.0, 0.01, 50.0]),
    given_range=st.booleans(),
)
def test_ssim_of_float32_far_from_the_unit_range_is_exact(seed, shape, offset, scale, given_range):
    # The test image sits `offset` away from the reference: each image is centred on its
    # own mean, so neither variance cancels (one common centre gave 0.0024 for 0.0010).
    rng = np.random.default_rng(seed)
    reference = (rng.random(_shape(shape)) * scale).astype(np.float32)
    test = (reference + rng.normal(0, 0.1 * scale, reference.shape) + offset).astype(np.float32)
    data_range = float(max(reference.max(), test.max()) - min(reference.min(), test.min())) if given_range else 1.0
    expected = _ssim_float64(reference, test, data_range)
    got = core.ssim(reference, test, data_range=data_range if given_range else None)
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-7)
    skimage_float64 = structural_similarity(
        reference.astype(np.float64), test.astype(np.float64), gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=data_range, channel_axis=-1 if reference.ndim == 3 else None,
    )
    assert got == pytest.approx(skimage_float64, rel=1e-4, abs=1e-7)


def test_ssim_of_an_offset_test_image_is_the_true_one():
    # The audit's case: the reference in [0, 1], the test image 1000 above it.
    rng = np.random.default_rng(0)
    reference = rng.random((64, 64)).astype(np.float32)
    test = (reference + 0.1 * rng.random((64, 64)) + 1000).astype(np.float32)
    assert core.ssim(reference, test) == pytest.approx(_ssim_float64(reference, test, 1.0), rel=1e-5)
    assert core.compute_metrics(reference, test).ssim == pytest.approx(_ssim_float64(reference, test, 1.0), rel=1e-5)


@pytest.mark.parametrize("magnitude", [1e10, 1e20, 3e38])
def test_ssim_of_huge_float32_values_is_a_number(magnitude):
    # Squares of 1e10 overflow float32's products; such data is measured in float64.
    rng = np.random.default_rng(2)
    reference = rng.random((24, 24, 3)).astype(np.float32)
    test = np.clip(reference + rng.normal(0, 0.1, reference.shape), 0, 1).astype(np.float32)
    scale = np.float32(magnitude)
    got = core.ssim(reference * scale, test * scale)
    assert got == pytest.approx(_ssim_float64(reference * scale, test * scale, 1.0), rel=1e-4, abs=1e-7)
    assert core.ssim(reference * scale, test * scale, data_range=magnitude) == pytest.approx(
        _ssim_float64(reference, test, 1.0), rel=1e-4)


def test_ssim_with_a_range_no_data_spans_is_refused():
    image = np.ones((12, 12), np.float32)
    with pytest.raises(core.ParameterError, match="data range of 1e-300"):
        core.ssim(image, image, data_range=1e-300)
    assert core.psnr(image, image * 2, data_range=1e-300) == pytest.approx(-6000.0)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(seed=st.integers(0, 2**16), shape=shaved_shapes, lsb=st.sampled_from([1, 3]))
def test_paper_convention_keeps_float64_precision(dtype, seed, shape, lsb):
    # Above 100 dB a float32 copy of the luma moved PSNR by up to 0.6 dB.
    rng = np.random.default_rng(seed)
    reference = random_image(rng, _shape(shape), dtype)
    test = reference.copy()
    where = rng.random(reference.shape) < 0.05
    if np.dtype(dtype).kind == "u":
        step = (reference < np.iinfo(dtype).max).astype(dtype) * lsb
        test[where] += step[where]
    else:
        test[where] = np.nextafter(test[where], np.float32(2), dtype=np.float32)
    y_ref, y_test = core.paper_view(reference, 1), core.paper_view(test, 1)
    error = np.mean((y_test - y_ref) ** 2)
    metrics = core.compute_metrics(reference, test, convention="paper", shave=1)
    assert metrics.mse == pytest.approx(error, rel=1e-12)
    if error:
        assert metrics.psnr == pytest.approx(10 * math.log10(1 / error), rel=1e-12)
    assert metrics.ssim == pytest.approx(_ssim_float64(y_ref, y_test, 1.0), abs=1e-12)


@given(
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
    shape=shapes,
    convention=st.sampled_from(["all", "paper"]),
    noise=st.sampled_from([0.0, 1e-7, 1e-6, 1e-3]),
)
def test_ssim_never_exceeds_one(dtype, seed, shape, convention, noise):
    rng = np.random.default_rng(seed)
    reference = random_image(rng, _shape(shape), dtype)
    if np.dtype(dtype).kind == "u":
        test = reference.copy()
        test[rng.random(reference.shape) < noise * 1e4] ^= 1
    else:
        test = (reference + rng.normal(0, noise, reference.shape)).astype(np.float32)
    measured = core.compute_metrics(reference, test, convention=convention).ssim
    assert measured <= 1.0
    assert measured == pytest.approx(1.0, abs=1e-2)
    if convention == "all":
        assert core.ssim(reference, test) <= 1.0


@given(
    pair=st.permutations(DTYPES).map(lambda p: p[:2]),
    measure=st.sampled_from(["psnr", "ssim", "mse", "mae", "max_abs_error", "compute_metrics", "difference"]),
)
def test_metrics_refuse_images_of_different_dtypes(pair, measure):
    first, second = pair
    reference = np.zeros((12, 12), first)
    test = np.full((12, 12), 1, second)  # black against white in float, nearly black in integers
    with pytest.raises(core.ParameterError) as raised:
        getattr(core, measure)(reference, test)
    message = str(raised.value)
    assert np.dtype(first).name in message and np.dtype(second).name in message


@pytest.mark.parametrize("measure", ["psnr", "ssim", "mse", "compute_metrics", "difference"])
def test_metrics_of_lists_are_refused_by_name(measure):
    with pytest.raises(core.ParameterError, match="reference must be a NumPy array, got list"):
        getattr(core, measure)([[0, 1]], np.zeros((1, 2), np.uint8))


@pytest.mark.parametrize("given", [np.float32(255), np.float64(255), np.int64(255), np.uint8(255), 255, 255.0])
def test_data_range_may_be_any_positive_number(given):
    reference, test = _pair(1, (16, 16), np.uint8)
    assert core.psnr(reference, test, data_range=given) == pytest.approx(core.psnr(reference, test))
    assert core.ssim(reference, test, data_range=given) == pytest.approx(core.ssim(reference, test))


@pytest.mark.parametrize(
    "given", [0, -1.0, float("nan"), float("inf"), True, "255", pytest.param(10**400, id="10**400"), [255]]
)
def test_bad_data_ranges_are_named(given):
    reference, test = _pair(1, (16, 16), np.uint8)
    for measure in (core.psnr, core.ssim):
        with pytest.raises(core.ParameterError, match="data_range must be a positive finite number; got "):
            measure(reference, test, data_range=given)


def test_paper_metrics_do_not_depend_on_the_number_of_blas_threads() -> None:
    """Evaluation workers run NumPy's BLAS at one thread and this process at several: a
    row must come out the same to the last digit either way."""
    import os
    import subprocess
    import sys

    code = ("import numpy as np, core\n"
            "rng = np.random.default_rng(5)\n"
            "a = rng.integers(0, 256, (1500, 1500)).astype(np.uint8)\n"
            "b = np.clip(a.astype(int) + rng.integers(-9, 10, a.shape), 0, 255).astype(np.uint8)\n"
            "print(repr(core.compute_metrics(a, b, convention='paper', shave=4).psnr))\n")
    runs = []
    for threads in ("1", "2"):
        environment = {**os.environ, "OPENBLAS_NUM_THREADS": threads}
        runs.append(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                   env=environment, timeout=120).stdout)
    assert runs[0] == runs[1]
