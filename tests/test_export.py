"""Exported figures, files and sessions, checked against the arrays they come from."""

from __future__ import annotations

import csv
import json
import math

import cv2
import numpy as np
import pytest

import core

METHODS = ("nearest", "bicubic", "lanczos4")


def photo(seed: int, size: int = 64, channels: int | None = 3, dtype=np.uint8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 8, size // 8, channels or 1)).astype(np.float32)
    big = np.kron(small, np.ones((8, 8, 1), np.float32)) + rng.normal(0, 6, (size, size, channels or 1))
    image = np.clip(big, 0, 255)
    if np.dtype(dtype) == np.uint16:
        image = image * 257
    image = image.astype(dtype)
    return image if channels else image[:, :, 0]


def run(image: np.ndarray, **settings) -> tuple[core.Comparison, list[core.MethodResult]]:
    comparison = core.Comparison(image, core.ComparisonSettings(**{"scale": 2, "methods": METHODS, **settings}))
    return comparison, list(comparison)


def magnified(image: np.ndarray, m: int) -> np.ndarray:
    rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
    return np.repeat(np.repeat(rgb, m, axis=0), m, axis=1)


def strip(figure: np.ndarray, layout: core.GridLayout, index: int, section: int = 0) -> np.ndarray:
    """The label strip under tile ``index``."""
    y, x = layout.cell_origin(index, section)
    top = y + layout.tile_height
    return figure[top:top + layout.label_height, x:x + layout.cell_width]


def inked(pixels: np.ndarray, background: tuple[int, int, int]) -> int:
    """How many pixels differ from the background (text drawn there)."""
    return int(np.any(pixels != np.array(background, np.uint8), axis=-1).sum())


# The grid ---------------------------------------------------------------------------------


def test_whole_image_grid_has_the_documented_size_and_exact_tiles():
    image = photo(1)
    comparison, results = run(image)
    figure = core.comparison_figure(comparison, results)
    layout = core.grid_layout(4, (64, 64), core.GridOptions())
    # Font 15: pad 11, line 20, label strip 3 lines + 4, header 1 line + pad; tiles of
    # 64 px magnified 5x (the most that stays within 320 px); 4 tiles in 2 columns.
    pad, line = 11, 20
    assert (layout.magnification, layout.columns, layout.rows) == (5, 2, 2)
    assert (layout.pad, layout.label_height, layout.header_height) == (pad, 3 * line + 4, pad + line)
    assert figure.shape == (pad + line + pad + 2 * (320 + 3 * line + 4 + pad), 2 * 320 + 3 * pad, 3)
    assert figure.dtype == np.uint8
    tiles = [comparison.ground_truth] + [r.image for r in results]
    for index, pixels in enumerate(tiles):
        y, x = layout.tile_origin(index)
        assert np.array_equal(figure[y:y + 320, x:x + 320], magnified(pixels, 5)), index
        assert inked(strip(figure, layout, index), core.report.figures.THEMES["light"].background) > 200, index
    assert inked(figure[:layout.header_height], (255, 255, 255)) > 200  # the heading line


def test_current_view_is_the_crop_magnified_as_sharp_pixels():
    image = photo(2, channels=None)
    comparison, results = run(image, mode="upscale")
    crop = core.Region(10, 20, 40, 30)  # on the 128x128 output grid
    options = core.GridOptions(crop=crop, background="dark", columns=4)
    figure = core.comparison_figure(comparison, results, options)
    layout = core.grid_layout(4, (30, 40), options)
    assert layout.magnification == 8 and figure.shape[:2] == (layout.height, layout.width)
    assert layout.rows == 1 and layout.width == 4 * 320 + 5 * layout.pad
    # Upscale mode: the original is shown on the output grid, pixel i at 2i and 2i + 1.
    original = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)
    for index, pixels in enumerate([original] + [r.image for r in results]):
        y, x = layout.tile_origin(index)
        expected = magnified(pixels[20:50, 10:50], 8)
        assert np.array_equal(figure[y:y + 240, x:x + 320], expected), index
        assert inked(strip(figure, layout, index), core.report.figures.THEMES["dark"].background) > 200


