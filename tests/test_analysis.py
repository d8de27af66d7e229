"""The analysis in core (docs/METHODS.md#spectrum, #checkerboard, #ssim, #flip): the
spectrum of synthetic gratings, the checkerboard orders on photographs, the SSIM map
against scikit-image's, the FLIP map against flip-evaluator's own API."""

from __future__ import annotations

import csv
import threading
import time

import numpy as np
import pytest
from skimage import data
from skimage.metrics import structural_similarity

import core
from core.metrics.flip import flip_map
from core.metrics.measures import ssim_map
from core.metrics.spectrum import checkerboard_score, radial_profile, spectrum


def grating(height: int, width: int, fy: float, fx: float) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return (0.5 + 0.4 * np.cos(2 * np.pi * (fy * y + fx * x))).astype(np.float32)


@pytest.mark.parametrize(("fy", "fx"), [(0.0, 0.125), (0.25, 0.0), (0.1875, -0.0625), (0.03125, 0.40625)])
def test_a_gratings_spectrum_peaks_at_its_frequency(fy, fx):
    height, width = 128, 160
    centred = spectrum(grating(height, width, fy, fx))
    assert centred.shape == (height, width) and centred.dtype == np.float32
    row, col = np.unravel_index(np.argmax(centred), centred.shape)
    found = ((row - height // 2) / height, (col - width // 2) / width)
    assert found in ((fy, fx), (-fy, -fx))  # the two halves of a real signal's spectrum


def test_the_radial_profile_peaks_at_the_gratings_radius():
    frequency, power = radial_profile(grating(256, 256, 0.0, 0.2), bins=64)
    assert frequency[0] > 0 and frequency[-1] < 0.5 and len(power) == 64
    assert abs(frequency[np.nanargmax(power)] - 0.2) <= 0.5 / 64


def test_a_flat_image_has_a_finite_empty_spectrum():
    flat = np.full((16, 20, 3), 7, np.uint8)
    assert np.all(spectrum(flat) == np.float32(-9.0))
    assert checkerboard_score(flat, 2) == 0.0


PHOTOS = {"astronaut": data.astronaut, "coffee": data.coffee, "chelsea": data.chelsea, "camera": data.camera,
          "rocket": data.rocket}


@pytest.mark.parametrize("name", sorted(PHOTOS))
@pytest.mark.parametrize("scale", [2, 4])
def test_uneven_overlap_scores_far_above_interpolation_and_nearest_above_bicubic(name, scale):
    truth = PHOTOS[name]()
    truth = truth[: truth.shape[0] // scale * scale, : truth.shape[1] // scale * scale]
    small, _ = core.downsample(truth, scale, "bicubic-aa")

    def score(method: str, **params) -> float:
        return checkerboard_score(core.upsample(small, method, scale=scale, **params), scale, truth)

    uneven = score("transposed-conv", kernel="box", kernel_size=scale + 1)
    assert uneven > 10.0
    assert uneven > 100 * abs(score("bilinear"))
    assert score("nearest") > score("bicubic")


def test_the_score_needs_one_size_and_a_sensible_scale():
    with pytest.raises(core.ParameterError, match="compares them at one size"):
        checkerboard_score(np.zeros((8, 8), np.float32), 2, np.zeros((8, 9), np.float32))
    with pytest.raises(core.ParameterError, match="positive number"):
        checkerboard_score(np.zeros((8, 8), np.float32), float("nan"))
    noise = np.random.default_rng(0).random((32, 32), dtype=np.float32)
    assert checkerboard_score(noise, 2.5317) == pytest.approx(0.0)  # no period


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("channels", [1, 3])
def test_the_ssim_map_is_scikit_images_and_its_interior_mean_the_ssim(dtype, channels):
    rng = np.random.default_rng(channels)
    top = 255 if dtype == np.uint8 else 65535 if dtype == np.uint16 else 1.0
    reference = (rng.random((70, 53, channels)) * top).astype(dtype)
    test = np.clip(reference.astype(np.float64) + rng.normal(0, 0.1 * top, reference.shape), 0, top).astype(dtype)
    ours = ssim_map(reference, test)
    _, theirs = structural_similarity(reference.astype(np.float64), test.astype(np.float64), gaussian_weights=True,
                                      sigma=1.5, use_sample_covariance=False, data_range=top, channel_axis=-1,
                                      full=True)
    assert ours.shape == (70, 53) and ours.dtype == np.float32
    assert np.abs(ours - theirs.mean(axis=2)).max() <= 1e-4
    assert float(ours[5:-5, 5:-5].mean(dtype=np.float64)) == pytest.approx(core.ssim(reference, test), abs=1e-6)
    assert np.array_equal(core.difference(reference, test, kind="ssim"), ours)


def test_the_flip_map_is_flip_evaluators():
    evaluator = pytest.importorskip("flip_evaluator")
    rng = np.random.default_rng(4)
    reference = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    test = np.clip(reference.astype(np.int16) + rng.integers(-40, 41, reference.shape), 0, 255).astype(np.uint8)
    ours, mean = flip_map(reference, test)
    theirs, their_mean, _ = evaluator.evaluate(reference.astype(np.float32) / 255, test.astype(np.float32) / 255, "LDR",
                                               applyMagma=False)
    theirs = np.asarray(theirs)
    theirs = theirs[:, :, 0] if theirs.ndim == 3 else theirs
    assert ours.shape == (48, 64) and np.array_equal(ours, theirs) and mean == their_mean
    grey_map, _ = flip_map(reference[:, :, 0], test[:, :, 0])
    assert grey_map.shape == (48, 64)


def test_large_flip_maps_are_made_in_a_helper_process_without_stalling_other_threads():
    """FLIP keeps Python's interpreter lock for its whole run; above 128x128 pixels it runs
    in a helper process, with the same numbers, while this process's threads run on."""
    evaluator = pytest.importorskip("flip_evaluator")
    rng = np.random.default_rng(5)
    reference = rng.integers(0, 256, (300, 420, 3), dtype=np.uint8)
    test = np.clip(reference.astype(np.int16) + rng.integers(-30, 31, reference.shape), 0, 255).astype(np.uint8)
    flip_map(reference, test)  # starts the helpers, outside what is timed
    gaps: list[float] = []
    done = threading.Event()

    def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        ours, mean = flip_map(reference, test)
    finally:
        done.set()
        ticker.join()
    theirs, their_mean, _ = evaluator.evaluate(reference.astype(np.float32) / 255, test.astype(np.float32) / 255, "LDR",
                                               applyMagma=False)
    theirs = np.asarray(theirs)
    assert np.array_equal(ours, theirs[:, :, 0] if theirs.ndim == 3 else theirs) and mean == their_mean
    # In this process FLIP takes about 0.2 s here and the ticker would wait all of it.
    assert len(gaps) > 10 and max(gaps) < 0.1, f"the other thread waited {max(gaps) * 1000:.0f} ms"


def test_a_comparison_analyses_what_is_shown():
    truth = data.camera()[:128, :128]
    settings = core.ComparisonSettings(mode="degrade", scale=2, methods=(
        "bilinear", core.MethodChoice("transposed-conv", {"kernel": "box", "kernel_size": 3})))
    comparison = core.Comparison(truth, settings)
    results = list(comparison)
    assert all(r.checkerboard is None and r.flip is None for r in results)  # not part of every comparison
    analysed = [comparison.analyse(r, flip=pytest.importorskip("flip_evaluator") is not None) for r in results]
    assert analysed[1].checkerboard > 10 > abs(analysed[0].checkerboard)
    assert 0 < analysed[0].flip < analysed[1].flip < 1
    rows = core.metrics_rows(analysed, "camera", settings)
    assert rows[1]["checkerboard"] == analysed[1].checkerboard and rows[1]["flip"] == analysed[1].flip


def test_ssim_and_flip_maps_have_their_own_scales():
    assert core.default_colormap("ssim") == "viridis" and core.default_colormap("flip") == "magma"
    values = np.array([[1.0, 0.5, 0.0, -0.2]], np.float32)
    shown = core.colorize_difference(values, "ssim", np.dtype(np.uint8), gain=2.0)
    assert (shown.low, shown.high) == (0.5, 1.0)
    lut = core.colormap_lut("viridis")
    assert np.array_equal(shown.rgb[0], lut[[255, 0, 0, 0]])


def test_regions_get_their_own_rows_measured_on_their_pixels(tmp_path):
    truth = data.astronaut()[:128, :160]
    core.save_image(tmp_path / "astronaut.png", truth)
    settings = core.ComparisonSettings(mode="degrade", scale=2, methods=("nearest", "bicubic"))
    regions = (core.Region(10, 20, 40, 30), core.Region(100, 90, 80, 80))  # the second clipped to the image
    request = core.ExportRequest(settings=settings, regions=regions, convention="all")
    report = core.export_images([tmp_path / "astronaut.png"], tmp_path / "out.png", request,
                                metrics_path=tmp_path / "m.csv")
    rows = report.outcomes[0].rows
    assert [(r["method"], r["region"]) for r in rows] == [
        ("nearest", ""), ("bicubic", ""), ("nearest", "10,20,40,30"), ("bicubic", "10,20,40,30"),
        ("nearest", "100,90,60,38"), ("bicubic", "100,90,60,38"),
    ]
    comparison = core.Comparison(truth, settings)
    bicubic = list(comparison)[1]
    crop = (slice(20, 50), slice(10, 50))
    expected = core.compute_metrics(comparison.ground_truth[crop], bicubic.image[crop])
    assert rows[3]["psnr"] == pytest.approx(expected.psnr, abs=1e-9)
    assert rows[3]["ssim"] == pytest.approx(expected.ssim, abs=1e-9)
    assert rows[3]["checkerboard"] == pytest.approx(
        checkerboard_score(bicubic.image[crop], 2, comparison.ground_truth[crop]), abs=1e-9)
    assert (rows[3]["width"], rows[3]["height"]) == (40, 30)
    assert "region" in (tmp_path / "m.csv").read_text().splitlines()[0].split(",")


def test_one_method_twice_with_other_parameters(tmp_path):
    from cli.export import parse_methods_text

    parsed = parse_methods_text("bicubic, bicubic[a=-0.5], transposed-conv[kernel=[[0.25,0.5],[0.5,1]],padding=0]")
    assert parsed[0] == "bicubic"
    assert parsed[1] == core.MethodChoice("bicubic", {"a": -0.5})
    assert parsed[2] == core.MethodChoice("transposed-conv", {"kernel": [[0.25, 0.5], [0.5, 1]], "padding": 0})
    for bad, message in (("bicubic,bicubic", "more than once with the same parameters"),
                         ("bicubic,bicubic[a=-0.75]", "more than once with the same parameters"),
                         ("bicubic[a=-0.5", "without its"), ("bicubic[a]", "name=value")):
        with pytest.raises(core.ParameterError, match=message):
            parse_methods_text(bad)
    settings = core.ComparisonSettings(mode="degrade", scale=2, methods=parsed[:2])
    results = list(core.compare(data.camera()[:64, :64], settings))
    assert [core.method_title(r.method_id, r.params) for r in results] == ["Bicubic", "Bicubic (a=-0.5)"]
    assert results[0].metrics.psnr != results[1].metrics.psnr
    path = core.save_session(tmp_path / "s.json", core.Session(image=None, settings=settings))
    assert [c.params for c in core.load_session(path).settings.method_choices()] == [{}, {"a": -0.5}]
    assert core.changed_params_text("transposed-conv", {"kernel": np.ones((3, 3))}) == "kernel=3x3 array"
    with pytest.raises(core.ParameterError, match="parameter 'a' is given twice"):
        parse_methods_text("bicubic[a=-0.5,a=-0.6]")
    # Each result gets its own files, named by the parameters that differ from the defaults.
    comparison = core.Comparison(data.camera()[:64, :64], settings)
    written = core.export_results(tmp_path / "res", comparison, list(comparison))
    names = sorted(path.name for path in written)
    assert {"bicubic.png", "bicubic_a=-0.5.png", "bicubic-diff.png", "bicubic_a=-0.5-diff.png"} <= set(names)
    assert len(names) == len(set(names))


def test_results_folders_carry_the_region_rows_in_one_convention(tmp_path):
    from app import build_parser
    from cli.export import export_request

    truth = data.astronaut()[:128, :160]
    core.save_image(tmp_path / "astronaut.png", truth)
    args = build_parser().parse_args([str(tmp_path / "astronaut.png"), "--scale", "2", "--methods", "nearest,bicubic",
                                      "--region", "10,20,40,30", "--export", str(tmp_path / "f.png"),
                                      "--results", str(tmp_path / "res")])
    request = export_request(args)
    assert request.settings.convention == request.convention == "paper"
    report = core.export_images([tmp_path / "astronaut.png"], tmp_path / "f.png", request)
    assert report.outcomes[0].error is None
    rows = list(csv.DictReader((tmp_path / "res" / "metrics.csv").read_text().splitlines()))
    assert [(r["method"], r["region"]) for r in rows] == [
        ("nearest", ""), ("bicubic", ""), ("nearest", "10,20,40,30"), ("bicubic", "10,20,40,30")]
    comparison = core.Comparison(truth, request.settings)
    bicubic = list(comparison)[1]
    crop = (slice(20, 50), slice(10, 50))
    luma = core.compute_metrics(comparison.ground_truth[crop], bicubic.image[crop], convention="paper", shave=0)
    assert float(rows[3]["psnr"]) == pytest.approx(luma.psnr, abs=1e-6)
    for option in ("--table", "--spectrum", "--diff"):
        args = build_parser().parse_args([str(tmp_path / "astronaut.png"), "--region", "10,20,40,30", option,
                                          "--export", str(tmp_path / "g.png")])
        with pytest.raises(core.ParameterError, match=f"{option}: options of the comparison grid"):
            export_request(args)


def test_the_figure_gains_a_row_of_spectra():
    truth = data.camera()[:96, :96]
    settings = core.ComparisonSettings(mode="degrade", scale=2, methods=(
        "bicubic", core.MethodChoice("transposed-conv", {"kernel": "box", "kernel_size": 3})))
    comparison = core.Comparison(truth, settings)
    results = [comparison.analyse(r) for r in comparison]
    plain = core.comparison_figure(comparison, results, core.GridOptions(magnification=1))
    options = core.GridOptions(magnification=1, include_spectrum=True)
    figure = core.comparison_figure(comparison, results, options)
    layout = core.grid_layout(3, (96, 96), options)
    assert figure.shape[:2] == (layout.height, layout.width) and layout.sections == 2
    assert figure.shape[0] > plain.shape[0]
    # the transposed convolution's spectrum tile is bright where the grid puts energy: the
    # edges of the tile (0.5 cycles per pixel) on the horizontal axis through its centre
    y, x = layout.tile_origin(2, 1)
    tile = figure[y:y + 96, x:x + 96].astype(np.float64).sum(axis=2)
    y0, x0 = layout.tile_origin(1, 1)
    calm = figure[y0:y0 + 96, x0:x0 + 96].astype(np.float64).sum(axis=2)
    assert tile[48, 0] > calm[48, 0] + 100
    # The colour scale: a magma bar, dark to bright from left to right, on the third line
    # under the reference's spectrum.
    y, x = layout.cell_origin(0, 1)
    strip = figure[y + layout.tile_height:y + layout.tile_height + layout.label_height, x:x + layout.cell_width]
    lut = core.colormap_lut("magma").astype(np.int64)
    codes = {tuple(c) for c in lut[1:-1].tolist()}
    rows, columns = np.nonzero([[tuple(p) in codes for p in row] for row in strip.tolist()])
    assert rows.min() > 2 * layout.label_height // 3 - 2 and columns.max() - columns.min() > 40
    row = strip[int(np.median(rows))]
    left, right = row[columns.min()].astype(int).sum(), row[columns.max()].astype(int).sum()
    assert left < right
