"""Classic methods on long axes (1,000 to 10,000 pixels), in every dtype, against float64
definitions written out here from docs/METHODS.md.

OpenCV computes source coordinates in float32 and drops area slivers thinner than a
thousandth of a pixel; on long axes that moves uint16 and float32 results by many
levels. These tests hold every method to docs/METHODS.md's tolerance there, with one
row or one column (a short second axis, enlarged or reduced, keeps them fast and covers
resizes that enlarge one axis and reduce the other).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import max_error, round_like, tolerance
from hypothesis import example, given, settings
from hypothesis import strategies as st

import core

DTYPES = [np.uint8, np.uint16, np.float32]
Taps = tuple[np.ndarray, np.ndarray]


def _floor_fraction(numerator: np.ndarray, denominator: int) -> tuple[np.ndarray, np.ndarray]:
    """``floor(n / d)`` and ``n / d - floor(n / d)`` of exact integer ratios."""
    return numerator // denominator, (numerator % denominator) / denominator


def _half_pixel(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """``src = (dst + 0.5) * n_in / n_out - 0.5`` as an exact integer part and fraction."""
    dst = np.arange(n_out, dtype=np.int64)
    return _floor_fraction((2 * dst + 1) * n_in - n_out, 2 * n_out)


def _clamped(base: np.ndarray, offsets: np.ndarray, n_in: int) -> np.ndarray:
    return np.clip(base[:, None] + offsets, 0, n_in - 1)


def nearest_reference(n_in: int, n_out: int) -> Taps:
    """src = min(floor(dst * n_in / n_out), n_in - 1)."""
    dst = np.arange(n_out, dtype=np.int64)
    return np.minimum(dst * n_in // n_out, n_in - 1)[:, None], np.ones((n_out, 1))


def nearest_exact_reference(n_in: int, n_out: int) -> Taps:
    """src = min(floor((dst + 0.5) * n_in / n_out), n_in - 1)."""
    dst = np.arange(n_out, dtype=np.int64)
    return np.minimum((2 * dst + 1) * n_in // (2 * n_out), n_in - 1)[:, None], np.ones((n_out, 1))


def _linear_at(base: np.ndarray, frac: np.ndarray, n_in: int) -> Taps:
    below_zero = base < 0  # clamped at 0: the first pixel, whole
    base, frac = np.where(below_zero, 0, base), np.where(below_zero, 0.0, frac)
    return _clamped(base, np.arange(2), n_in), np.stack([1 - frac, frac], axis=1)


def bilinear_reference(n_in: int, n_out: int) -> Taps:
    """Half-pixel centres clamped at 0; neighbours floor(src), floor(src) + 1 (edge repeated)."""
    return _linear_at(*_half_pixel(n_in, n_out), n_in)


def bilinear_aligned_reference(n_in: int, n_out: int) -> Taps:
    """src = dst * (n_in - 1) / (n_out - 1), 0 for a single output."""
    dst = np.arange(n_out, dtype=np.int64)
    base, frac = _floor_fraction(dst * (n_in - 1), max(n_out - 1, 1))
    return _linear_at(base, frac, n_in)


def keys(x: np.ndarray, a: float) -> np.ndarray:
    x = np.abs(x)
    near = (a + 2) * x**3 - (a + 3) * x**2 + 1
    far = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def bicubic_reference(n_in: int, n_out: int, a: float = -0.75) -> Taps:
    """Keys' kernel on the four neighbours floor(src) - 1 ... floor(src) + 2, clamped."""
    base, frac = _half_pixel(n_in, n_out)
    offsets = np.arange(-1, 3)
    return _clamped(base, offsets, n_in), keys(frac[:, None] - offsets, a)


def lanczos4_reference(n_in: int, n_out: int) -> Taps:
    """sinc(x) sinc(x / 4) on floor(src) - 3 ... floor(src) + 4, normalised, clamped."""
    base, frac = _half_pixel(n_in, n_out)
    offsets = np.arange(-3, 5)
    x = frac[:, None] - offsets
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(x == 0, 1.0, 4 * np.sin(np.pi * x) * np.sin(np.pi * x / 4) / (np.pi * x) ** 2)
    return _clamped(base, offsets, n_in), w / w.sum(axis=1, keepdims=True)


