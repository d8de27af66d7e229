"""Compute backends: parity with the CPU, proof that the backend asked for really ran,
data kept on the device, failures rerun on the CPU, and how a backend is chosen.

The OpenCL tests run on whatever device OpenCV uses (POCL on the CPU in CI, with
``OPENCV_OPENCL_DEVICE=":CPU:"`` set by conftest); the PyTorch tests on PyTorch's CPU.
Each skips with the reason when its runtime is absent.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from unittest import mock

import numpy as np
import pytest
from conftest import max_error, random_image, round_like, tolerance
from hypothesis import given, settings
from hypothesis import strategies as st

import core
from core.backends.base import BackendError
from core.backends.choice import get_backend, reset_backends
from core.backends.opencl import OPENCL_METHODS
from core.backends.pytorch import TORCH_METHODS

SHAPES = st.tuples(st.integers(1, 19), st.integers(1, 19), st.sampled_from([None, 1, 2, 3, 4]))
DTYPES = st.sampled_from([np.uint8, np.uint16, np.float32])


@pytest.fixture(autouse=True)
def fresh_backends():
    reset_backends()
    yield
    reset_backends()


def backend_or_skip(name: str):
    try:
        return get_backend(name)
    except BackendError as exc:
        pytest.skip(f"{name} backend unavailable: {exc}")


@pytest.fixture(params=["opencl", "torch"])
def device(request):
    return backend_or_skip(request.param)


def _image(seed: int, shape, dtype) -> np.ndarray:
    h, w, c = shape
    return random_image(np.random.default_rng(seed), (h, w) if c is None else (h, w, c), dtype)


def _on(backend, image, method, size, **params):
    """Run ``method`` on ``backend`` itself: a refusal raises, nothing falls back."""
    spec = core.get_method(method)
    resolved = spec.resolve_params(params)
    hwc = image if image.ndim == 3 else image[:, :, None]
    before = backend.traffic.snapshot()[2]
    out = backend.get(backend.resample(backend.put(hwc), method, size, resolved))
    assert backend.traffic.snapshot()[2] == before + 1, "the step did not run on the backend"
    return out if image.ndim == 3 else out[:, :, 0]


def _scales(spec, data) -> tuple[float, float]:
    if spec.scales == "integer":
        return data.draw(st.tuples(st.integers(1, 4), st.integers(1, 4)), label="scale")
    return data.draw(st.tuples(st.sampled_from([1, 1.5, 2, 2.5, 3, 3.5, 4]), st.sampled_from([1, 1.5, 2, 3.25, 4])),
                     label="scale")


@pytest.mark.parametrize("name", ["opencl", "torch"])
@settings(max_examples=150)
@given(data=st.data(), shape=SHAPES, dtype=DTYPES, seed=st.integers(0, 2**16))
def test_every_method_of_a_backend_equals_the_cpu(name, data, shape, dtype, seed):
    backend = backend_or_skip(name)
    method = data.draw(st.sampled_from(sorted(backend.methods)), label="method")
    spec = core.get_method(method)
    image = _image(seed, shape, dtype)
    sy, sx = _scales(spec, data)
    size = (max(1, int(shape[0] * sy + 0.5)), max(1, int(shape[1] * sx + 0.5)))
    expected = core.upsample(image, method, size=size, backend="cpu")
    got = _on(backend, image, method, size)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert max_error(got, expected) <= tolerance(dtype)


# -- long axes, against float64 definitions written from docs/METHODS.md ----------------------
#
# A float32 source coordinate is off by up to n * 6e-8 pixels on an axis of n pixels: far
# below a pixel, yet at 8191 px it moved uint16 results by up to 36 levels. One row (or
# column) of 1,000 to 10,000 pixels finds that in milliseconds.

LONG_AXIS = st.integers(1000, 10000)


def _cubic_weight(x: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel (docs/METHODS.md#bicubic)."""
    x = np.abs(x)
    far = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(x <= 1, (a + 2) * x**3 - (a + 3) * x**2 + 1, np.where(x < 2, far, 0.0))


