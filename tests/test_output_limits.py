"""Every output size is checked before any method runs: in `core`, and through the
command line (exit 2, one line on stderr, no traceback, no memory spent)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from measured_run import HAS_PEAK, run_measured

import core

LIMIT = "268,435,456 output pixels"


def refusal(image: np.ndarray, **settings) -> tuple[str, float, int]:
    """The message of the `ParameterError` a comparison of ``image`` raises, the seconds
    it took and the bytes Python allocated meanwhile (NumPy's included)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(core.ParameterError) as caught:
            core.Comparison(image, core.ComparisonSettings(**settings))
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(caught.value), seconds, peak


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Methods registered and the backend chosen once, so timings measure the checks."""
    core.Comparison(np.zeros((16, 16), np.uint8), core.ComparisonSettings(scale=2, methods=("nearest",)))


def test_an_x16_upscale_of_a_2000_pixel_photograph_is_refused_up_front() -> None:
    photo = np.zeros((2000, 2000, 3), np.uint8)
    message, seconds, allocated = refusal(photo, mode="upscale", scale=16)
    assert f"upscaling 2000x2000 by x16 gives 32000x32000 = 1,024,000,000 pixels, over the limit of {LIMIT}" in message
    # What to change: the largest scale that fits (8.19^2 * 4e6 <= 268,435,456 < 8.20^2 * 4e6).
    assert "choose a scale of at most 8.19 for this image, or a crop of it" in message
    assert seconds < 0.5 and allocated < 10 * 2**20
    fits = core.ComparisonSettings(mode="upscale", scale=8.19)
    core.check_settings(fits, photo.shape)
    assert (
        np.prod(core.comparison.memory.planned_output_size(photo.shape, "upscale", (8.19, 8.19))) <= core.limits.max_output_pixels
    )


def test_upscaling_a_96_megapixel_image_by_two_is_refused_up_front() -> None:
    frame = np.zeros((8000, 12000), np.uint8)
    message, seconds, allocated = refusal(frame, mode="upscale", scale=2)
    assert f"12000x8000 by x2 gives 24000x16000 = 384,000,000 pixels, over the limit of {LIMIT}" in message
    assert "at most 1.67" in message
    assert seconds < 0.5 and allocated < 10 * 2**20


def test_separate_scales_are_named_as_typed() -> None:
    message, _, _ = refusal(np.zeros((2000, 3000), np.uint8), mode="upscale", scale=(16, 8))
    assert "3000x2000 by x16,8 gives 24000x32000 = 768,000,000 pixels" in message
    assert "choose scales of at most 9.45,4.72 (y,x) for this image" in message
    core.check_settings(core.ComparisonSettings(mode="upscale", scale=(9.45, 4.725)), (2000, 3000))


@pytest.mark.parametrize("scale, typed", [(2000, "2000"), (1e9, "1e+09"), ((1, 1e6), "1,1e+06")])
def test_absurd_scales_meet_the_scale_limit_first(scale, typed: str) -> None:
    message, seconds, allocated = refusal(np.zeros((64, 64, 3), np.uint8), mode="upscale", scale=scale)
    assert message == f"scale {typed} is over the limit of 16 for comparisons (core.limits.max_scale)"
    assert seconds < 0.05 and allocated < 2**20


def test_a_method_whose_own_output_is_larger_is_refused_by_name() -> None:
    # 1024 x 16 = 16384: the comparison's results fit the limit exactly, but a
    # transposed convolution with a 64-tap kernel and no padding returns
    # (1024 - 1) * 16 + 64 = 16432 pixels a side.
    image = np.zeros((1024, 1024), np.uint8)
    default = core.ComparisonSettings(mode="upscale", scale=16, methods=("transposed-conv",))
    core.check_settings(default, image.shape)
    wide = core.MethodChoice("transposed-conv", {"kernel_size": 64, "padding": 0})
    message, seconds, allocated = refusal(image, mode="upscale", scale=16, methods=("nearest", wide))
    assert message.startswith(
        "Transposed convolution (kernel_size=64, padding=0) would return 16432x16432 = "
        f"270,010,624 pixels, over the limit of {LIMIT}"
    )
    assert seconds < 0.5 and allocated < 10 * 2**20


def test_the_limit_is_the_one_people_set() -> None:
    image = np.zeros((100, 100), np.uint8)
    settings = core.ComparisonSettings(mode="upscale", scale=4)
    saved = core.limits.max_output_pixels
    core.limits.max_output_pixels = 399 * 399
    try:
        with pytest.raises(core.ParameterError, match="400x400 = 160,000 pixels, over the limit of 159,201 output pixels"):
            core.check_settings(settings, image.shape)
        with pytest.raises(core.ParameterError, match="the results would be 100x100 = 10,000 pixels"):
            core.limits.max_output_pixels = 9_999
            core.Comparison(image, core.ComparisonSettings(mode="degrade", scale=2))
    finally:
        core.limits.max_output_pixels = saved
    core.check_settings(settings, image.shape)


def write_zeros(path: Path, height: int, width: int) -> Path:
    core.save_image(path, np.zeros((height, width), np.uint8))
    return path


@pytest.mark.parametrize(
    "size, options, expected",
    [
        (
            (2000, 2000),
            ["--mode", "upscale", "--scale", "16"],
            "upscaling 2000x2000 by x16 gives 32000x32000 = 1,024,000,000 pixels",
        ),
        (
            (8000, 12000),
            ["--mode", "upscale", "--scale", "2"],
            "upscaling 12000x8000 by x2 gives 24000x16000 = 384,000,000 pixels",
        ),
        ((64, 64), ["--scale", "2000"], "scale 2000 is over the limit of 16"),
        ((64, 64), ["--scale", "1e9"], "scale 1e+09 is over the limit of 16"),
        ((64, 64), ["--scale", "1,1e6"], "scale 1,1e+06 is over the limit of 16"),
        # A whole 96-megapixel frame in a grid of ten tiles: refused before any method runs.
        ((8000, 12000), ["--scale", "2"], "the figure would be "),
    ],
)
def test_the_command_line_refuses_them_at_once(tmp_path: Path, size, options, expected: str) -> None:
    image = write_zeros(tmp_path / "in.png", *size)
    run = run_measured(["app.py", str(image), "--export", str(tmp_path / "out.png"), *options], timeout=60)
    assert run.returncode == 2, run.stderr
    assert expected in run.stderr
    assert "Traceback" not in run.stderr and "cv2.error" not in run.stderr
    assert run.seconds < 20
    # The process holds the image and the libraries, never a result: no 384 MB one here.
    assert run.peak_bytes < 400 * 2**20 + 2 * size[0] * size[1] or not HAS_PEAK, run.peak_bytes
    assert not (tmp_path / "out.png").exists()