def test_transparent_pixels_show_the_same_checkerboard_as_the_window():
    rgba = photo(21, channels=4)
    rgba[:, :, 3] = np.where(np.arange(64)[None, :] < 32, 0, 255).astype(np.uint8)  # left half clear
    comparison, results = run(rgba)
    crop = core.Region(5, 9, 30, 20)
    for options in (core.GridOptions(), core.GridOptions(crop=crop)):
        figure = core.comparison_figure(comparison, results, options)
        shape = (64, 64) if options.crop is None else (crop.height, crop.width)
        layout = core.grid_layout(4, shape, options)
        m = layout.magnification
        for index, pixels in enumerate([comparison.ground_truth] + [r.image for r in results]):
            shown = core.to_display(pixels)  # what the viewer shows: the colour over the checkerboard
            expected = shown if options.crop is None else crop.take(shown)
            y, x = layout.tile_origin(index)
            tile = figure[y:y + shape[0] * m, x:x + shape[1] * m]
            assert np.array_equal(tile, magnified(expected, m)), index
        assert not np.array_equal(
            tile, magnified(crop.take(results[-1].image[:, :, :3]) if options.crop else results[-1].image[:, :, :3], m)
        )


def test_difference_row_shows_abs_differences_and_a_colour_bar():
    image = photo(3, channels=None)
    comparison, results = run(image)
    options = core.GridOptions(include_diff=True, include_metrics=True, magnification=1, diff_gain=4)
    figure = core.comparison_figure(comparison, results, options)
    table_width = core.report.figures.drawing._metrics_table(comparison, results, core.report.figures.drawing._font(15)).width
    layout = core.grid_layout(4, (64, 64), options, table_width)
    assert figure.shape[:2] == (layout.height, layout.width)
    assert layout.sections == 2 and layout.table_height == 4 * (20 + 6)
    lut = core.colormap_lut("magma")
    truth = comparison.ground_truth.astype(np.int64)
    for index, result in enumerate(results, start=1):
        y, x = layout.tile_origin(index, 1)
        gained = np.clip(np.abs(result.image.astype(np.int64) - truth) * 4, 0, 255)  # gain x4
        assert np.array_equal(figure[y : y + 64, x : x + 64], lut[gained]), result.method_id
    # The colour bar sits in the reference's place, magma from top (high) to bottom.
    y, x = layout.tile_origin(0, 1)
    bar = figure[y + 10 : y + 10 + 64 - 20, x + 2]  # half a line of room above and below
    assert np.array_equal(bar[0], lut[255]) and np.array_equal(bar[-1], lut[0])
    assert inked(strip(figure, layout, 0, 1), (255, 255, 255)) > 200
    table = figure[layout.table_top : layout.table_top + layout.table_height]
    assert inked(table, (255, 255, 255)) > 1000


def test_a_method_that_cannot_run_keeps_its_place_with_the_reason():
    comparison, results = run(photo(4), scale=2.5, methods=("bicubic", "max-unpool"))
    assert results[1].image is None
    figure = core.comparison_figure(comparison, results)
    layout = core.grid_layout(3, comparison.output_size, core.GridOptions())
    y, x = layout.tile_origin(2)
    assert inked(figure[y : y + layout.tile_height, x : x + layout.tile_width], (255, 255, 255)) == 0
    assert inked(strip(figure, layout, 2), (255, 255, 255)) > 200


