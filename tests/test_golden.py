"""The worked examples of the seed articles, as exact golden values."""

from __future__ import annotations

import numpy as np
import pytest

import core

SEED_2X2 = np.array([[1, 2], [3, 4]], dtype=np.float32)


def test_nearest_doubles_each_pixel():
    expected = [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    np.testing.assert_array_equal(core.upsample(SEED_2X2, "nearest", scale=2), expected)


@pytest.mark.parametrize("method", ["bilinear", "bilinear-numpy"])
def test_bilinear_half_pixel_worked_example(method):
    expected = [
        [1, 1.25, 1.75, 2],
        [1.5, 1.75, 2.25, 2.5],
        [2.5, 2.75, 3.25, 3.5],
        [3, 3.25, 3.75, 4],
    ]
    np.testing.assert_allclose(core.upsample(SEED_2X2, method, scale=2), expected, atol=1e-6)


def test_bilinear_aligned_worked_example():
    third = 1 / 3
    row0 = [1, 1 + third, 1 + 2 * third, 2]
    expected = [[v + 2 * k * third for v in row0] for k in range(4)]
    result = core.upsample(SEED_2X2, "bilinear-aligned", scale=2)
    np.testing.assert_allclose(result[0], [1, 1.3333, 1.6667, 2], atol=1e-4)
    np.testing.assert_allclose(result, expected, atol=1e-6)


def test_bilinear_aligned_to_3x5():
    expected = [
        [1, 1.25, 1.5, 1.75, 2],
        [2, 2.25, 2.5, 2.75, 3],
        [3, 3.25, 3.5, 3.75, 4],
    ]
    np.testing.assert_allclose(core.upsample(SEED_2X2, "bilinear-aligned", size=(3, 5)), expected, atol=1e-6)


def test_nearest_3x3_to_4x4_maps_src_as_dst_times_three_quarters_rounded_down():
    image = np.arange(9, dtype=np.uint8).reshape(3, 3)
    src = [int(np.floor(d * 3 / 4)) for d in range(4)]  # 0, 0, 1, 2
    assert src == [0, 0, 1, 2]
    np.testing.assert_array_equal(core.upsample(image, "nearest", size=(4, 4)), image[np.ix_(src, src)])


def test_transposed_conv_default_equals_bilinear_inside_and_darkens_at_border():
    image = np.full((6, 6), 100, dtype=np.float32)
    deconv = core.upsample(image, "transposed-conv", scale=2)
    assert deconv.shape == (12, 12)
    np.testing.assert_allclose(deconv[1:-1, 1:-1], 100, atol=1e-4)
    # The outermost ring sees only part of the kernel: zero padding darkens it.
    assert deconv[0, 5] == pytest.approx(75) and deconv[0, 0] == pytest.approx(56.25)


def test_repeat_and_unpooling_of_the_seed():
    repeated = core.upsample(SEED_2X2, "repeat", scale=2)
    np.testing.assert_array_equal(repeated, np.repeat(np.repeat(SEED_2X2, 2, 0), 2, 1))
    np.testing.assert_array_equal(core.upsample(SEED_2X2, "avg-unpool", scale=2), repeated)
    nails = core.upsample(SEED_2X2, "max-unpool", scale=2)
    np.testing.assert_array_equal(nails, [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])
