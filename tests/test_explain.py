"""How each pixel was made (docs/METHODS.md#explain): the taps `core.explain_pixel` lists
reproduce every linear method's own output on random images, methods, scales, parameters
and pixels, borders included; the formulas carry the worked numbers; the matrix of a
transposed convolution is PyTorch's; resize-convolution is PyTorch's resize then conv2d."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from skimage import data

import core

DTYPES = (np.uint8, np.uint16, np.float32)
ANY_SCALE = ("nearest", "nearest-exact", "bilinear", "bilinear-aligned", "bilinear-numpy", "bicubic", "lanczos4",
             "area", "resize-conv")
WHOLE_SCALE = ("repeat", "avg-unpool", "max-unpool", "transposed-conv")


def random_image(rng: np.random.Generator, shape: tuple[int, int], channels: int, dtype: type) -> np.ndarray:
    if np.dtype(dtype).kind == "f":
        image = rng.random((*shape, channels)).astype(np.float32)
    else:
        image = rng.integers(0, np.iinfo(dtype).max + 1, (*shape, channels)).astype(dtype)
    return image


@st.composite
def linear_cases(draw: st.DrawFn) -> tuple[str, dict, object]:
    """A method, its parameters and a scale (or output size) it takes."""
    method = draw(st.sampled_from(ANY_SCALE + WHOLE_SCALE))
    params: dict = {}
    if method in WHOLE_SCALE:
        scale: object = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    else:
        scale = draw(st.sampled_from([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, (2.0, 3.0), (1.25, 2.75)]))
    if method == "bicubic":
        params["a"] = draw(st.floats(-1.0, 0.0))
    if method == "transposed-conv":
        kind = draw(st.sampled_from(["bilinear", "box", "array"]))
        size = draw(st.integers(1, 7))
        if kind == "array":
            params["kernel"] = draw(st.lists(st.lists(st.floats(-1, 1), min_size=size, max_size=size),
                                             min_size=size, max_size=size))
        else:
            params["kernel"] = kind
            params["kernel_size"] = draw(st.none() | st.just(size))
        params["padding"] = draw(st.none() | st.integers(0, 3))
    if method == "resize-conv":
        params["resize"] = draw(st.sampled_from(["nearest", "bilinear"]))
        params["kernel"] = draw(st.sampled_from(["box", "bilinear"]))
        params["kernel_size"] = draw(st.sampled_from([1, 3, 5]))
        params["border"] = draw(st.sampled_from(["edge", "zeros"]))
    return method, params, scale


def tolerance(dtype: type) -> float:
    """One level of an integer dtype (OpenCV's fixed-point arithmetic may round the other
    way); float32 sums in another order, relative to values in [0, 1] times the kernel."""
    return 1.0 if np.dtype(dtype).kind in "iu" else 2e-4


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=linear_cases(), height=st.integers(1, 24), width=st.integers(1, 24),
       channels=st.sampled_from([1, 3, 4]), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1),
       data_=st.data())
def test_the_taps_make_the_methods_own_output(case, height, width, channels, dtype, seed, data_) -> None:
    method, params, scale = case
    rng = np.random.default_rng(seed)
    image = random_image(rng, (height, width), channels, dtype)
    try:
        out = core.upsample(image, method, scale=scale, **params)
    except core.ParameterError:
        return  # a kernel and padding that leave no output: refused alike by both
    out = out.reshape(out.shape[0], out.shape[1], -1)
    y = data_.draw(st.integers(0, out.shape[0] - 1), label="y")
    x = data_.draw(st.integers(0, out.shape[1] - 1), label="x")
    explained = core.explain_pixel(image, method, y, x, scale=scale, **params)
    assert explained.linear and explained.out_size == out.shape[:2]
    hwc = image.reshape(height, width, channels)
    for channel in range(channels):
        taps = explained.taps_of(channel)
        total = sum(t.weight * float(hwc[t.y, t.x, channel]) for t in taps)
        assert total == pytest.approx(explained.value[channel], abs=1e-9 * max(1.0, abs(total)))
        tol = tolerance(dtype) * (1 + sum(abs(t.weight) for t in taps) if np.dtype(dtype).kind == "f" else 1)
        if np.dtype(dtype).kind in "iu":
            assert abs(int(explained.rounded[channel]) - int(out[y, x, channel])) <= 1, (method, params, channel)
        else:
            assert abs(float(explained.value[channel]) - float(out[y, x, channel])) <= tol, (method, params, channel)


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "lanczos4", "area", "nearest-exact"])
def test_pixels_of_a_long_axis_are_explained_exactly(method: str) -> None:
    rng = np.random.default_rng(3)
    image = rng.random((2, 3001, 1)).astype(np.float32)
    out = core.upsample(image, method, size=(4, 9007))
    for x in (0, 1, 4500, 9005, 9006):
        explained = core.explain_pixel(image, method, 3, x, size=(4, 9007))
        assert explained.value[0] == pytest.approx(float(out[3, x, 0]), abs=2e-4), x
        assert all(0 <= t.x < 3001 for t in explained.taps)


def test_max_unpooling_names_where_the_maximum_was() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    big = rng.random((1, 3, 8, 10)).astype(np.float32)
    pooled, indices = torch.nn.functional.max_pool2d(torch.from_numpy(big), 2, return_indices=True)
    image = pooled[0].permute(1, 2, 0).numpy()
    positions = indices[0].permute(1, 2, 0).numpy()
    out = core.upsample(image, "max-unpool", scale=2, indices=positions)
    for y, x in [(0, 0), (3, 5), (7, 9)]:
        explained = core.explain_pixel(image, "max-unpool", y, x, scale=2, indices=positions)
        np.testing.assert_allclose(explained.value, out[y, x], atol=0)
        for tap in explained.taps:
            assert positions[tap.y, tap.x, tap.channel] == y * 10 + x
    nails = core.explain_pixel(image, "max-unpool", 2, 4, scale=2)
    assert [(t.y, t.x) for t in nails.taps] == [(1, 2)] and "bed of nails" in nails.notes[0]
    assert core.explain_pixel(image, "max-unpool", 3, 4, scale=2).taps == ()


def test_the_formulas_carry_the_worked_numbers() -> None:
    image = np.zeros((128, 128), np.uint8)
    explained = core.explain_pixel(image, "bilinear", 7, 130, scale=4)
    assert "src_x = (130 + 0.5) * 128 / 512 - 0.5 = 32.125" in explained.formulas
    assert explained.source == (1.375, 32.125)
    assert {(t.y, t.x): t.weight for t in explained.taps} == pytest.approx(
        {(1, 32): 0.625 * 0.875, (1, 33): 0.625 * 0.125, (2, 32): 0.375 * 0.875, (2, 33): 0.375 * 0.125})
    # 2x2 at x2, both conventions: half-pixel centres clamp at the edge, aligned corners do not.
    square = np.array([[0, 100], [200, 255]], np.uint8)
    half = [core.explain_pixel(square, "bilinear", 0, x, scale=2).value[0] for x in range(4)]
    aligned = [core.explain_pixel(square, "bilinear-aligned", 0, x, scale=2).value[0] for x in range(4)]
    assert half == pytest.approx([0, 25, 75, 100])
    assert aligned == pytest.approx([0, 100 / 3, 200 / 3, 100])
    assert core.sampling_grid("bilinear", (2, 2), 2)[1] == pytest.approx([-0.25, 0.25, 0.75, 1.25])
    assert core.sampling_grid("bilinear-aligned", (2, 2), 2)[1] == pytest.approx([0, 1 / 3, 2 / 3, 1])
    # 3x3 to 4x4 nearest: floor(dst * 3 / 4) copies 0, 0, 1, 2; the pixel centres 0, 1, 1, 2.
    three = np.arange(9, dtype=np.uint8).reshape(3, 3)
    assert [core.explain_pixel(three, "nearest", 0, x, size=(4, 4)).taps[0].x for x in range(4)] == [0, 0, 1, 2]
    assert [core.explain_pixel(three, "nearest-exact", 0, x, size=(4, 4)).taps[0].x for x in range(4)] == [0, 1, 1, 2]
    # Bicubic at the edge reads the edge pixel for the taps beyond it.
    edge = core.explain_pixel(image, "bicubic", 0, 0, scale=4)
    assert any("indices clamped" in note for note in edge.notes)


def test_a_transposed_convolution_says_why_its_border_darkens_and_where_checkerboards_come_from() -> None:
    image = np.full((6, 6), 200, np.uint8)
    border = core.explain_pixel(image, "transposed-conv", 0, 0, scale=2)
    assert border.value[0] == pytest.approx(200 * 0.5625) and "border darkens" in border.notes[0]
    assert all(t.kernel is not None for t in border.taps)
    uneven = core.explain_pixel(image, "transposed-conv", 5, 5, scale=2, kernel="box", kernel_size=3)
    assert any("uneven overlap" in note for note in uneven.notes)


@pytest.mark.parametrize("params", [{}, {"kernel": "box", "kernel_size": 3}, {"kernel": "box", "kernel_size": 3, "padding": 0},
                                    {"kernel": [[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]]}])
@pytest.mark.parametrize("in_size,scale", [((5, 6), 2), ((8, 8), 3), ((1, 4), 2)])
def test_the_transposed_convolution_is_the_transpose_of_its_convolution_matrix(params, in_size, scale) -> None:
    torch = pytest.importorskip("torch")
    size = (in_size[0] * scale, in_size[1] * scale)
    matrix, plan = core.transposed_conv_matrix(in_size, size, **params)
    x = np.random.default_rng(7).random(in_size).astype(np.float32)
    ours = (matrix.T @ x.ravel().astype(np.float64)).reshape(plan.out_size)
    weight = torch.tensor(plan.kernel, dtype=torch.float64)[None, None]
    theirs = torch.nn.functional.conv_transpose2d(torch.tensor(x, dtype=torch.float64)[None, None], weight,
                                                  stride=plan.strides, padding=plan.padding,
                                                  output_padding=plan.output_padding)[0, 0].numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    np.testing.assert_allclose(ours, core.upsample(x, "transposed-conv", scale=scale, **params), atol=1e-5)
    # C itself is the strided convolution: C z correlates z with the kernel at stride s.
    z = np.random.default_rng(8).random(plan.out_size)
    conv = torch.nn.functional.conv2d(torch.tensor(z)[None, None], weight, stride=plan.strides,
                                      padding=plan.padding)[0, 0].numpy()
    np.testing.assert_allclose((matrix @ z.ravel()).reshape(in_size), conv[:in_size[0], :in_size[1]], atol=1e-12)


def test_the_matrix_is_written_out_for_small_inputs_only() -> None:
    with pytest.raises(core.ParameterError, match="1 to 8 pixels a side; got 9x4"):
        core.transposed_conv_matrix((4, 9), (8, 18))


@pytest.mark.parametrize("resize", ["nearest", "bilinear"])
@pytest.mark.parametrize("border", ["edge", "zeros"])
def test_resize_convolution_is_pytorchs_resize_then_conv2d(resize: str, border: str) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    image = np.random.default_rng(9).random((9, 11, 3)).astype(np.float32)
    kernel = np.array([[0.1, 0.2, -0.05], [0.3, 0.4, 0.1], [0.0, -0.1, 0.05]])
    ours = core.upsample(image, "resize-conv", scale=2, resize=resize, kernel=kernel, border=border)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].double()
    up = functional.interpolate(x, size=(18, 22), mode=resize, **({} if resize == "nearest" else {"align_corners": False}))
    padded = functional.pad(up, (1, 1, 1, 1), mode="replicate" if border == "edge" else "constant")
    weight = torch.tensor(kernel)[None, None].repeat(3, 1, 1, 1)
    theirs = functional.conv2d(padded, weight, groups=3)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, theirs, atol=2e-5)


def test_resize_convolution_makes_no_checkerboard_where_a_transposed_convolution_does() -> None:
    photo = data.astronaut()[::2, ::2]
    settings_ = core.ComparisonSettings(mode="degrade", scale=2, methods=(
        core.MethodChoice("transposed-conv", {"kernel": "box", "kernel_size": 3}), "resize-conv", "bilinear"))
    comparison = core.Comparison(photo, settings_)
    scores = {r.method_id: comparison.analyse(r).checkerboard for r in comparison}
    assert scores["resize-conv"] < scores["transposed-conv"] / 20
    assert scores["resize-conv"] < 1.0


def test_bad_requests_name_the_value() -> None:
    image = np.zeros((4, 4), np.uint8)
    with pytest.raises(core.ParameterError, match=r"pixel \(8, 0\) lies outside the 8x8 output"):
        core.explain_pixel(image, "bilinear", 8, 0, scale=2)
    with pytest.raises(core.ParameterError, match="kernel_size. must be odd, so the kernel has a centre; got 4"):
        core.upsample(image, "resize-conv", scale=2, kernel_size=4)
    with pytest.raises(core.UnsupportedScaleError):
        core.explain_pixel(image, "repeat", 0, 0, scale=2.5)


def test_a_method_that_is_not_linear_outlines_its_receptive_field() -> None:
    image = data.camera()[:64, :64]
    explained = core.explain_pixel(image, "espcn", 40, 60, scale=2)
    assert not explained.linear and explained.taps == () and "not linear" in explained.notes[0]
    box = explained.receptive_field
    assert box is not None and box.x <= 30 <= box.x + box.width and box.y <= 20 <= box.y + box.height
    assert 3 <= box.width <= 40


@pytest.mark.parametrize("params", [{}, {"kernel": "box", "kernel_size": 3}, {"kernel": "box", "kernel_size": 3, "padding": 0},
                                    {"kernel": "box", "kernel_size": 2, "padding": 3}])
def test_zeros_inserted_then_the_flipped_kernel_is_the_transposed_convolution(params) -> None:
    x = np.random.default_rng(11).random((4, 5))
    plan = core.transposed_conv_plan((4, 5), (8, 10), **{"kernel": "bilinear", "kernel_size": None, "padding": None,
                                                         "output_padding": None, **params})
    spread = core.zero_inserted(x, plan)
    flipped = plan.kernel[::-1, ::-1]
    kh, kw = flipped.shape
    out = np.array([[np.sum(spread[i:i + kh, j:j + kw] * flipped) for j in range(plan.out_size[1])]
                    for i in range(plan.out_size[0])])
    np.testing.assert_allclose(out, core.upsample(x.astype(np.float32), "transposed-conv", scale=2, **params), atol=1e-5)


def test_library_conventions_area_edges_and_sampling_grid_refusals() -> None:
    image = np.arange(64, dtype=np.uint8).reshape(8, 8)
    library = core.explain_pixel(image, "opencv:nearest", 3, 3, scale=2)
    assert not library.linear and "is computed by the library itself" in library.notes[0]
    assert "not linear" not in library.notes[0]
    area = core.explain_pixel(np.zeros((64, 64), np.uint8), "area", 0, 127, scale=2)
    assert not any("clamped" in note for note in area.notes)
    with pytest.raises(core.UnsupportedScaleError):
        core.sampling_grid("repeat", (3, 3), size=(4, 4))
    with pytest.raises(core.UnsupportedScaleError):
        core.sampling_grid("transposed-conv", (3, 3), size=(4, 4))
    with pytest.raises(core.UpscopeError):
        core.sampling_grid("repeat", (4, 4), size=(2, 2))