def area_reference(n_in: int, n_out: int) -> Taps:
    """Output d covers [d, d + 1) * n_in / n_out; input j covers [j, j + 1). In units of
    1 / n_out both are integers, so the overlaps are exact."""
    dst = np.arange(n_out, dtype=np.int64)[:, None]
    reach = -(-n_in // n_out) + 1
    src = dst * n_in // n_out + np.arange(reach)
    overlap = np.minimum((dst + 1) * n_in, (src + 1) * n_out) - np.maximum(dst * n_in, src * n_out)
    return np.minimum(src, n_in - 1), np.maximum(overlap, 0) / n_in


REFERENCES = {
    "nearest": nearest_reference,
    "nearest-exact": nearest_exact_reference,
    "bilinear": bilinear_reference,
    "bilinear-numpy": bilinear_reference,
    "bilinear-aligned": bilinear_aligned_reference,
    "bicubic": bicubic_reference,
    "lanczos4": lanczos4_reference,
    "area": area_reference,
}


def resample(image: np.ndarray, rows: Taps, cols: Taps) -> np.ndarray:
    """``(H, W, C)`` image resampled by per-axis tap tables, in float64."""
    data = image.astype(np.float64)
    across = np.einsum("hwtc,wt->hwc", data[:, cols[0]], cols[1])
    return np.einsum("htwc,ht->hwc", across[rows[0]], rows[1])


def definition(image: np.ndarray, method: str, size: tuple[int, int], **params) -> np.ndarray:
    """``method``'s result for ``(H, W, C)`` ``image`` at ``size``, unrounded float64."""
    reference = REFERENCES[method]
    table = (lambda n_in, n_out: reference(n_in, n_out, params["a"])) if params else reference
    return resample(image, table(image.shape[0], size[0]), table(image.shape[1], size[1]))


def content(seed: int, kind: str, shape: tuple[int, int, int], dtype) -> np.ndarray:
    """Noise over the dtype's range, or random hard edges between its extremes (floats:
    -0.25 and 1.25, so the data range is 1.5 as `tolerance` assumes)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    low, high = (0, np.iinfo(dtype).max) if dtype.kind == "u" else (-0.25, 1.25)
    if kind == "edges":
        return np.where(rng.random(shape) < 0.5, low, high).astype(dtype)
    if dtype.kind == "u":
        return rng.integers(low, high + 1, size=shape, dtype=dtype)
    return (rng.random(shape) * (high - low) + low).astype(dtype)


long_axes = st.integers(1000, 10_000)
# Mostly long results; sometimes a strong reduction, whose area averages have many taps.
long_results = st.one_of(st.integers(1000, 10_000), st.integers(1, 999))


@st.composite
def long_cases(draw):
    """(input shape (H, W, C), output size, content seed and kind): one long axis, one short."""
    n_in, n_out = draw(long_axes), draw(long_results)
    short_in, short_out = draw(st.integers(1, 6)), draw(st.integers(1, 12))
    channels = draw(st.sampled_from([1, 3]))
    if draw(st.booleans()):  # a row
        shape, size = (short_in, n_in, channels), (short_out, n_out)
    else:  # a column
        shape, size = (n_in, short_in, channels), (n_out, short_out)
    return shape, size, draw(st.integers(0, 2**16)), draw(st.sampled_from(["noise", "edges"]))


def assert_within_tolerance(ours: np.ndarray, reference: np.ndarray, dtype) -> None:
    assert ours.dtype == dtype and ours.shape == reference.shape
    error = max_error(ours, round_like(reference, dtype))
    assert error <= tolerance(dtype), f"{error:g} off the definition (tolerance {tolerance(dtype):g})"


@pytest.mark.parametrize("method", sorted(REFERENCES))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@settings(max_examples=40)
@given(case=long_cases())
@example(case=((1, 4001, 1), (1, 10003), 0, "noise"))
@example(case=((4001, 1, 1), (10003, 3), 1, "edges"))
@example(case=((2, 10003, 3), (5, 4001), 2, "edges"))
@example(case=((6, 8191, 1), (2, 20000 // 2), 3, "noise"))
def test_long_axes_match_the_definition(method, dtype, case):
    shape, size, seed, kind = case
    image = content(seed, kind, shape, dtype)
    ours = core.upsample(image, method, size=size, backend="cpu")
    assert_within_tolerance(ours, definition(image, method, size), dtype)


@pytest.mark.parametrize("a", [-0.5, -0.75 + 1e-12, -1.0])
@pytest.mark.parametrize("dtype", [np.uint16, np.float32], ids=lambda d: np.dtype(d).name)
@settings(max_examples=10)
@given(case=long_cases())
def test_bicubic_with_any_a_matches_keys_on_long_axes(a, dtype, case):
    shape, size, seed, kind = case
    image = content(seed, kind, shape, dtype)
    ours = core.upsample(image, "bicubic", size=size, backend="cpu", a=a)
    assert_within_tolerance(ours, definition(image, "bicubic", size, a=a), dtype)


def test_nearly_equal_cubic_parameters_give_nearly_equal_results():
    """a = -0.75 is OpenCV's own kernel; a hair away from it used to take another path and
    land 12 levels apart on this row."""
    row = content(7, "noise", (1, 4001), np.uint16)
    default = core.upsample(row, "bicubic", size=(1, 10003), backend="cpu")
    nudged = core.upsample(row, "bicubic", size=(1, 10003), backend="cpu", a=-0.75 + 1e-12)
    assert max_error(default, nudged.astype(np.float64)) <= 1


def test_area_with_one_axis_enlarged_and_the_other_reduced_is_an_area_mean():
    """Three pixels become one column of two: each output pixel covers all three."""
    out = core.upsample(np.array([[0, 90, 255]], np.uint8), "area", size=(2, 1), backend="cpu")
    assert out.tolist() == [[115], [115]]


@settings(max_examples=30)
@given(
    method=st.sampled_from(["nearest", "nearest-exact"]),
    n_in=st.integers(100_000, 400_000),
    n_out=st.integers(50_000, 600_000),
)
@example(method="nearest-exact", n_in=290_624, n_out=97_230)
@example(method="nearest-exact", n_in=267_383, n_out=516_908)
@example(method="nearest-exact", n_in=380_265, n_out=496_268)
def test_nearest_picks_the_defined_pixel_on_very_wide_images(method, n_in, n_out):
    """OpenCV's nearest-exact is off by one pixel in places on axes of about 100,000
    pixels and more; every output must still copy the pixel the formula names."""
    ramp = np.arange(n_in, dtype=np.float32)[None]  # each value names its own column
    ours = core.upsample(ramp, method, size=(1, n_out), backend="cpu")[0].astype(np.int64)
    np.testing.assert_array_equal(ours, REFERENCES[method](n_in, n_out)[0][:, 0])
