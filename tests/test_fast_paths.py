"""The fast paths of a comparison give the numbers of the slow ones: metrics with a
reference prepared once, methods run in parallel, OpenCV's norms for the errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from skimage.metrics import structural_similarity

import core
from core.metrics import measures
from core.metrics.measures import PreparedReference, compute_metrics


def _noisy(reference: np.ndarray, rng: np.random.Generator, spread: float) -> np.ndarray:
    top = 255 if reference.dtype == np.uint8 else 65535 if reference.dtype == np.uint16 else 1.0
    noisy = reference.astype(np.float64) + rng.normal(0.0, spread * top, reference.shape)
    return np.clip(noisy, 0, top).astype(reference.dtype)


@given(
    height=st.integers(11, 90),
    width=st.integers(11, 90),
    channels=st.sampled_from([1, 3, 4]),
    dtype=st.sampled_from([np.uint8, np.uint16, np.float32]),
    seed=st.integers(0, 2**16),
)
def test_metrics_with_a_prepared_reference_are_those_without(height, width, channels, dtype, seed):
    rng = np.random.default_rng(seed)
    reference = _noisy(np.zeros((height, width, channels), dtype), rng, 0.4)
    prepared = PreparedReference(reference)
    for spread in (0.01, 0.1, 0.3):  # several methods measured against one reference
        test = _noisy(reference, rng, spread)
        alone = compute_metrics(reference, test)
        again = compute_metrics(reference, test, prepared=prepared)
        assert again == alone
        # and both are the float64 definitions (scikit-image's SSIM; the errors by hand)
        error = test.astype(np.float64) - reference
        assert alone.mse == pytest.approx(np.mean(error * error), rel=1e-9, abs=1e-15)
        assert alone.mae == pytest.approx(np.mean(np.abs(error)), rel=1e-6, abs=1e-12)
        assert alone.max_abs == pytest.approx(np.max(np.abs(error)), rel=1e-6, abs=1e-12)
        top = {np.uint8: 255, np.uint16: 65535, np.float32: 1.0}[dtype]
        expected = structural_similarity(reference.astype(np.float64), test.astype(np.float64), channel_axis=2,
                                         data_range=top, gaussian_weights=True, sigma=1.5,
                                         use_sample_covariance=False)
        assert alone.ssim == pytest.approx(expected, abs=1e-4)


def test_the_reference_statistics_are_made_once_for_every_method(monkeypatch):
    made = []
    original = measures._reference_band

    def counting(x, centre):
        made.append(x.shape)
        return original(x, centre)

    monkeypatch.setattr(measures, "_reference_band", counting)
    rng = np.random.default_rng(3)
    reference = _noisy(np.zeros((300, 200, 3), np.uint8), rng, 0.4)
    prepared = PreparedReference(reference)
    compute_metrics(reference, _noisy(reference, rng, 0.1), prepared=prepared)
    first = len(made)
    assert first >= 1
    for _ in range(3):
        compute_metrics(reference, _noisy(reference, rng, 0.1), prepared=prepared)
    assert len(made) == first  # the later methods blur only their own image


def test_a_prepared_reference_shared_by_threads_gives_each_its_own_numbers():
    rng = np.random.default_rng(5)
    reference = _noisy(np.zeros((400, 150, 3), np.uint16), rng, 0.4)
    tests = [_noisy(reference, rng, spread) for spread in (0.01, 0.05, 0.1, 0.2, 0.3, 0.4)]
    expected = [compute_metrics(reference, test) for test in tests]
    prepared = PreparedReference(reference)
    got: dict[int, core.Metrics] = {}

    def measure(index: int) -> None:
        got[index] = compute_metrics(reference, tests[index], prepared=prepared)

    threads = [threading.Thread(target=measure, args=(i,)) for i in range(len(tests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [got[i] for i in range(len(tests))] == expected


def test_a_budget_too_small_for_every_band_still_measures_right():
    rng = np.random.default_rng(9)
    reference = _noisy(np.zeros((700, 300, 3), np.float32), rng, 0.4)
    prepared = PreparedReference(reference, budget=3 * 2**20)  # the first bands only
    for spread in (0.02, 0.2):
        test = _noisy(reference, rng, spread)
        assert compute_metrics(reference, test, prepared=prepared) == compute_metrics(reference, test)


def test_methods_run_in_parallel_come_back_in_order_with_the_sequential_numbers():
    image = core.make_chart("test-chart", 256)
    settings = core.ComparisonSettings(mode="degrade", scale=3.0, diff_kind=None,
                                       methods=("bicubic", "nearest", "transposed-conv", "area", "bilinear-aligned"))
    one = list(core.Comparison(image, settings, workers=1))
    two = list(core.Comparison(image, settings, workers=2))
    assert [r.method_id for r in two] == list(settings.methods)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a.image, b.image)
        assert a.metrics == b.metrics


def test_an_abandoned_parallel_comparison_starts_nothing_more():
    image = core.make_chart("test-chart", 256)
    settings = core.ComparisonSettings(mode="degrade", scale=2.0, diff_kind=None)
    comparison = core.Comparison(image, settings, workers=2)
    results = iter(comparison)
    first = next(results)
    assert first.method_id == core.ComparisonSettings().method_choices()[0].id
    results.close()  # returns once the methods already running have finished
