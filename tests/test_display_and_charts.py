"""core's viewer helpers: charts, display copies, coloured differences, pixel lookups and
line profiles, checked against values written out here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import core
from core import ParameterError


@pytest.mark.parametrize("chart", [c.id for c in core.list_charts()])
def test_every_chart_is_rgb8_and_reproducible(chart: str) -> None:
    first = core.make_chart(chart, 256)
    assert first.shape == (256, 256, 3) and first.dtype == np.uint8
    assert np.array_equal(first, core.make_chart(chart, 256))
    assert first.std() > 20  # a pattern, not a flat field


def test_zone_plate_follows_its_formula() -> None:
    size = 64
    c = np.arange(size) + 0.5 - size / 2
    expected = 0.5 + 0.5 * np.cos(math.pi * (c[None, :] ** 2 + c[:, None] ** 2) / size)
    chart = core.make_chart("zone-plate", size)
    assert np.max(np.abs(chart[:, :, 0] - np.rint(expected * 255))) == 0


def test_siemens_star_is_point_symmetric_and_balanced() -> None:
    star = core.make_chart("siemens-star", 128)[:, :, 0].astype(int)
    # 36 spokes: a half turn maps black to black; the star's disc averages mid-grey.
    assert np.abs(star - star[::-1, ::-1]).max() <= 1
    assert abs(star.mean() - 127.5) < 3


def test_chart_rejects_bad_ids_and_sizes() -> None:
    with pytest.raises(ParameterError, match="unknown chart 'nope'"):
        core.make_chart("nope")
    for size in (63, 65, 0, 10_000, 128.0):
        with pytest.raises(ParameterError, match="chart size"):
            core.make_chart("test-chart", size)


def test_to_display_converts_each_dtype() -> None:
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert core.to_display(rgb) is rgb  # no copy for what a screen shows as it is
    grey16 = np.array([[0, 257, 65535, 128]], np.uint16)
    assert core.to_display(grey16).tolist() == [[0, 1, 255, 0]]
    floats = np.array([[-0.5, 0.0, 0.5, 1.0, 2.0]], np.float32)
    assert core.to_display(floats).tolist() == [[0, 0, 128, 255, 255]]
    assert core.to_display(np.zeros((4, 5, 1), np.uint8)).shape == (4, 5)


def test_colormaps() -> None:
    for name in ("magma", "viridis"):
        lut = core.colormap_lut(name).astype(float)
        luma = lut @ [0.299, 0.587, 0.114]
        assert lut.shape == (256, 3)
        assert np.all(np.diff(luma) > -1.0)  # perceptual maps brighten steadily
    diverging = core.colormap_lut("diverging")
    assert diverging[128].tolist() == [247, 247, 247]
    assert diverging[0, 2] > diverging[0, 0] and diverging[255, 0] > diverging[255, 2]  # blue to red
    with pytest.raises(ParameterError, match="colormap"):
        core.colormap_lut("jet")


@given(gain=st.sampled_from([1, 2, 8, 64]), seed=st.integers(0, 2**16))
def test_abs_difference_colours_follow_gain(gain: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    diff = rng.random((7, 9)).astype(np.float32) * 255
    shown = core.colorize_difference(diff, "abs", np.uint8, gain=gain)
    index = np.clip(np.floor(diff.astype(np.float64) * gain + 0.5), 0, 255).astype(int)
    assert np.array_equal(shown.rgb, core.colormap_lut("magma")[index])
    assert (shown.low, shown.high) == (0.0, 255.0 / gain)


def test_signed_difference_centres_zero_on_white() -> None:
    diff = np.array([[-255.0, 0.0, 255.0, 10.0]], np.float32)
    shown = core.colorize_difference(diff, "signed", np.uint8, gain=1)
    lut = core.colormap_lut("diverging")
    assert shown.rgb[0].tolist() == [lut[0].tolist(), lut[128].tolist(), lut[255].tolist(), lut[133].tolist()]
    assert (shown.low, shown.high) == (-255.0, 255.0)
    squared = core.colorize_difference(diff**2, "squared", np.uint16, gain=4)
    assert squared.high == 65535.0**2 / 4


def test_difference_display_rejects_bad_input() -> None:
    with pytest.raises(ParameterError, match="gain"):
        core.colorize_difference(np.zeros((2, 2), np.float32), "abs", np.uint8, gain=0)
    with pytest.raises(ParameterError, match="gain"):
        core.colorize_difference(np.zeros((2, 2), np.float32), "abs", np.uint8, gain=float("nan"))
    with pytest.raises(ParameterError, match=r"\(H, W\)"):
        core.colorize_difference(np.zeros((2, 2, 3), np.float32), "abs", np.uint8)


@pytest.mark.parametrize(
    ("out_size", "in_size", "pixel", "expected"),
    [
        ((8, 8), (2, 2), (0, 0), (0, 0)),
        ((8, 8), (2, 2), (3, 4), (0, 1)),
        ((8, 8), (2, 2), (7, 7), (1, 1)),
        ((10, 6), (4, 4), (9, 5), (3, 3)),
    ],
)
def test_source_pixel_holds_the_output_pixel_centre(out_size, in_size, pixel, expected) -> None:
    assert core.source_pixel(*pixel, out_size, in_size) == expected


def test_pixel_report_reads_values_and_signed_errors() -> None:
    reference = np.array([[[10, 20, 30]]], np.uint8)
    images = {"a": np.array([[[12, 20, 25]]], np.uint8), "other size": np.zeros((2, 2, 3), np.uint8)}
    report = core.pixel_report(images, 0, 0, reference)
    assert report.reference == (10.0, 20.0, 30.0)
    assert report.values["a"] == (12.0, 20.0, 25.0)
    assert report.errors["a"] == (2.0, 0.0, -5.0)
    assert report.errors["other size"] is None
    assert core.pixel_values(reference, 1, 0) is None


def test_line_samples_read_each_pixel_along_a_row() -> None:
    samples = core.line_samples((2.5, 3.5), (9.5, 3.5), (10, 12))
    assert samples.rows.tolist() == [3] * 8
    assert samples.cols.tolist() == list(range(2, 10))
    assert np.allclose(samples.distance, np.arange(8))
    image = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
    assert np.allclose(core.line_profile(image, samples), image[3, 2:10].mean(axis=1))


def test_line_samples_drop_points_outside_the_image() -> None:
    samples = core.line_samples((-5.0, 0.5), (5.5, 0.5), (4, 4))
    assert samples.cols.min() == 0 and samples.cols.max() == 3


def test_transparent_pixels_show_the_checkerboard_in_the_window_and_the_figures() -> None:
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (20, 24, 4), dtype=np.uint8)
    rgba[..., 3] = rng.choice([0, 128, 255], size=(20, 24)).astype(np.uint8)
    shown = core.to_display(rgba)
    assert shown.shape == (20, 24, 3)
    light, dark = 204, 153
    rows, cols = np.indices((20, 24))
    board = np.where(((rows // 8) + (cols // 8)) % 2 == 1, dark, light).astype(np.float64)
    alpha = rgba[..., 3:].astype(np.float64) / 255
    expected = np.rint(rgba[..., :3] * alpha + board[..., None] * (1 - alpha))
    assert np.abs(shown.astype(np.float64) - expected).max() <= 1
    # Fully transparent pixels are the board, opaque ones their colour.
    clear, opaque = rgba[..., 3] == 0, rgba[..., 3] == 255
    assert np.array_equal(shown[clear], np.repeat(board[clear][:, None], 3, axis=1).astype(np.uint8))
    assert np.array_equal(shown[opaque], rgba[..., :3][opaque])
    # A crop placed at its origin shows the same pixels as the whole image there.
    assert np.array_equal(core.to_display(rgba[5:17, 9:20], origin=(5, 9)), shown[5:17, 9:20])
    # 16-bit grey + alpha composites the same way (alpha's own range is opaque).
    grey = np.full((8, 8, 2), 65535, np.uint16)
    grey[..., 1] = 0
    assert np.array_equal(core.to_display(grey), np.full((8, 8), light, np.uint8))
