"""Histograms, channel views and exposure (core.display.adjust) against NumPy written out
independently."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.display.screen import checkerboard


def _rgba(dtype: type, seed: int = 0, shape: tuple[int, int] = (37, 53)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype is np.float32:
        return rng.random((*shape, 4), dtype=np.float32)
    peak = np.iinfo(dtype).max
    return rng.integers(0, peak + 1, (*shape, 4)).astype(dtype)


@pytest.mark.parametrize("dtype, bins", [(np.uint8, 256), (np.uint8, 16), (np.uint16, 256), (np.uint16, 1000), (np.float32, 64)])
def test_histogram_counts_equal_numpys(dtype: type, bins: int) -> None:
    image = _rgba(dtype)
    hist = core.histogram(image, bins)
    high = {np.uint8: 256, np.uint16: 65536, np.float32: 1.0}[dtype]
    assert hist.channels == ("R", "G", "B", "A", "luma")
    for index, name in enumerate("RGBA"):
        expected, edges = np.histogram(image[:, :, index], bins=bins, range=(0, high))
        np.testing.assert_array_equal(hist.of(name), expected)
        np.testing.assert_allclose(hist.edges, edges)
    assert hist.of("luma").sum() == image.shape[0] * image.shape[1]


def test_histogram_of_grey_and_of_floats_outside_the_range() -> None:
    grey = np.array([[0.0, 0.5, 1.0, 1.5], [-0.25, 0.25, 0.75, 0.5]], np.float32)
    hist = core.histogram(grey, 7)
    assert hist.channels == ("L",)
    # The span widens to the values (-0.25 to 1.5), so each is counted.
    expected, edges = np.histogram(grey, bins=7, range=(-0.25, 1.5))
    np.testing.assert_array_equal(hist.of("L"), expected)
    np.testing.assert_allclose(hist.edges, edges)
    assert hist.of("L").sum() == 8 and hist.span_text() == "-0.25 to 1.5"
    assert core.histogram(np.zeros((2, 2), np.uint8)).span_text() == "0 to 255"
    with pytest.raises(core.ParameterError, match="bins"):
        core.histogram(grey, 0)
    with pytest.raises(core.ParameterError, match="channels L"):
        hist.of("R")


def test_channel_views_pick_the_channel_and_keep_alpha() -> None:
    image = _rgba(np.uint16, seed=3)
    for index, name in enumerate("RGB"):
        view = core.channel_view(image, name)
        np.testing.assert_array_equal(view[:, :, 0], image[:, :, index])
        np.testing.assert_array_equal(view[:, :, 1], image[:, :, 3])
    np.testing.assert_array_equal(core.channel_view(image, "A"), image[:, :, 3])
    luma = image[:, :, :3].astype(np.float64) @ [0.299, 0.587, 0.114]
    assert np.abs(core.channel_view(image, "luma")[:, :, 0] - luma).max() <= 0.51  # rounded, in float32
    assert core.channel_view(image, "rgb") is image
    opaque = core.channel_view(image[:, :, :3], "A")
    assert opaque.dtype == np.uint16 and (opaque == 65535).all()
    with pytest.raises(core.ParameterError, match="channel view"):
        core.channel_view(image, "Z")


def test_adjusted_display_without_adjustment_is_the_plain_display() -> None:
    image = _rgba(np.uint8, seed=5)
    np.testing.assert_array_equal(core.adjusted_display(image), core.to_display(image))


def test_exposure_scales_before_the_eight_bit_copy() -> None:
    values = np.array([[0, 1000, 4000, 20000, 65535]], np.uint16)
    shown = core.adjusted_display(values, exposure=2.0, offset=0.0)
    expected = np.clip(np.rint(np.clip(values / 65535.0 * 4.0, 0, 1) * 255), 0, 255)
    np.testing.assert_array_equal(shown, expected.astype(np.uint8))
    shifted = core.adjusted_display(values.astype(np.float32) / 65535, exposure=0.0, offset=0.5)
    assert shifted[0, 0] == 128 and shifted[0, -1] == 255
    assert values[0, 1] == 1000  # the image itself is not changed
    with pytest.raises(core.ParameterError, match="exposure"):
        core.adjusted_display(values, exposure=float("nan"))
    with pytest.raises(core.ParameterError, match="offset"):
        core.adjusted_display(values, offset=3.0)


def test_a_single_channel_of_a_transparent_image_shows_over_the_checkerboard() -> None:
    image = np.zeros((16, 16, 4), np.uint8)
    image[:, :, 0] = 200
    shown = core.adjusted_display(image, "R")  # alpha 0 everywhere: only the checkerboard
    np.testing.assert_array_equal(shown, checkerboard(16, 16))
