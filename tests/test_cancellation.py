"""Cancelling a comparison takes effect inside a long step (bands of a resampling, of
SSIM, tiles of a learned model, phases of a transposed convolution, the downsampling
that prepares it), not only between methods."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import core
import core.methods.classic
import core.methods.learned
import core.methods.neural
import core.methods.taps
import core.metrics.measures

#: How long a cancelled step may go on (the loops check once per band, a few dozen
#: milliseconds of work; the bound leaves room for a busy machine).
PROMPT = 1.0


class Checkpoints:
    """Counts a module's cancellation checks; `reached` is set at the ``after``-th, so
    the step is known to be running (some of its bands done) when it is cancelled."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, after: int = 3) -> None:
        self.reached = threading.Event()
        self.count = 0
        real = module.check_cancelled

        def check() -> None:
            self.count += 1
            if self.count >= after:
                self.reached.set()
            real()

        monkeypatch.setattr(module, "check_cancelled", check)


def cancel_when_reached(
    cancel: Callable[[], None], work: Callable[[], Any], checkpoints: Checkpoints
) -> tuple[float, float, Any]:
    """Run ``work`` in a thread, call ``cancel`` once it is mid-step; returns the
    seconds from the cancel to ``work``'s return, ``work``'s total seconds, and what it
    returned (or the `core.UpscopeError` it raised)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except core.UpscopeError as exc:
            outcome["value"] = exc

    worker = threading.Thread(target=target)
    start = time.perf_counter()
    worker.start()
    assert checkpoints.reached.wait(120), "the step never reached its loop"
    cancel()
    cancelled_at = time.perf_counter()
    worker.join(60)
    assert not worker.is_alive()
    end = time.perf_counter()
    return end - cancelled_at, end - start, outcome["value"]


def photo(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    small = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.kron(small, np.ones((8, 8, 1), np.uint8))[:height, :width])


@pytest.mark.parametrize(
    "method, scale, module, bands",
    [
        ("bilinear-aligned", 4, core.methods.taps, 40),  # tap tables applied in bands of rows
        ("bilinear-numpy", 4, core.methods.classic, 40),  # the textbook formula, in bands
        # A kernel other than the default (which is one bilinear resize): four phases per axis.
        (core.MethodChoice("transposed-conv", {"kernel_size": 6}), 4, core.methods.neural, 8),
        ("espcn", 2, core.methods.learned, 20),  # tiles of 256 pixels
    ],
)
def test_a_method_stops_within_a_band_of_being_cancelled(monkeypatch, method, scale, module, bands) -> None:
    name = method if isinstance(method, str) else method.id
    image = photo(1000, 1500) if name != "espcn" else photo(1024, 1300)
    comparison = core.Comparison(image, core.ComparisonSettings(mode="upscale", scale=scale, methods=(method,)))
    checkpoints = Checkpoints(monkeypatch, module)
    late, total, result = cancel_when_reached(comparison.cancel, lambda: comparison.run(method), checkpoints)
    assert isinstance(result, core.MethodResult) and result.image is None
    assert result.reason == "cancelled before it finished"
    assert late < PROMPT, f"{name} went on for {late:.2f} s after it was cancelled"
    assert checkpoints.count < bands, "it ran to the end"


def test_measuring_stops_within_a_band_of_ssim(monkeypatch) -> None:
    image = photo(3000, 2000)
    comparison = core.Comparison(image, core.ComparisonSettings(scale=2, methods=("nearest",)))
    unmeasured = comparison.run("nearest", measure=False)
    height, width, channels = image.shape
    error_bands = -(-height // core.metrics.measures.band_rows(width * channels * 8))
    checkpoints = Checkpoints(monkeypatch, core.metrics.measures, after=error_bands + 3)  # past the error sums, into SSIM
    late, _, result = cancel_when_reached(comparison.cancel, lambda: comparison.measure(unmeasured), checkpoints)
    assert result is unmeasured and result.metrics is None
    assert late < PROMPT


def test_preparing_stops_within_a_band_of_the_downsampling(monkeypatch) -> None:
    image = photo(4000, 3000)
    flag = threading.Event()
    settings = core.ComparisonSettings(scale=2, downsampler="bicubic-aa", methods=("nearest",))
    checkpoints = Checkpoints(monkeypatch, core.methods.taps)
    late, _, raised = cancel_when_reached(flag.set, lambda: core.Comparison(image, settings, cancel=flag), checkpoints)
    assert isinstance(raised, core.UpscopeError) and "cancelled" in str(raised)
    assert late < PROMPT


def test_iteration_ends_with_the_method_it_cut_short(monkeypatch) -> None:
    image = photo(1000, 1500)
    comparison = core.Comparison(
        image, core.ComparisonSettings(mode="upscale", scale=4, methods=("nearest", "bilinear-aligned", "bicubic"))
    )
    checkpoints = Checkpoints(monkeypatch, core.methods.taps)
    late, _, results = cancel_when_reached(comparison.cancel, lambda: list(comparison), checkpoints)
    assert [r.method_id for r in results] == ["nearest"]
    assert late < PROMPT