def test_bad_figure_requests_name_the_value():
    comparison, results = run(photo(5))
    with pytest.raises(core.ParameterError, match="crop 100,100,5,5 lies outside the 64x64"):
        core.comparison_figure(comparison, results, core.GridOptions(crop=core.Region(100, 100, 5, 5)))
    with pytest.raises(core.ParameterError, match="background must be 'light' or 'dark'"):
        core.comparison_figure(comparison, results, core.GridOptions(background="grey"))
    with pytest.raises(core.ParameterError, match="X,Y,W,H"):
        core.Region.parse("1,2,3")
    with pytest.raises(core.ParameterError, match="width and height of at least 1"):
        core.Region.parse("1,2,0,3")
    limit = core.limits.max_output_pixels
    core.limits.max_output_pixels = 10_000
    try:
        with pytest.raises(core.ParameterError, match="over the limit"):
            core.comparison_figure(comparison, results)
    finally:
        core.limits.max_output_pixels = limit


# The paper figure ---------------------------------------------------------------------------


def test_paper_figure_outlines_the_regions_and_shows_every_crop():
    image = photo(6, 96)
    comparison, results = run(image, scale=4, methods=("nearest", "bicubic", "lanczos4", "area"))
    regions = [core.Region(8, 8, 24, 16), core.Region(60, 50, 20, 30)]
    figure = core.paper_figure(comparison, results, regions, convention="paper", magnification=4)
    for colour in core.REGION_COLOURS:
        assert np.all(figure == np.array(colour, np.uint8), axis=-1).sum() > 100, colour
    for region in regions:
        for pixels in [comparison.ground_truth] + [r.image for r in results]:
            block = magnified(region.take(pixels), 4)
            match = cv2.matchTemplate(figure, block, cv2.TM_SQDIFF)
            y, x = np.unravel_index(np.argmin(match), match.shape)
            found = figure[y : y + block.shape[0], x : x + block.shape[1]]
            assert np.array_equal(found, block), region  # the crop appears, pixel for pixel


def test_long_titles_wrap_under_their_crops_instead_of_being_cut():
    from core.report.figures.drawing import _font, wrapped

    font = _font(15)
    title = core.method_title("transposed-conv", {"kernel": "box", "kernel_size": 3})
    lines = wrapped(title, font, 180, 3)
    assert " ".join(lines) == title and len(lines) == 3
    assert all(font.getlength(line) <= 180 for line in lines)
    assert wrapped("Nearest", font, 180, 3) == ["Nearest"]
    # The cells under a region grow by the title's extra lines.
    image = photo(8, 96)
    region = core.Region(10, 10, 30, 20)
    plain = core.paper_figure(*run(image, methods=("bicubic", "transposed-conv")), [region], magnification=4)
    long = core.paper_figure(*run(image, methods=(core.MethodChoice("bicubic", {"a": -0.5}),
                                                  core.MethodChoice("transposed-conv", {"kernel": "box", "kernel_size": 3}))),
                             [region], magnification=4)
    assert long.shape[0] == plain.shape[0] + 2 * round(15 * 1.35)


def test_a_method_that_cannot_run_leaves_an_empty_frame_in_the_paper_figure():
    image = photo(7, 96)
    comparison, results = run(image, scale=2.5, methods=("bicubic", "transposed-conv"))
    assert not results[1].ok
    region = core.Region(10, 10, 30, 20)
    figure = core.paper_figure(comparison, results, [region], magnification=4)
    red = np.all(figure == np.array(core.REGION_COLOURS[0], np.uint8), axis=-1)
    # Three frames of 3 pixels around 120x80 crops (reference, bicubic, the empty one), the
    # overview's outline and the caption: no solid 120x80 block of the region's colour
    # stands for the method that could not run.
    frame = 126 * 86 - 120 * 80
    assert red.sum() < 3 * frame + 2000 < 120 * 80


def test_paper_figure_needs_one_or_two_regions_inside_the_image():
    comparison, results = run(photo(7))
    with pytest.raises(core.ParameterError, match="one or two regions"):
        core.paper_figure(comparison, results, [])
    with pytest.raises(core.ParameterError, match="region 1 .* lies outside"):
        core.paper_figure(comparison, results, [core.Region(500, 500, 4, 4)])


# Files --------------------------------------------------------------------------------------