def _axis_definition(method: str, values: np.ndarray, n_out: int, params: dict) -> np.ndarray:
    """``method`` along axis 0 of float64 ``values`` (``n`` samples, any trailing axes) to
    ``n_out`` samples, from docs/METHODS.md; 2-D methods are this along each axis."""
    n_in = values.shape[0]
    dst = np.arange(n_out)

    def along(v: np.ndarray) -> np.ndarray:  # a per-sample factor, broadcast over the trailing axes
        return v.reshape((-1,) + (1,) * (values.ndim - 1))

    if method in ("nearest", "nearest-exact"):  # exact integers: floor(dst r) or floor((dst + 0.5) r)
        source = dst * n_in // n_out if method == "nearest" else (2 * dst + 1) * n_in // (2 * n_out)
        return values[np.minimum(source, n_in - 1)]
    if method in ("repeat", "avg-unpool"):
        return np.repeat(values, n_out // n_in, axis=0)
    if method == "max-unpool":  # no recorded maxima: each value at its window's first pixel
        out = np.zeros((n_out,) + values.shape[1:])
        out[:: n_out // n_in] = values
        return out
    if method == "transposed-conv":  # out[t] = sum over y s + i = t + p of in[y] k[i], FCN kernel
        s = n_out // n_in
        k = 2 * s - s % 2
        f = -(-k // 2)
        centre = f - 1 if k % 2 else f - 0.5
        pad = -(-(k - s) // 2)
        full = np.zeros(((n_in - 1) * s + k,) + values.shape[1:])
        for i in range(k):
            full[i : i + (n_in - 1) * s + 1 : s] += values * (1 - abs(i - centre) / f)
        return full[pad : pad + n_out]
    if method == "area":  # the mean over [dst r, (dst + 1) r) of the piecewise-constant input
        zero = np.zeros((1,) + values.shape[1:])
        integral = np.concatenate([zero, np.cumsum(values, axis=0)])
        padded = np.concatenate([values, zero])

        def cumulative(x: np.ndarray) -> np.ndarray:
            whole = np.floor(x).astype(np.int64)
            return integral[whole] + along(x - whole) * padded[whole]

        r = n_in / n_out
        return (cumulative((dst + 1) * r) - cumulative(dst * r)) / r
    if method == "bilinear-aligned":
        source = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(1)
    else:
        source = (dst + 0.5) * n_in / n_out - 0.5
    if method in ("bilinear", "bilinear-aligned"):
        source = np.maximum(source, 0.0)
        left = np.floor(source).astype(np.int64)
        frac = along(source - left)
        return (1 - frac) * values[np.minimum(left, n_in - 1)] + frac * values[np.minimum(left + 1, n_in - 1)]
    assert method == "bicubic", method
    left = np.floor(source).astype(np.int64)
    return sum(along(_cubic_weight(source - (left + k), params["a"])) * values[np.clip(left + k, 0, n_in - 1)]
               for k in range(-1, 3))


def _definition(method: str, image: np.ndarray, size: tuple[int, int], params: dict) -> np.ndarray:
    """The float64 result of ``method`` on ``(H, W, C)`` ``image`` at ``size``, rounded
    like an integer result of ``image``'s dtype (docs/METHODS.md#images)."""
    across = _axis_definition(method, image.astype(np.float64).transpose(1, 0, 2), size[1], params)
    return round_like(_axis_definition(method, across.transpose(1, 0, 2), size[0], params), image.dtype)


def _long_axis_size(backend, method: str, n: int, data: st.DataObject) -> int:
    """An output length for an axis of ``n`` pixels that ``backend`` runs ``method`` at:
    whole multiples for the whole-number methods, else any length, larger or smaller."""
    if core.get_method(method).scales == "integer":
        return n * data.draw(st.integers(1, 3), label="scale")
    if method == "area" and backend.name == "opencl":  # OpenCL runs area for upscaling only
        return data.draw(st.integers(n, 10000), label="n_out")
    return data.draw(LONG_AXIS, label="n_out")


BACKEND_METHODS = [(name, method) for name, methods in (("opencl", OPENCL_METHODS), ("torch", TORCH_METHODS))
                   for method in sorted(methods)]


@pytest.mark.parametrize("name,method", BACKEND_METHODS)
@settings(max_examples=25)
@given(data=st.data(), n=LONG_AXIS, column=st.booleans(), channels=st.sampled_from([1, 3]), dtype=DTYPES,
       seed=st.integers(0, 2**16))
def test_every_method_of_a_backend_is_exact_on_long_axes(name, method, data, n, column, channels, dtype, seed):
    backend = backend_or_skip(name)
    params = core.get_method(method).resolve_params({})
    image = _image(seed, (n, 1, channels) if column else (1, n, channels), dtype)
    n_out = _long_axis_size(backend, method, n, data)
    scale = n_out // n if core.get_method(method).scales == "integer" else 1
    size = (n_out, scale) if column else (scale, n_out)
    got = _on(backend, image, method, size)
    assert max_error(got, _definition(method, image, size, params)) <= tolerance(dtype)
    expected = core.upsample(image, method, size=size, backend="cpu")
    assert max_error(expected, _definition(method, image, size, params)) <= tolerance(dtype)
    assert max_error(got, expected) <= tolerance(dtype)  # parity with the CPU


@settings(max_examples=40)
@given(method=st.sampled_from(["bilinear", "bilinear-aligned", "bicubic"]), dtype=DTYPES,
       shape=st.tuples(st.integers(1, 30), st.integers(1, 30), st.sampled_from([1, 3])),
       size=st.tuples(st.integers(1, 50), st.integers(1, 50)), band_bytes=st.integers(1, 4096), seed=st.integers(0, 2**16))
def test_torch_taps_in_row_bands_match_the_definition(method, dtype, shape, size, band_bytes, seed):
    """A large image is resampled a band of output rows at a time; with bands of one or a
    few rows, the band edges must not show (the taps path forced at every size)."""
    import core.backends.pytorch as pytorch

    backend = backend_or_skip("torch")
    image = _image(seed, shape, dtype)
    with (mock.patch.object(pytorch, "DEVICE_BAND_BYTES", band_bytes),
          mock.patch.dict(pytorch._INTERPOLATE_BUDGET, {np.dtype(dtype): -1.0})):
        got = _on(backend, image, method, size)
    definition = _definition(method, image, size, core.get_method(method).resolve_params({}))
    assert max_error(got, definition) <= tolerance(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("a", [-0.75, -0.5, -1.0])
def test_torch_bicubic_runs_any_a_on_the_device(rng, dtype, a):
    backend = backend_or_skip("torch")
    image = random_image(rng, (7, 9, 3), dtype)
    params = core.get_method("bicubic").resolve_params({"a": a})
    got = _on(backend, image, "bicubic", (16, 20), a=a)
    assert max_error(got, _definition("bicubic", image, (16, 20), params)) <= tolerance(dtype)
    assert max_error(got, core.upsample(image, "bicubic", size=(16, 20), a=a, backend="cpu")) <= tolerance(dtype)


@pytest.mark.parametrize("name", ["opencl", "torch"])
def test_nearest_takes_the_floor_source_pixel_at_a_tie_both_kernels_round_wrong(name):
    # 14 -> 46 columns: output 23 maps to source 23 * 14 / 46 = 7 exactly; OpenCV's OpenCL
    # kernel and PyTorch's F.interpolate both computed it one pixel low (6), found by hypothesis.
    backend = backend_or_skip(name)
    image = _image(0, (11, 14, 3), np.uint8)
    source_columns = np.arange(46) * 14 // 46  # docs/METHODS.md#nearest: floor(dst * in / out)
    assert np.array_equal(_on(backend, image, "nearest", (11, 46)), image[:, source_columns])


@pytest.mark.parametrize("kernel_size,padding", [(None, None), (3, 0), (5, 2), (4, 1)])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_transposed_conv_parameters_on_each_backend(device, rng, kernel_size, padding, scale):
    image = random_image(rng, (9, 11, 3), np.float32)
    params = dict(kernel_size=kernel_size, padding=padding)
    expected = core.upsample(image, "transposed-conv", scale=scale, backend="cpu", **params)
    got = _on(device, image, "transposed-conv", (9 * scale, 11 * scale), **params)
    assert got.shape == expected.shape
    assert max_error(got, expected) <= tolerance(np.float32)


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_max_unpool_with_recorded_maxima_on_torch(rng, channels):
    backend = backend_or_skip("torch")
    original = random_image(rng, (12, 18) if channels is None else (12, 18, channels), np.uint8)
    low, extras = core.downsample(original, 3, "max-pool")
    expected = core.upsample(low, "max-unpool", scale=3, backend="cpu", **extras)
    got = _on(backend, low, "max-unpool", (12, 18), **extras)
    np.testing.assert_array_equal(got, expected)


_QUIET_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import core
    from core.backends.choice import get_backend
    backend = get_backend("torch")
    grey = (np.arange(12 * 18) % 251).astype(np.uint8).reshape(12, 18)
    low, extras = core.downsample(grey, 3, "max-pool")
    frozen = np.broadcast_to(low[:, :, None], low.shape + (1,))  # a read-only image, too
    spec = core.get_method("max-unpool")
    out = backend.get(backend.resample(backend.put(frozen), "max-unpool", (12, 18), spec.resolve_params(extras)))
    assert out.shape == (12, 18, 1), out.shape
    """
)


def test_grey_max_unpool_on_torch_prints_no_warning():
    # PyTorch warns once per process ("The given NumPy array is not writable"), so a fresh
    # interpreter, with every warning an error, is the only honest witness.
    backend_or_skip("torch")
    done = subprocess.run([sys.executable, "-W", "error", "-c", _QUIET_SCRIPT], capture_output=True, text=True,
                          timeout=300, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == ""


@pytest.mark.parametrize("convention", ["all", "paper"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("channels", [None, 3, 4])
def test_metrics_and_differences_on_each_backend_equal_the_cpu(device, rng, convention, dtype, channels):
    shape = (40, 37) if channels is None else (40, 37, channels)
    reference = random_image(rng, shape, dtype)
    test = core.upsample(core.downsample(reference, 2, "area")[0], "bilinear", size=(40, 37), backend="cpu")
    hwc = lambda a: a if a.ndim == 3 else a[:, :, None]  # noqa: E731
    ref_h, test_h = device.put(hwc(reference)), device.put(hwc(test))
    got = device.metrics(ref_h, test_h, convention=convention, shave=2)
    expected = core.compute_metrics(reference, test, convention=convention, shave=2)
    assert got.convention == expected.convention and got.shave == expected.shave
    for field in ("mse", "mae", "max_abs", "psnr"):
        assert getattr(got, field) == pytest.approx(getattr(expected, field), rel=1e-5, abs=1e-9), field
    assert got.ssim == pytest.approx(expected.ssim, abs=1e-5)
    for kind in ("signed", "abs", "squared"):
        for per_channel in (True, False):
            diff = device.difference(ref_h, test_h, kind=kind, per_channel=per_channel)
            want = core.difference(hwc(reference), hwc(test), kind=kind, per_channel=per_channel)
            assert diff.shape == want.shape and diff.dtype == np.float32
            np.testing.assert_allclose(diff, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("offset", [1000.0, -3e4, 1e5])
def test_ssim_on_each_backend_centres_each_image_on_its_own_mean(device, offset):
    # One centre for both images left the test image's variance to cancellation:
    # 0.0016 (OpenCL) and 0.0020 (PyTorch) for a true 0.00098 at an offset of 1000.
    rng = np.random.default_rng(0)
    reference = rng.random((40, 37, 3)).astype(np.float32)
    test = (reference + 0.1 * rng.random(reference.shape) + offset).astype(np.float32)
    got = device.metrics(device.put(reference), device.put(test))
    assert got.ssim == pytest.approx(core.compute_metrics(reference, test).ssim, rel=1e-4)


def test_paper_metrics_on_each_backend_keep_float64_precision(device):
    # Near-identical 16-bit images: float32 luma moved PSNR by 2e-3 dB at 117 dB and
    # SSIM above 1.
    rng = np.random.default_rng(1)
    reference = rng.integers(0, 65535, (40, 37, 3)).astype(np.uint16)
    test = reference.copy()
    test[::7, ::5, 1] += 1
    got = device.metrics(device.put(reference), device.put(test), convention="paper", shave=2)
    expected = core.compute_metrics(reference, test, convention="paper", shave=2)
    assert expected.psnr > 110
    assert got.psnr == pytest.approx(expected.psnr, rel=1e-9)
    assert got.ssim <= 1.0 and got.ssim == pytest.approx(expected.ssim, abs=1e-9)


def test_ssim_that_overflows_float32_on_a_device_is_measured_on_the_cpu(device):
    rng = np.random.default_rng(2)
    reference = (rng.random((24, 24, 1)) * 1e20).astype(np.float32)
    test = (reference * np.float32(0.9)).astype(np.float32)
    with pytest.raises(BackendError, match="SSIM overflowed float32 on the device"):
        device.metrics(device.put(reference), device.put(test))
    settings = core.ComparisonSettings(mode="upscale", scale=1, reference="nearest", methods=("nearest",),
                                       backend=device.name)
    comparison = core.Comparison(reference[:, :, 0] * np.float32(0.9), settings)
    assert comparison.measure(comparison.run("nearest", measure=False)).metrics.ssim == pytest.approx(1.0)


def test_ssim_is_none_below_the_window_on_each_backend(device, rng):
    image = random_image(rng, (8, 30, 3), np.uint8)
    handle = device.put(image)
    assert device.metrics(handle, handle).ssim is None


@pytest.mark.parametrize("mode,downsampler", [("degrade", "bicubic-aa"), ("degrade", "max-pool"), ("degrade", "avg-pool"),
                                              ("upscale", None)])
def test_a_comparison_on_a_backend_matches_the_cpu_and_says_where_each_method_ran(device, rng, mode, downsampler):
    image = random_image(rng, (48, 40, 3), np.uint8)
    common = dict(mode=mode, scale=4, reference=None if mode == "degrade" else "bicubic",
                  methods=tuple(spec.id for spec in core.list_methods() if spec.family != "learned"))
    if downsampler:
        common["downsampler"] = downsampler
    cpu = {r.method_id: r for r in core.compare(image, core.ComparisonSettings(backend="cpu", **common))}
    comparison = core.Comparison(image, core.ComparisonSettings(backend=device.name, **common))
    assert comparison.backend is device
    results = {r.method_id: r for r in comparison}
    for method_id, result in results.items():
        assert result.ok, result.reason
        if device.runs(method_id):
            assert result.backend == device.name, method_id
        else:
            assert result.backend == "cpu" and "Ran on the CPU" in result.note, method_id
        assert max_error(result.image, cpu[method_id].image) <= 1
        if cpu[method_id].metrics is not None:
            assert result.metrics.psnr == pytest.approx(cpu[method_id].metrics.psnr, abs=0.05)
            assert result.metrics.ssim == pytest.approx(cpu[method_id].metrics.ssim, abs=2e-3)
            assert result.difference.shape == cpu[method_id].difference.shape
    assert max_error(comparison.input, core.Comparison(image, core.ComparisonSettings(backend="cpu", **common)).input) <= 1


def test_the_image_crosses_to_the_device_once(device, rng):
    image = random_image(rng, (64, 64, 3), np.uint8)
    settings = core.ComparisonSettings(mode="degrade", scale=4, downsampler="avg-pool", backend=device.name,
                                       methods=tuple(sorted(device.methods)))
    results = list(core.compare(image, settings))
    to_device, from_device, steps = device.traffic.snapshot()
    assert all(r.backend == device.name for r in results if r.method_id != "max-unpool")
    # The original goes up once (the input is pooled on the device where the backend can);
    # the rest is index vectors, masks' vectors and kernels: a few kilobytes.
    extra = 0 if device.name == "torch" else image.nbytes // 16
    assert image.nbytes <= to_device <= image.nbytes + extra + 16 * 1024
    result_bytes = sum(r.image.nbytes + r.difference.nbytes for r in results)
    assert from_device <= result_bytes + image.nbytes  # the results, their maps, the input
    assert steps >= 2 * len(results)


def test_upsample_runs_on_the_backend_asked_for(device, rng):
    image = random_image(rng, (10, 12, 3), np.uint8)
    before = device.traffic.snapshot()[2]
    out = core.upsample(image, "bilinear", scale=3, backend=device.name)
    assert device.traffic.snapshot()[2] == before + 1
    assert max_error(out, core.upsample(image, "bilinear", scale=3, backend="cpu")) <= 1
    # A method the backend lacks runs on the CPU and gives the CPU's pixels.
    np.testing.assert_array_equal(core.upsample(image, "lanczos4", scale=3, backend=device.name),
                                  core.upsample(image, "lanczos4", scale=3, backend="cpu"))


def test_a_failing_backend_reruns_on_the_cpu_tells_once_and_is_switched_off(device, rng, monkeypatch, caplog):
    def lost(*args, **kwargs):
        raise RuntimeError("device lost")

    monkeypatch.setattr(device, "resample", lost)
    monkeypatch.setattr(device, "batch", lambda handle, steps: [(RuntimeError("device lost"), 0.0) for _ in steps])
    image = random_image(rng, (32, 32, 3), np.uint8)
    settings = core.ComparisonSettings(backend=device.name, methods=("bilinear", "nearest", "bicubic"))
    with caplog.at_level(logging.WARNING, logger="upscope.backend"):
        results = list(core.compare(image, settings))
    cpu = list(core.compare(image, core.ComparisonSettings(backend="cpu", methods=("bilinear", "nearest", "bicubic"))))
    for result, expected in zip(results, cpu):
        assert result.backend == "cpu"
        np.testing.assert_array_equal(result.image, expected.image)
        assert result.metrics == expected.metrics
    notices = [r.backend_notice for r in results if r.backend_notice]
    assert len(notices) == 1 and "device lost" in notices[0] and "off for the rest of this session" in notices[0]
    assert "device lost" in caplog.text
    with pytest.raises(BackendError, match="off for this session"):
        get_backend(device.name)


def test_bad_parameters_are_the_users_error_not_a_device_failure(device, rng):
    image = random_image(rng, (8, 8, 3), np.uint8)
    with pytest.raises(core.ParameterError, match="output_padding"):
        core.upsample(image, "transposed-conv", scale=2, backend=device.name, output_padding=5)
    get_backend(device.name)  # still usable


def test_opencl_backend_reports_its_device():
    backend = backend_or_skip("opencl")
    info = backend.info()
    assert info.name == "opencl" and info.device and info.platform.startswith("OpenCL")
    assert info.memory_bytes and info.memory_bytes > 0
    assert backend.self_test()
    assert info.summary().startswith("OpenCL: ")


# -- proof that OpenCV really ran OpenCL kernels ------------------------------------------

_TRACE_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from core.backends.choice import get_backend
    backend = get_backend("opencl")
    rng = np.random.default_rng(5)
    image = (rng.random((20, 24, 3)) * 255).astype(np.uint8)
    handle = backend.put(image)
    steps = [(m, s) for m in sorted(backend.methods) for s in ((40, 48), (50, 60))
             if not (s == (50, 60) and m in ("repeat", "avg-unpool", "transposed-conv"))]
    for method, size in steps:
        print(f"=== {method} {size}", file=sys.stderr, flush=True)
        out = backend.resample(handle, method, size, {"kernel": "bilinear", "kernel_size": None, "padding": None,
                                                      "output_padding": None} if method == "transposed-conv" else {})
        out.umat.get()
    reference = backend.resample(handle, "bilinear", (40, 48), {})
    test = backend.resample(handle, "nearest", (40, 48), {})
    print("=== metrics", file=sys.stderr, flush=True)
    backend.metrics(reference, test)
    print("=== difference", file=sys.stderr, flush=True)
    backend.difference(reference, test, kind="abs", per_channel=False)
    print("=== end", file=sys.stderr, flush=True)
    """
)


def test_opencl_steps_run_opencl_kernels_not_a_silent_cpu_fallback(tmp_path):
    backend = backend_or_skip("opencl")
    if "PoCL" not in backend.info().platform:
        pytest.skip("the kernel trace needs POCL's debug log; the device is " + backend.info().device)
    env = dict(os.environ, POCL_DEBUG="general", OPENCV_OPENCL_DEVICE=os.environ.get("OPENCV_OPENCL_DEVICE", ":CPU:"))
    done = subprocess.run([sys.executable, "-c", _TRACE_SCRIPT], env=env, capture_output=True, text=True, timeout=300,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr[-2000:]
    # OpenCV logs "[ERROR...] ... can't create cl_mem handle" when it gives a kernel up
    # and runs the CPU code instead: none of that may happen.
    assert "[ERROR" not in done.stderr, [line for line in done.stderr.splitlines() if "[ERROR" in line][:3]
    kernels: dict[str, list[str]] = {}
    step = None
    for line in done.stderr.splitlines():
        if line.startswith("=== "):
            step = line[4:]
            kernels[step] = []
        elif step and "Created Kernel" in line:
            kernels[step].append(line.split("Created Kernel")[1].split("(")[0].strip())
    steps = [s for s in kernels if s != "end"]
    assert len(steps) >= 15
    for name in steps:
        assert kernels[name], f"{name}: no OpenCL kernel ran"
    assert "resizeLN" in kernels["bilinear (40, 48)"]
    assert "filter2D" in kernels["transposed-conv (40, 48)"]
    assert any("filter" in k for k in kernels["metrics"])  # SSIM's Gaussian blur


# -- choosing a backend -------------------------------------------------------------------

def test_the_automatic_choice_never_takes_a_cpu_device():
    chosen = core.current_backend()
    for name in ("opencl", "torch"):
        try:
            backend = get_backend(name)
        except BackendError:
            continue
        if not backend.info().gpu:
            assert chosen.name != name
    if not any(info.gpu for info in core.available_backends()):
        assert chosen.name == "cpu"


def test_the_automatic_choice_takes_a_gpu_that_passes_its_self_test(monkeypatch):
    import core.backends.choice as backend_module

    backend = backend_or_skip("torch")
    monkeypatch.setattr(backend_module, "_gpu_driver_present", lambda: True)
    gpu = core.BackendInfo("torch", "PyTorch", "Test GPU", "PyTorch", 2**34, True)
    monkeypatch.setattr(backend, "info", lambda: gpu)
    assert core.current_backend() is backend
    reset_backends()
    backend = get_backend("torch")
    monkeypatch.setattr(backend, "info", lambda: gpu)
    monkeypatch.setattr(backend, "self_test", lambda: False)
    assert core.current_backend().name != "torch"


def test_session_choice_environment_variable_and_unknown_names(monkeypatch, caplog):
    assert core.set_backend("cpu").name == "cpu"
    assert core.current_backend().name == "cpu"
    core.set_backend(None)
    monkeypatch.setenv("UPSCOPE_BACKEND", "cpu")
    assert core.requested_backend() == "cpu" and core.current_backend().name == "cpu"
    monkeypatch.setenv("UPSCOPE_BACKEND", "quantum")
    with caplog.at_level(logging.WARNING, logger="upscope.backend"):
        assert core.current_backend() is not None  # a stale setting never stops the app
    assert "quantum" in caplog.text
    with pytest.raises(core.ParameterError, match="unknown backend 'quantum'"):
        core.set_backend("quantum")
    with pytest.raises(core.ParameterError, match="unknown backend"):
        core.compare(np.zeros((8, 8), np.uint8), core.ComparisonSettings(backend="quantum"))


def test_an_unavailable_backend_asked_for_by_name_says_why(monkeypatch):
    import core.backends.choice as backend_module

    def missing():
        raise BackendError("PyTorch is not installed (pip install -e \".[torch]\")")

    for name in ("opencl", "torch"):  # every backend but the CPU is missing
        monkeypatch.setitem(backend_module._FACTORIES, name, missing)
    with pytest.raises(BackendError, match="not installed"):
        core.set_backend("torch")
    with pytest.raises(core.ParameterError, match="cannot run here: PyTorch is not installed"):
        core.Comparison(np.zeros((8, 8), np.uint8), core.ComparisonSettings(backend="torch"))
    assert "torch" in core.unavailable_backends()
    assert [info.name for info in core.available_backends()] == ["cpu"]


def test_every_method_says_where_it_runs():
    for spec in core.list_methods():
        sentence = core.backends_sentence(spec.id)
        assert sentence.startswith("Runs on the CPU")
    assert core.method_backends("bilinear") == ("CPU", "OpenCL", "PyTorch")
    assert core.method_backends("lanczos4") == ("CPU",)
    assert "CPU only" in core.backends_sentence("lanczos4")
