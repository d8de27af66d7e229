"""Bad values given to the numeric API: each raises with a message naming value and reason."""

from __future__ import annotations

import numpy as np
import pytest

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
    for spec in core.list_methods():
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
            for spec in core.list_methods():
                out = core.upsample(image, spec.id, scale=2)
                assert out.dtype == dtype and out.ndim == image.ndim and out.shape[2:] == shape[2:], spec.id