def test_metrics_csv_and_json_hold_cores_numbers(tmp_path):
    comparison, results = run(photo(8))
    rows = core.metrics_rows(results, "photo.png")
    core.write_text(tmp_path / "m.csv", core.metrics_csv(rows))
    core.write_text(tmp_path / "m.json", core.metrics_json(rows))
    with open(tmp_path / "m.csv", newline="") as handle:
        read = list(csv.DictReader(handle))
    listed = json.loads((tmp_path / "m.json").read_text())
    for result, row, item in zip(results, read, listed):
        metrics = core.compute_metrics(comparison.ground_truth, result.image)
        assert row["method"] == item["method"] == result.method_id
        assert float(row["psnr"]) == item["psnr"] == metrics.psnr
        assert float(row["ssim"]) == item["ssim"] == metrics.ssim
        assert float(row["mae"]) == metrics.mae and float(row["max_error"]) == metrics.max_abs
        assert row["image"] == "photo.png"
    # Rows of different runs can be told apart: the settings travel with them.
    rows = core.metrics_rows(results, "photo.png", comparison.settings)
    assert {(r["mode"], r["scale_y"], r["scale_x"], r["downsampler"], r["reference"]) for r in rows} == {
        ("degrade", 2.0, 2.0, "bicubic-aa", None)
    }
    upscaled, upscale_results = run(photo(8), mode="upscale", scale=(3, 2), reference="bicubic")
    row = core.metrics_rows(upscale_results, "p", upscaled.settings)[0]
    assert (row["mode"], row["scale_y"], row["scale_x"], row["downsampler"], row["reference"]) == (
        "upscale",
        3.0,
        2.0,
        None,
        "bicubic",
    )


def test_parameters_are_an_object_in_json_and_json_text_in_the_csv(tmp_path):
    choices = (core.MethodChoice("bicubic", {"a": -0.5}), core.MethodChoice("nearest"))
    comparison, results = run(photo(13), methods=choices)
    written = core.export_results(tmp_path, comparison, results, diff_kind=None)
    assert tmp_path / "metrics.json" in written and tmp_path / "metrics.csv" in written
    listed = json.loads((tmp_path / "metrics.json").read_text())
    assert [item["params"] for item in listed] == [{"a": -0.5}, {}]
    with open(tmp_path / "metrics.csv", newline="") as handle:
        cells = [row["params"] for row in csv.DictReader(handle)]
    assert [json.loads(cell) for cell in cells] == [{"a": -0.5}, {}]


def test_export_results_keeps_16_bit_and_writes_maps_and_metrics(tmp_path):
    image = photo(9, dtype=np.uint16)
    comparison, results = run(image)
    written = core.export_results(tmp_path / "out", comparison, results)
    names = sorted(p.name for p in written)
    assert names == sorted(
        ["input.png", "reference.png", "metrics.csv", "metrics.json"]
        + [f"{m}.png" for m in METHODS]
        + [f"{m}-diff.png" for m in METHODS]
    )
    assert np.array_equal(core.load_image(tmp_path / "out" / "input.png"), comparison.input)
    assert np.array_equal(core.load_image(tmp_path / "out" / "reference.png"), comparison.ground_truth)
    for result in results:
        back = core.load_image(tmp_path / "out" / f"{result.method_id}.png")
        assert back.dtype == np.uint16 and np.array_equal(back, result.image)
    assert core.load_image(tmp_path / "out" / "bicubic-diff.png").shape == (64, 64, 3)
    # Nothing is overwritten without asking, and the file stays as it was.
    before = (tmp_path / "out" / "metrics.csv").read_bytes()
    with pytest.raises(core.ImageError, match="already exists"):
        core.export_results(tmp_path / "out", comparison, results)
    assert (tmp_path / "out" / "metrics.csv").read_bytes() == before
    assert not list((tmp_path / "out").glob(".*part"))


