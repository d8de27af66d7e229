"""The comparison pipeline: streaming, references, reasons, cancellation, job ids."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import core


@pytest.fixture
def photo() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()[:130, :101]  # not a multiple of 4: degrade mode crops


#: Every method that takes any whole-number scale (the learned ones take x2-x4 only).
CLASSIC_AND_NEURAL = tuple(spec.id for spec in core.list_methods() if spec.family != "learned" and not spec.unavailable())


def test_degrade_mode_restores_and_measures_every_method(photo):
    settings = core.ComparisonSettings(mode="degrade", scale=4, methods=CLASSIC_AND_NEURAL)
    comparison = core.Comparison(photo, settings, job_id=7)
    assert comparison.ground_truth.shape == (128, 100, 3)
    assert comparison.input.shape == (32, 25, 3)
    assert "cropped from 101x130 to 100x128" in comparison.notes[0]
    results = list(comparison)
    assert [r.method_id for r in results] == list(CLASSIC_AND_NEURAL)
    for result in results:
        assert result.job_id == 7 and result.ok and result.reason is None
        assert result.image.shape == (128, 100, 3) and result.image.dtype == np.uint8
        expected = core.upsample(comparison.input, result.method_id, scale=4)
        np.testing.assert_array_equal(result.image, expected)
        assert result.metrics.psnr == pytest.approx(core.psnr(comparison.ground_truth, result.image))
        np.testing.assert_allclose(
            result.difference, core.difference(comparison.ground_truth, result.image, kind="abs", per_channel=False)
        )
        assert result.seconds > 0
    by_id = {r.method_id: r for r in results}
    assert by_id["bicubic"].metrics.psnr > by_id["nearest"].metrics.psnr
    assert "bed of nails" in by_id["max-unpool"].note


def test_the_default_methods_are_one_of_each_behaviour_in_registry_order():
    # The set the window ticks on first start, the command line and notebooks run.
    expected = [
        "nearest",
        "bilinear",
        "bilinear-aligned",
        "bicubic",
        "lanczos4",
        "area",
        "avg-unpool",
        "max-unpool",
        "transposed-conv",
    ]
    assert [choice.id for choice in core.default_methods()] == expected
    assert all(not choice.params for choice in core.default_methods())
    assert core.ComparisonSettings().method_choices() == core.default_methods()


def test_max_pool_positions_reach_max_unpooling(photo):
    settings = core.ComparisonSettings(mode="degrade", scale=2, downsampler="max-pool", methods=("max-unpool",))
    comparison = core.Comparison(photo, settings)
    (result,) = list(comparison)
    assert result.note is None
    truth = comparison.ground_truth
    kept = result.image != 0
    np.testing.assert_array_equal(result.image[kept], truth[kept])  # each maximum back in place
    assert kept.mean() == pytest.approx(0.25, abs=0.02)


def test_methods_that_cannot_take_the_scale_yield_a_reason(photo):
    settings = core.ComparisonSettings(mode="upscale", scale=2.5, methods=("bilinear", "repeat", "transposed-conv"))
    results = list(core.compare(photo, settings))
    assert results[0].ok and results[0].image.shape == (325, 253, 3)  # floor(101 * 2.5 + 0.5)
    assert not results[1].ok and results[1].image is None
    assert results[1].reason == "Repeat (UpSampling2D) takes whole-number scales only (x2, x3, ...), not x2.5"
    assert "whole-number" in results[2].reason


def test_pooling_downsampler_at_a_fractional_scale_is_refused_up_front(photo):
    with pytest.raises(core.UnsupportedScaleError, match=r"Average pooling takes whole-number factors only .*x2\.5"):
        core.Comparison(photo, core.ComparisonSettings(scale=2.5, downsampler="avg-pool"))


def test_upscale_mode_without_reference_has_no_metrics(photo):
    (result,) = list(core.compare(photo, core.ComparisonSettings(mode="upscale", scale=2, methods=("bicubic",))))
    assert result.ok and result.metrics is None and result.difference is None


def test_a_method_as_reference_is_computed_once_and_scores_itself_perfectly(photo):
    settings = core.ComparisonSettings(mode="upscale", scale=3, methods=("nearest", "bicubic"), reference="bicubic")
    nearest, bicubic = list(core.compare(photo, settings))
    assert bicubic.metrics.psnr == math.inf
    assert nearest.metrics.psnr == pytest.approx(core.psnr(bicubic.image, nearest.image))


def test_paper_convention_shaves_the_scale(photo):
    settings = core.ComparisonSettings(scale=3, methods=("bicubic",), convention="paper")
    comparison = core.Comparison(photo, settings)
    (result,) = list(comparison)
    assert result.metrics.convention == "paper" and result.metrics.shave == 3
    expected = core.psnr(
        core.paper_view(comparison.ground_truth, 3).astype(np.float32),
        core.paper_view(result.image, 3).astype(np.float32),
        data_range=1.0,
    )
    assert result.metrics.psnr == pytest.approx(expected)


def test_method_parameters_are_passed_through(photo):
    choice = core.MethodChoice("bicubic", {"a": -0.5})
    (result,) = list(core.compare(photo, core.ComparisonSettings(scale=2, methods=(choice,))))
    assert result.params == {"a": -0.5}
    low = core.downsample(photo, 2, "bicubic-aa")[0]
    np.testing.assert_array_equal(result.image, core.upsample(low, "bicubic", scale=2, a=-0.5))


def test_a_transposed_conv_of_another_size_gets_a_note_not_metrics(photo):
    choice = core.MethodChoice("transposed-conv", {"kernel_size": 4, "padding": 0})
    (result,) = list(core.compare(photo, core.ComparisonSettings(scale=2, methods=(choice,))))
    assert result.ok and result.metrics is None and "no metrics" in result.note


def test_results_stream_one_at_a_time_and_cancel_between_methods(photo):
    comparison = core.Comparison(photo, core.ComparisonSettings(scale=2))
    stream = iter(comparison)
    first = next(stream)
    assert first.method_id == "nearest"
    worker = threading.Thread(target=comparison.cancel)
    worker.start()
    worker.join()
    assert comparison.cancelled and list(stream) == []


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(mode="zoom"), "mode must be 'upscale' or 'degrade'"),
        (dict(scale=0), "scale must be a positive finite number; got 0"),
        (dict(scale=0.5), "scale must be at least 1"),
        (dict(scale=float("nan")), "scale is NaN"),
        (dict(scale=100), "scale 100 is over the limit of 16 for comparisons"),
        (dict(scale=(4, 16.5)), "scale 4,16.5 is over the limit of 16"),
        (dict(methods=("bilinear", "magic")), "unknown method 'magic'"),
        (dict(downsampler="blur"), "unknown downsampler 'blur'"),
        (dict(reference="best"), "unknown method 'best'"),
    ],
)
def test_bad_settings_are_refused_before_anything_runs(photo, settings, message):
    with pytest.raises(core.ParameterError, match=message):
        core.Comparison(photo, core.ComparisonSettings(**settings))


def test_the_scale_limit_is_one_setting_and_allows_its_own_value(photo, monkeypatch):
    (result,) = list(core.compare(photo[:32, :32], core.ComparisonSettings(mode="upscale", scale=16, methods=("nearest",))))
    assert result.ok and result.image.shape == (512, 512, 3)
    monkeypatch.setattr(core.limits, "max_scale", 8)
    with pytest.raises(core.ParameterError, match="scale 16 is over the limit of 8"):
        core.Comparison(photo, core.ComparisonSettings(mode="upscale", scale=16))
    # One method call is not a comparison: it takes larger scales while the output fits.
    assert core.upsample(photo[:4, :4], "nearest", scale=100).shape == (400, 400, 3)


def test_a_reference_that_cannot_run_says_why(photo):
    settings = core.ComparisonSettings(mode="upscale", scale=2.5, methods=("bilinear",), reference="repeat")
    comparison = core.Comparison(photo, settings)
    (result,) = list(comparison)
    assert result.ok and result.metrics is None
    assert comparison.notes == ["No reference: Repeat (UpSampling2D) takes whole-number scales only (x2, x3, ...), not x2.5"]
