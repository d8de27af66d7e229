"""Metrics, difference maps and comparisons in bounded memory, and the estimate that
refuses a comparison before it starts when the machine cannot hold it.

Memory is measured as the peak resident size of a child process (see `measured_run`),
so NumPy's and OpenCV's allocations count as much as Python's.
"""

from __future__ import annotations

import contextlib
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import random_image
from hypothesis import given, settings
from hypothesis import strategies as st
from measured_run import HAS_PEAK, PEAK_FUNCTION, run_measured
from skimage.metrics import structural_similarity

import core
import core.comparison.memory
import core.metrics.measures

MB = 2**20


@contextlib.contextmanager
def bands_of(rows: int | None):
    """Metrics and maps computed in bands of ``rows`` rows (None: the whole image in one)."""
    saved = core.metrics.measures.BAND_BYTES, core.metrics.measures.MIN_BAND_ROWS
    core.metrics.measures.BAND_BYTES, core.metrics.measures.MIN_BAND_ROWS = (1, rows) if rows else (2**62, 1)
    try:
        yield
    finally:
        core.metrics.measures.BAND_BYTES, core.metrics.measures.MIN_BAND_ROWS = saved


def noisy_pair(seed: int, shape: tuple[int, ...], dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    reference = random_image(rng, shape, dtype)
    peak = core.data_range(np.dtype(dtype))
    noise = rng.normal(0, 0.05 * peak, shape)
    test = np.clip(reference.astype(np.float64) + noise, 0, peak).astype(dtype)
    return reference, test


@settings(max_examples=40)
@given(
    height=st.integers(11, 240),
    width=st.integers(11, 40),
    channels=st.sampled_from([None, 1, 3, 4]),
    dtype=st.sampled_from([np.uint8, np.uint16, np.float32]),
    rows=st.integers(1, 70),
    seed=st.integers(0, 2**16),
)
def test_bands_give_the_whole_images_numbers(height, width, channels, dtype, rows, seed) -> None:
    """Any band height, tall and narrow images, bands that end on the SSIM window's
    edge: the banded result is the one-band result."""
    shape = (height, width) if channels is None else (height, width, channels)
    reference, test = noisy_pair(seed, shape, dtype)
    shave = min(3, (min(height, width) - 1) // 2)
    answers = []
    for band in (rows, None):
        with bands_of(band):
            answers.append((
                core.compute_metrics(reference, test),
                core.compute_metrics(reference, test, convention="paper", shave=shave),
                core.ssim(reference, test),
                core.difference(reference, test, kind="signed"),
                core.difference_picture(reference, test, "squared", gain=4)[1].rgb,
                core.colorize_difference(core.difference(reference, test, per_channel=False), "signed", dtype).rgb,
            ))
    banded, whole = answers
    for got, expected in zip(banded[:2], whole[:2]):
        for name in ("mse", "mae", "max_abs", "psnr"):
            assert getattr(got, name) == pytest.approx(getattr(expected, name), rel=1e-12, abs=1e-300), name
        assert (got.ssim is None) == (expected.ssim is None)
        if got.ssim is not None:
            assert abs(got.ssim - expected.ssim) < 1e-6
    assert abs(banded[2] - whole[2]) < 1e-6
    for got, expected in zip(banded[3:], whole[3:]):
        assert got.dtype == expected.dtype and np.array_equal(got, expected)


@pytest.mark.parametrize("shape", [(300, 37, 3), (517, 12), (130, 200, 4)])
def test_banded_ssim_matches_scikit_image(shape) -> None:
    reference, test = noisy_pair(7, shape, np.uint8)
    with bands_of(9):
        ours = core.ssim(reference, test)
    theirs = structural_similarity(reference, test, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                   data_range=255, channel_axis=-1 if len(shape) == 3 else None)
    assert ours == pytest.approx(theirs, abs=1e-4)


CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import core
""") + PEAK_FUNCTION + textwrap.dedent("""

    rng = np.random.default_rng(3)  # made in uint8 only: no setup step outgrows the one measured
    reference = rng.integers(0, 256, (4000, 4000, 3), dtype=np.uint8)
    test = reference // 2
    test += rng.integers(0, 100, reference.shape, dtype=np.uint8)
    step = sys.argv[1]
    core.compute_metrics(reference[:64], test[:64])  # libraries warmed up
    core.difference_picture(reference[:64], test[:64], "signed")
    before = peak()
    if step == "metrics":
        core.compute_metrics(reference, test)
        kept = 0
    elif step == "paper":
        core.compute_metrics(reference, test, convention="paper", shave=4)
        kept = 0
    elif step == "difference":
        kept = core.difference(reference, test, kind="abs", per_channel=False).nbytes
    else:
        values, shown = core.difference_picture(reference, test, "signed", gain=8)
        kept = values.nbytes + shown.rgb.nbytes
    print(json.dumps({"growth": peak() - before, "kept": kept}))
""")


@pytest.mark.skipif(not HAS_PEAK, reason="reads a process's peak memory from /proc")
@pytest.mark.parametrize("step", ["metrics", "paper", "difference", "picture"])
def test_metrics_and_maps_of_a_16_megapixel_pair_need_a_few_dozen_megabytes(step: str) -> None:
    """Whole-image float32 temporaries would cost 192 MB each (a dozen for SSIM)."""
    run = run_measured(["-c", CHILD, step], timeout=300)
    assert run.returncode == 0, run.stderr
    measured = json.loads(run.stdout)
    assert measured["growth"] <= measured["kept"] + 120 * MB, measured


COMPARISON_CHILD = textwrap.dedent("""
    import json
    import numpy as np, skimage.data
    import core
""") + PEAK_FUNCTION + textwrap.dedent("""

    photo = np.tile(skimage.data.astronaut(), (4, 6, 1))  # 3072x2048, 6 megapixels
    core.Comparison(photo[:64, :64], core.ComparisonSettings(scale=4))  # libraries warmed up
    settings = core.ComparisonSettings(scale=4)
    estimate = core.estimate_memory(photo.shape, photo.dtype, settings)
    before = peak()
    results = list(core.Comparison(photo, settings))
    held = sum(r.image.nbytes + r.difference.nbytes for r in results)
    print(json.dumps({"growth": peak() - before, "peak": peak(), "held": held, "estimate": estimate,
                      "image": photo.nbytes, "ok": all(r.ok for r in results)}))
""")


@pytest.mark.skipif(not HAS_PEAK, reason="reads a process's peak memory from /proc")
def test_a_comparison_holds_little_more_than_its_results_and_its_estimate_is_an_upper_bound() -> None:
    run = run_measured(["-c", COMPARISON_CHILD], timeout=600)
    assert run.returncode == 0, run.stderr
    measured = json.loads(run.stdout)
    assert measured["ok"]
    # Nine results and their difference maps: 9 x (18 + 24) MB.
    assert measured["held"] == 9 * (2048 * 3072 * 3 + 2048 * 3072 * 4)
    assert measured["growth"] <= measured["estimate"] - measured["image"], measured
    # The whole process, interpreter and libraries included, within 3x the results held.
    assert measured["peak"] <= 3 * measured["held"], measured


def test_the_estimate_adds_up_what_a_comparison_keeps() -> None:
    shape, settings = (8000, 12000, 3), core.ComparisonSettings(scale=4)
    parts = core.comparison.memory.memory_breakdown(shape, np.uint8, settings)
    pixels = 8000 * 12000
    assert parts.inputs == pixels * 3 + pixels * 3 // 16
    assert parts.results == 9 * (pixels * 3 + pixels * 4)  # results and their abs maps
    assert parts.statistics == core.metrics.measures.REFERENCE_STATISTICS_BYTES  # the reference's, for SSIM
    assert parts.workers == core.comparison.memory.default_workers()  # as many at once as a comparison runs
    assert parts.total == core.estimate_memory(shape, np.uint8, settings)
    fewer = core.estimate_memory(shape, np.uint8, core.ComparisonSettings(scale=4, methods=("bicubic",)))
    assert fewer == parts.total - 8 * (pixels * 7)
    no_maps = core.estimate_memory(shape, np.uint8, core.ComparisonSettings(scale=4, diff_kind=None))
    assert parts.total - no_maps == 9 * pixels * 4
    # Steps running at once each need their working memory; a viewer keeps more.
    one = core.comparison.memory.memory_breakdown(shape, np.uint8, settings, workers=1)
    assert core.comparison.memory.memory_breakdown(shape, np.uint8, settings, workers=3).working == 3 * one.working
    assert core.estimate_memory(shape, np.uint8, settings, shown=True) > parts.total
    upscale = core.ComparisonSettings(mode="upscale", scale=1.5)
    bigger = core.ComparisonSettings(mode="upscale", scale=1.6)
    assert core.estimate_memory(shape, np.uint8, bigger) > core.estimate_memory(shape, np.uint8, upscale)


def test_a_comparison_that_will_not_fit_is_refused_before_it_starts() -> None:
    photo = np.zeros((2000, 3000, 3), np.uint8)
    settings = core.ComparisonSettings(scale=4)
    needed = core.estimate_memory(photo.shape, photo.dtype, settings)
    with pytest.raises(core.NotEnoughMemoryError) as caught:
        core.Comparison(photo, settings, memory_budget=needed - 1)
    message = str(caught.value)
    assert f"degrading and restoring 3000x2000 by x4 with 9 methods needs about {needed / 1e9:.1f} GB of memory" in message
    assert "to fit, use fewer methods (each result takes 42 MB), a crop of the image or no difference maps" in message
    core.Comparison(photo, settings, memory_budget=needed)
    core.Comparison(photo, settings, memory_budget=1, check_memory=False)
    with pytest.raises(core.NotEnoughMemoryError, match=r"shared by 2 jobs at once \(.* each\); .* or fewer jobs at once"):
        core.Comparison(photo, settings, memory_budget=needed, jobs=2)


def test_what_the_machine_has_is_read_where_the_system_says_it() -> None:
    available = core.available_memory()
    if Path("/proc/meminfo").exists():
        assert available is not None and available > 0
    else:
        assert available is None


def test_the_command_line_names_the_shortfall(tmp_path: Path, monkeypatch) -> None:
    image = tmp_path / "photo.png"
    core.save_image(image, np.zeros((600, 800, 3), np.uint8))
    monkeypatch.setattr(core.comparison.memory, "available_memory", lambda: 10 * MB)
    report = core.export_images([image], tmp_path / "out.png", core.ExportRequest())
    (outcome,) = report.outcomes
    assert outcome.usage and outcome.output is None
    assert "needs about" in outcome.error and "and 10 MB is available; to fit, use fewer methods" in outcome.error
    assert not (tmp_path / "out.png").exists()
