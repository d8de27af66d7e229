"""Corner-aligned bilinear by OpenCV's half-pixel kernel on crops of the input
(docs/METHODS.md#bilinear-aligned): the mapping it relies on, checked in exact fractions,
and its results against the float64 definition and PyTorch's align_corners=True."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_exact_long_axes import assert_within_tolerance, content, definition

import core
from core.methods.taps import OPENCV_SHARE, aligned_split, opencv_aligned_axis_error, tolerance_fraction


@given(n_in=st.integers(1, 3000), n_out=st.integers(1, 9000))
@example(n_in=512, n_out=2048)
@example(n_in=7, n_out=21)
def test_a_split_puts_opencvs_half_pixel_samples_on_the_aligned_ones(n_in, n_out):
    split = aligned_split(n_in, n_out)
    if split is None:  # no crop meets the aligned mapping: both (in-1)/g and (out-1)/g must be odd
        m, k = n_in - 1, n_out - 1
        assert m == 0 or k == 0 or ((m // np.gcd(m, k)) % 2 == 0 or (k // np.gcd(m, k)) % 2 == 0)
        return
    if n_in == n_out:
        assert split == (0, 0, 1.0, 0)
        return
    step = Fraction(n_in - 1, n_out - 1)  # input samples per output, aligned
    assert Fraction(split.scale) == pytest.approx(1 / step, rel=1e-15)
    for j in (0, split.clamped, split.clamped + 1, n_out - split.first_out - 1):
        opencv = split.first_in + (j + Fraction(1, 2)) * step - Fraction(1, 2)
        assert opencv == (split.first_out + j) * step  # the same sample, exactly
        assert (opencv < split.first_in) == (j < split.clamped)  # OpenCV clamps exactly those
    # The outputs from the split on and their mirror cover the axis, but for the clamped.
    assert 2 * (split.first_out + split.clamped) <= n_out + 2 * split.clamped + 1


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32], ids=lambda d: np.dtype(d).name)
@settings(max_examples=60, deadline=None)
@given(
    height=st.integers(1, 160),
    width=st.integers(1, 160),
    rows=st.integers(1, 700),
    cols=st.integers(1, 700),
    channels=st.sampled_from([1, 3, 4]),
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(["noise", "edges"]),
)
@example(height=64, width=48, rows=256, cols=192, channels=3, seed=0, kind="edges")
@example(height=2, width=2, rows=4, cols=4, channels=1, seed=1, kind="noise")
@example(height=33, width=8, rows=33, cols=64, channels=3, seed=2, kind="edges")
def test_bilinear_aligned_matches_the_definition(dtype, height, width, rows, cols, channels, seed, kind):
    image = content(seed, kind, (height, width, channels), dtype)
    ours = core.upsample(image, "bilinear-aligned", size=(rows, cols), backend="cpu")
    assert_within_tolerance(ours, definition(image, "bilinear-aligned", (rows, cols)), dtype)


@pytest.mark.parametrize("n", [16, 64, 512, 1024, 2048, 4096])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_even_8_bit_images_at_whole_scales_take_opencv(n, scale):
    """The fast path is the common one for photographs: where it is refused, the exact
    taps run (correct, but 10 to 20 times slower). 16-bit and float images on axes of
    hundreds of pixels need more than OpenCV's float32 coordinates, as for `bilinear`."""
    error = opencv_aligned_axis_error(n, scale * n)
    assert error <= OPENCV_SHARE * tolerance_fraction(np.uint8) / 2


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bilinear_aligned_is_pytorchs_align_corners(scale):
    torch = pytest.importorskip("torch")
    image = content(5, "noise", (64, 48, 3), np.uint8)
    ours = core.upsample(image, "bilinear-aligned", scale=scale, backend="cpu")
    batch = torch.from_numpy(image.astype(np.float64)).permute(2, 0, 1)[None]
    theirs = torch.nn.functional.interpolate(batch, scale_factor=scale, mode="bilinear", align_corners=True)
    expected = theirs[0].permute(1, 2, 0).numpy()
    assert np.abs(ours.astype(np.float64) - expected).max() <= 1.0
