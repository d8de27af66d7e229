"""Bad values given to the numeric API: each raises with a message naming value and reason."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import core

IMAGE = np.zeros((8, 8, 3), np.uint8)


@pytest.mark.parametrize(
    "scale, message",
    [
        (0, "scale must be a positive finite number; got 0"),
        (-2, "scale must be a positive finite number; got -2"),
        (float("nan"), "scale is NaN; give a positive number such as 2 or 3.5"),
        (float("inf"), "scale must be a positive finite number; got inf"),
        (1e9, r"scale 1e\+09 gives 8000000000x8000000000 pixels .* over the limit of 268 megapixels"),
        ("2", "scale must be a number or a \\(y, x\\) pair; got '2'"),
        (True, "scale must be a number; got True"),
        ((2, 3, 4), "scale must be a number or a \\(y, x\\) pair"),
        (0.01, "scale 0.01 turns 8x8 into an empty image"),
    ],
)
def test_bad_scales(scale, message):
    with pytest.raises(core.ParameterError, match=message):
        core.upsample(IMAGE, "bilinear", scale=scale)


@pytest.mark.parametrize("method", ["repeat", "avg-unpool", "max-unpool", "transposed-conv"])
def test_integer_methods_refuse_fractional_scales(method):
    with pytest.raises(core.UnsupportedScaleError, match=r"takes whole-number scales only \(x2, x3, ...\), not x3\.5"):
        core.upsample(IMAGE, method, scale=3.5)
    with pytest.raises(core.UnsupportedScaleError, match="output width 20 is not a multiple of the input width 8"):
        core.upsample(IMAGE, method, size=(16, 20))


@pytest.mark.parametrize("method", ["repeat", "max-unpool", "transposed-conv", "espcn", "fsrcnn"])
def test_a_scale_near_a_whole_number_is_named_as_given(method):
    # 2.0000001 is not x2: the message said "not x2", contradicting itself.
    with pytest.raises(core.UnsupportedScaleError, match=r"not x2\.0000001$"):
        core.upsample(IMAGE, method, scale=2.0000001)
    with pytest.raises(core.UnsupportedScaleError, match=r"not x2\.0000001$"):
        core.upsample(IMAGE, method, scale=(2.0000001, 2.0000001))


def test_every_scale_in_a_message_is_the_one_given():
    with pytest.raises(core.UnsupportedScaleError, match=r"not x3\.0000001$"):
        core.downsample(IMAGE, 3.0000001, "avg-pool")
    with pytest.raises(core.ParameterError, match=r"got -2\.0000001$"):
        core.upsample(IMAGE, "nearest", scale=-2.0000001)
    with pytest.raises(core.ParameterError, match=r"^scale 16\.0000001 is over the limit of 16"):
        core.Comparison(IMAGE, core.ComparisonSettings(scale=16.0000001))
    with pytest.raises(core.ParameterError, match=r"^scale 2,16\.0000001 is over the limit of 16"):
        core.Comparison(IMAGE, core.ComparisonSettings(scale=(2, 16.0000001)))


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((0, 5), np.uint8), r"image is empty \(shape \(0, 5\)\)"),
        (np.zeros((4, 4), np.float64), "image has dtype float64; Upscope works on uint8, uint16 and float32"),
        (np.zeros((4, 4), np.int16), "image has dtype int16"),
        (np.zeros((4, 4, 5), np.uint8), "image must have 1 to 4 channels; got 5"),
        (np.zeros((2, 4, 4, 3), np.uint8), "image must have shape \\(H, W\\) or \\(H, W, C\\)"),
        (np.full((4, 4), np.nan, np.float32), "image contains NaN or infinite values"),
        ([[1, 2], [3, 4]], "image must be a NumPy array, got list"),
    ],
)
def test_bad_images(image, message):
    with pytest.raises(core.ParameterError, match=message):
        core.upsample(image, "nearest", scale=2)


def test_one_pixel_image_upsamples_with_every_method():
    dot = np.array([[[10, 20, 30]]], np.uint8)
    for spec in core.list_methods():  # (a convention of a library not installed cannot run)
        if spec.unavailable():
            continue
        result = core.upsample(dot, spec.id, scale=3)
        assert result.shape == (3, 3, 3), spec.id


@pytest.mark.parametrize(
    "method, params, message",
    [
        ("bilinear", {"a": -0.5}, "bilinear: unknown parameter 'a' \\(accepted: none\\)"),
        ("bicubic", {"a": 2}, "bicubic: parameter 'a' must be at most 0.0; got 2"),
        ("bicubic", {"a": float("nan")}, "bicubic: parameter 'a' is NaN; give a finite number"),
        ("bicubic", {"a": float("inf")}, "bicubic: parameter 'a' must be finite; got inf"),
        ("bicubic", {"a": "soft"}, "bicubic: parameter 'a' must be a number; got 'soft'"),
        ("transposed-conv", {"kernel": "gauss"}, "parameter 'kernel' must be 'bilinear' or 'box' or a 2-D array; got 'gauss'"),
        ("transposed-conv", {"kernel": np.ones(3)}, "must be a non-empty 2-D array; got shape \\(3,\\)"),
        ("transposed-conv", {"kernel_size": 2.5}, "parameter 'kernel_size' must be a whole number, got 2.5"),
        ("transposed-conv", {"output_padding": 2}, "output_padding 2 must be smaller than the stride 2"),
        ("transposed-conv", {"kernel": np.ones((3, 3)), "kernel_size": 4}, "kernel_size 4 contradicts the given 3x3 kernel"),
        ("max-unpool", {"indices": np.zeros((2, 2), np.int64)}, "indices have shape \\(2, 2\\), but the image is 8x8"),
        ("max-unpool", {"indices": np.full((8, 8), 999, np.int64)}, "indices must lie in \\[0, 256\\)"),
        ("transposed-conv", {"kernel": [[1e300, 1.0]]}, "taps of 1e\\+300 in total magnitude, over 1e\\+30"),
    ],
)
def test_bad_parameters(method, params, message):
    with pytest.raises(core.ParameterError, match=message):
        core.upsample(IMAGE, method, scale=2, **params)


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(core.ParameterError, match="unknown method 'superres'; known methods: nearest, "):
        core.upsample(IMAGE, "superres", scale=2)


def test_scale_and_size_are_exclusive():
    with pytest.raises(core.ParameterError, match="exactly one of scale= and size="):
        core.upsample(IMAGE, "nearest")
    with pytest.raises(core.ParameterError, match="exactly one of scale= and size="):
        core.upsample(IMAGE, "nearest", scale=2, size=(16, 16))
    with pytest.raises(core.ParameterError, match="size must be two positive whole numbers"):
        core.upsample(IMAGE, "nearest", size=(16, 0))


def test_output_limit_is_configurable(monkeypatch):
    monkeypatch.setattr(core.limits, "max_output_pixels", 100)
    with pytest.raises(core.ParameterError, match="scale 4 gives 32x32 pixels"):
        core.upsample(IMAGE, "nearest", scale=4)


def test_outputs_keep_dtype_and_channels():
    for dtype in (np.uint8, np.uint16, np.float32):
        for shape in ((5, 6), (5, 6, 1), (5, 6, 3), (5, 6, 4)):
            image = np.ones(shape, dtype)
            for spec in (s for s in core.list_methods() if not s.unavailable()):
                out = core.upsample(image, spec.id, scale=2)
                assert out.dtype == dtype and out.ndim == image.ndim and out.shape[2:] == shape[2:], spec.id


# Values near float32's limit ------------------------------------------------------------------

FLOAT32_MAX = float(np.finfo(np.float32).max)
BACKENDS = [info.name for info in core.available_backends()]


def test_an_overflowing_bicubic_is_refused_naming_the_value():
    # Finite input, but bicubic's overshoot past 3e38 does not fit in float32: it gave NaN.
    image = np.array([[3e38, -3e38, 3e38]], np.float32)
    with pytest.raises(core.ParameterError, match=r"^Bicubic: the result leaves float32's range .* the input reaches 3e\+38"):
        core.upsample(image, "bicubic", scale=2)


@given(
    method=st.sampled_from([spec.id for spec in core.list_methods() if not spec.unavailable()]),
    backend=st.sampled_from(BACKENDS),
    magnitude=st.floats(1e30, FLOAT32_MAX),
    seed=st.integers(0, 2**16),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([None, 3])),
)
def test_huge_float32_values_give_a_finite_result_or_a_refusal(method, backend, magnitude, seed, shape):
    rng = np.random.default_rng(seed)
    h, w, c = shape
    signs = rng.choice([-1.0, 1.0], (h, w) if c is None else (h, w, c))
    image = (signs * magnitude * rng.uniform(0.5, 1.0, signs.shape)).astype(np.float32)
    label = core.get_method(method).label
    try:
        result = core.upsample(image, method, scale=2, backend=backend)
    except core.ParameterError as exc:
        assert str(exc).startswith(f"{label}: the result leaves float32's range"), exc
    else:
        assert np.isfinite(result).all(), f"{method} on {backend}"


@given(
    downsampler=st.sampled_from([spec.id for spec in core.list_downsamplers()]),
    magnitude=st.floats(1e30, FLOAT32_MAX),
    seed=st.integers(0, 2**16),
)
def test_huge_float32_values_shrink_to_a_finite_image_or_a_refusal(downsampler, magnitude, seed):
    rng = np.random.default_rng(seed)
    image = (rng.choice([-1.0, 1.0], (12, 12)) * magnitude).astype(np.float32)
    try:
        low, _ = core.downsample(image, 2, downsampler)
    except core.ParameterError as exc:
        assert str(exc).startswith(f"{core.get_downsampler(downsampler).label}: the result leaves float32's range"), exc
    else:
        assert np.isfinite(low).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_comparison_reports_the_overflowing_method_and_keeps_the_others(backend):
    image = np.tile(np.array([[3e38, -3e38, 3e38, 0]], np.float32), (6, 2))
    settings = core.ComparisonSettings(mode="upscale", scale=2, methods=("nearest", "bicubic"), backend=backend)
    nearest, bicubic = core.compare(image, settings)
    assert nearest.ok and np.isfinite(nearest.image).all()
    assert not bicubic.ok and bicubic.reason.startswith("Bicubic: the result leaves float32's range")
    with pytest.raises(core.ParameterError, match="^Area: the result leaves float32's range"):
        core.Comparison(np.full((8, 8), 3e38, np.float32), core.ComparisonSettings(downsampler="area", backend=backend))
