"""Every method against PyTorch on the CPU, within docs/METHODS.md's tolerances.

PyTorch runs in float64; integer references are rounded and clipped as docs/METHODS.md says.
(PyTorch's native uint8 bicubic clips between passes and is deliberately not used.)
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import max_error, random_image, round_like, seeded_image, tolerance
from hypothesis import given
from hypothesis import strategies as st
from torch_reference import F, interpolate, to_numpy, to_torch, torch

import core

pytestmark = pytest.mark.torch

DTYPES = [np.uint8, np.uint16, np.float32]

shapes = st.tuples(st.integers(1, 33), st.integers(1, 33), st.sampled_from([None, 1, 3, 4]))
any_scales = st.one_of(
    st.integers(1, 5).map(float),
    st.sampled_from([1.5, 2.5, 3.5, 7 / 3, 1.3, 4.75]),
    st.floats(1.0, 5.0).map(lambda s: round(s, 3)),
)



TORCH_MODES = {
    "bilinear": ("bilinear", {"align_corners": False}),
    "bilinear-numpy": ("bilinear", {"align_corners": False}),
    "bilinear-aligned": ("bilinear", {"align_corners": True}),
    "bicubic": ("bicubic", {"align_corners": False}),
}


@pytest.mark.parametrize("method", list(TORCH_MODES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, sy=any_scales, sx=any_scales, seed=st.integers(0, 2**16))
def test_interpolation_matches_torch(method, dtype, shape, sy, sx, seed):
    image = seeded_image(seed, shape, dtype)
    ours = core.upsample(image, method, scale=(sy, sx))
    mode, kwargs = TORCH_MODES[method]
    reference = round_like(interpolate(image, ours.shape[:2], mode, **kwargs), dtype)
    assert ours.dtype == image.dtype and ours.ndim == image.ndim
    assert max_error(ours, reference) <= tolerance(dtype)


def _exact_source(method: str, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """docs/METHODS.md's nearest mappings in exact rational arithmetic, and where they tie."""
    d = np.arange(n_out)
    if method == "nearest":
        num, den = d * n_in, n_out
    else:
        num, den = (2 * d + 1) * n_in, 2 * n_out
    return np.minimum(num // den, n_in - 1), num % den == 0


@pytest.mark.parametrize("method", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("torch_dtype", ["float32", "float64"])
@given(n_in=st.integers(1, 80), n_out=st.integers(1, 300))
def test_nearest_indices_match_torch_except_its_rounding_at_exact_ties(method, torch_dtype, n_in, n_out):
    """PyTorch computes in/out in floating point; where (dst [+ 0.5]) * in/out is exactly
    an integer it may round just below and pick the pixel before. docs/METHODS.md's formula is
    exact, so that is the one place the two may differ, and only by that one pixel."""
    ramp = np.arange(n_in, dtype=np.float32)[None, :]
    ours = core.upsample(ramp, method, size=(1, n_out))[0].astype(np.int64)
    expected, tie = _exact_source(method, n_in, n_out)
    np.testing.assert_array_equal(ours, expected)
    x = torch.arange(n_in, dtype=getattr(torch, torch_dtype))[None, None, None]
    theirs = F.interpolate(x, size=(1, n_out), mode=method)[0, 0, 0].numpy().astype(np.int64)
    differs = theirs != ours
    assert np.all(tie[differs] & (theirs[differs] == ours[differs] - 1))


@pytest.mark.parametrize("method", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, sy=st.integers(1, 6), sx=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_nearest_is_byte_identical_to_torch_and_opencv_at_integer_scales(method, dtype, shape, sy, sx, seed):
    import cv2

    image = seeded_image(seed, shape, dtype)
    ours = core.upsample(image, method, scale=(sy, sx))
    np.testing.assert_array_equal(ours, interpolate(image, ours.shape[:2], method).astype(dtype))
    flag = cv2.INTER_NEAREST if method == "nearest" else cv2.INTER_NEAREST_EXACT
    opencv = cv2.resize(image, (ours.shape[1], ours.shape[0]), interpolation=flag)
    np.testing.assert_array_equal(ours, opencv.reshape(ours.shape))


@pytest.mark.parametrize("size", [(5, 7), (64, 48), (1, 9), (9, 1), (3, 3)])
@pytest.mark.parametrize("out", [(10, 14), (17, 23), (128, 96), (7, 7)])
def test_bicubic_general_path_matches_torch(rng, size, out):
    """The NumPy cubic path (used for a != -0.75) at a = -0.75, against PyTorch."""
    from core.methods.classic import bicubic

    image = random_image(rng, (*size, 3), np.float32)
    ours = bicubic(image, out, a=-0.7500001)  # forces the NumPy path
    reference = interpolate(image, out, "bicubic", align_corners=False)
    assert max_error(ours, reference) < 1e-4


@pytest.mark.parametrize("method", ["repeat", "avg-unpool"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, sy=st.integers(1, 5), sx=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_repeat_family_matches_torch_nearest_and_np_repeat(method, dtype, shape, sy, sx, seed):
    image = seeded_image(seed, shape, dtype)
    ours = core.upsample(image, method, scale=(sy, sx))
    np.testing.assert_array_equal(ours, np.repeat(np.repeat(image, sy, axis=0), sx, axis=1))
    np.testing.assert_array_equal(ours, interpolate(image, ours.shape[:2], "nearest").astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, s=st.integers(1, 4), seed=st.integers(0, 2**16), ties=st.booleans())
def test_max_pool_then_unpool_matches_torch(dtype, shape, s, seed, ties):
    h, w, c = shape
    image = seeded_image(seed, (h * s, w * s, c), dtype)
    if ties:  # few distinct values: many windows hold several equal maxima
        image = (image // (image.max() // 3 + 1)).astype(dtype) if dtype != np.float32 else np.round(image)
    low, extras = core.downsample(image, s, "max-pool")
    restored = core.upsample(low, "max-unpool", scale=s, **extras)

    pooled, indices = F.max_pool2d(to_torch(image), kernel_size=s, stride=s, return_indices=True)
    unpooled = F.max_unpool2d(pooled, indices, kernel_size=s, stride=s, output_size=image.shape[:2])
    np.testing.assert_array_equal(low, to_numpy(pooled, image).astype(dtype))
    np.testing.assert_array_equal(extras["indices"], to_numpy(indices, image))
    np.testing.assert_array_equal(restored, to_numpy(unpooled, image).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, s=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_avg_pool_matches_torch(dtype, shape, s, seed):
    h, w, c = shape
    image = seeded_image(seed, (h * s + 1, w * s, c), dtype)
    low, _ = core.downsample(image, s, "avg-pool")
    reference = round_like(to_numpy(F.avg_pool2d(to_torch(image), s, s), image), dtype)
    assert max_error(low, reference) <= (0 if dtype != np.float32 else 1e-6)


def _torch_deconv(image, kernel, s, p, op):
    x = to_torch(image)
    c = x.shape[1]
    weight = torch.from_numpy(np.ascontiguousarray(kernel, dtype=np.float64))[None, None].repeat(c, 1, 1, 1)
    out = F.conv_transpose2d(x, weight, stride=s, padding=p, output_padding=op, groups=c)
    return to_numpy(out, image)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@given(shape=shapes, s=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_transposed_conv_default_matches_torch(dtype, shape, s, seed):
    from core.methods.neural import transposed_conv_kernel

    image = seeded_image(seed, shape, dtype)
    ours = core.upsample(image, "transposed-conv", scale=s)
    assert ours.shape[:2] == (image.shape[0] * s, image.shape[1] * s)
    k = 2 * s - s % 2
    kernel = transposed_conv_kernel("bilinear", None, (s, s))
    assert kernel.shape == (k, k)
    reference = round_like(_torch_deconv(image, kernel, s, (k - s) // 2, 0), dtype)
    assert max_error(ours, reference) <= tolerance(dtype)


@given(
    shape=shapes,
    s=st.integers(2, 4),
    k=st.integers(1, 9),
    pad=st.integers(0, 3),
    op=st.integers(0, 3),
    kernel_kind=st.sampled_from(["bilinear", "box", "random", "separable"]),
    seed=st.integers(0, 2**16),
)
def test_transposed_conv_any_kernel_padding_matches_torch(shape, s, k, pad, op, kernel_kind, seed):
    """Including kernel sizes that are not a multiple of the stride: the checkerboard case."""
    from core.methods.neural import transposed_conv_kernel

    op = op % s
    image = seeded_image(seed, shape, np.float32)
    if kernel_kind in ("random", "separable"):
        rng = np.random.default_rng(seed)
        # A signed outer product runs as two 1-D passes; a random kernel as one 2-D pass.
        kernel = rng.random((k, k)) if kernel_kind == "random" else np.outer(rng.normal(size=k), rng.normal(size=k))
        params = dict(kernel=kernel, padding=pad, output_padding=op)
    else:
        kernel = transposed_conv_kernel(kernel_kind, k, (s, s))
        params = dict(kernel=kernel_kind, kernel_size=k, padding=pad, output_padding=op)
    out_size = [(n - 1) * s - 2 * pad + k + op for n in image.shape[:2]]
    if min(out_size) < 1:
        with pytest.raises(core.ParameterError, match="empty output"):
            core.upsample(image, "transposed-conv", scale=s, **params)
        return
    ours = core.upsample(image, "transposed-conv", scale=s, **params)
    reference = _torch_deconv(image, kernel, s, pad, op)
    assert max_error(ours, reference) <= 1e-4 * max(1.0, np.abs(kernel).sum())


def test_checkerboard_appears_when_kernel_size_is_not_a_multiple_of_stride():
    flat = np.ones((8, 8), np.float32)
    even = core.upsample(flat, "transposed-conv", scale=2, kernel="box", kernel_size=4)
    odd = core.upsample(flat, "transposed-conv", scale=2, kernel="box", kernel_size=3)
    assert np.ptp(even[2:-2, 2:-2]) < 1e-6  # uniform overlap: flat stays flat
    inner = odd[2:-2, 2:-2]
    assert np.ptp(inner) > 0.1 and not np.allclose(inner[::2, ::2], inner[1::2, 1::2])