def test_results_name_the_reference_the_metrics_used(tmp_path):
    image = photo(11)
    comparison, results = run(image, mode="upscale", reference="bicubic")
    core.export_results(tmp_path / "a", comparison, results, diff_kind=None)
    bicubic = next(r for r in results if r.method_id == "bicubic").image
    assert np.array_equal(core.load_image(tmp_path / "a" / "reference.png"), bicubic)
    assert np.array_equal(core.load_image(tmp_path / "a" / "input.png"), image)
    comparison, results = run(image, mode="upscale")
    names = {p.name for p in core.export_results(tmp_path / "b", comparison, results, diff_kind=None)}
    assert "reference.png" not in names and "input.png" in names  # no reference, none written
    comparison, results = run(image, reference="bicubic")
    names = {p.name for p in core.export_results(tmp_path / "c", comparison, results, diff_kind=None)}
    assert {"input.png", "reference.png", "ground-truth.png"} <= names
    assert np.array_equal(core.load_image(tmp_path / "c" / "ground-truth.png"), comparison.ground_truth)


def test_float_results_are_written_as_tiff(tmp_path):
    image = photo(10).astype(np.float32) / 255
    comparison, results = run(image, methods=("bicubic",))
    written = core.export_results(tmp_path, comparison, results, image_format="png", diff_kind=None)
    assert sorted(p.name for p in written) == ["bicubic.tif", "input.tif", "metrics.csv", "metrics.json", "reference.tif"]
    assert np.array_equal(core.load_image(tmp_path / "bicubic.tif"), results[0].image)


# Sessions -----------------------------------------------------------------------------------


def test_a_session_saved_and_reopened_gives_the_same_results(tmp_path):
    image_path = tmp_path / "images" / "p.png"
    image_path.parent.mkdir()
    core.save_image(image_path, photo(11))
    settings = core.ComparisonSettings(
        mode="degrade",
        scale=(2.0, 3.0),
        downsampler="area",
        methods=(
            core.MethodChoice("bicubic", {"a": -0.5}),
            core.MethodChoice("nearest"),
            core.MethodChoice("transposed-conv", {"kernel": "box"}),
        ),
        convention="paper",
    )
    session = core.Session(
        image=str(image_path),
        settings=settings,
        regions=(core.Region(1, 2, 10, 12),),
        view=core.View(20.5, 30.0, 8.0),
        show_difference=True,
        diff_kind="signed",
        diff_gain=4.0,
    )
    core.save_session(tmp_path / "s.json", session)
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["image"] == "images/p.png"  # relative: the folder can move as a whole
    moved = tmp_path.parent / (tmp_path.name + "-moved")
    tmp_path.rename(moved)
    again = core.load_session(moved / "s.json")
    assert again == core.Session(**{**session.__dict__, "image": str((moved / "images" / "p.png").resolve())})
    first = list(core.Comparison(core.load_image(moved / "images" / "p.png"), settings))
    second = list(core.Comparison(core.load_image(again.image), again.settings))
    for a, b in zip(first, second):
        assert np.array_equal(a.image, b.image) and a.metrics == b.metrics


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not a session file \\(invalid JSON at line 1"),
        ('{"format": "something"}', "not an Upscope session file"),
        ('{"format": "upscope-session", "version": 9}', "session version 9 is not supported"),
        ('{"format": "upscope-session", "version": 1, "settings": {"scale": "big"}}', "settings.scale must be a number"),
        ('{"format": "upscope-session", "version": 1, "regions": [[1, 2]]}', "regions must be a list"),
        ('{"format": "upscope-session", "version": 1, "difference": {"gain": 1000}}', "gain must be a number from 1 to 64"),
    ],
)
def test_a_bad_session_file_is_refused_with_its_name_and_reason(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(core.UpscopeError, match=message) as info:
        core.load_session(path)
    assert str(path) in str(info.value)


def test_psnr_of_identical_images_survives_json():
    comparison, results = run(photo(12), scale=1.0, mode="upscale", reference="nearest", methods=("nearest",))
    rows = core.metrics_rows(results)
    assert math.isinf(rows[0]["psnr"]) and json.loads(core.metrics_json(rows))[0]["psnr"] == "inf"
