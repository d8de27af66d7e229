"""The ``opencl`` backend: OpenCV's transparent API (``cv2.UMat``) on an OpenCL device.

Measured with OpenCV 5.0 (a kernel trace of POCL lists what really ran): ``cv2.resize``
has OpenCL kernels for nearest and linear upscaling only; nearest-exact, area and cubic
upscaling on a ``UMat`` quietly run on the CPU. So this backend runs:

- ``nearest``, ``nearest-exact``, ``repeat``, ``avg-unpool``: a remap with exact integer
  maps (OpenCV's OpenCL nearest kernel lands on the wrong side of some ties where its CPU
  code does not, e.g. 14 -> 46 columns, so the CPU probe `opencv_is_exact` cannot vouch
  for it);
- ``bilinear``: OpenCV's linear kernel (11-bit weights on uint8) on axes short enough for
  its float32 source coordinates (`_LINEAR_KERNEL_UP_TO`); on longer ones the exact two
  taps below;
- ``area``, ``bilinear-aligned`` (and long ``bilinear``): two taps per axis, as four
  exact-index remaps blended with float32 weights computed on the host in float64 (area
  upscaling is a two-tap blend by pixel overlap);
- ``transposed-conv``: zero insertion (nearest upscale times a 0/1 mask built on the
  device) and one ``filter2D`` with the flipped kernel;
- differences and every metric: arithmetic, ``norm`` reductions and ``GaussianBlur``.

Everything else runs on the CPU, and the comparison says so. Images stay on the device
between the steps of one comparison; only results and difference maps come back.

OpenCV uses an OpenCL device only when one is usable: a GPU by default, or a CPU device
(POCL) when ``OPENCV_OPENCL_DEVICE=":CPU:"`` is set before the first OpenCL call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import cv2
import numpy as np

from core.backends.base import Backend, BackendError, BackendInfo, Kernel
from core.common.arrays import data_range
from core.common.colour import LUMA_OFFSET, LUMA_WEIGHTS
from core.common.errors import ParameterError
from core.common.vocabulary import (
    Convention,
    DiffKind,
    check_convention,
    check_diff_kind,
)
from core.methods.taps import (
    Taps,
    aligned_coords,
    area_taps,
    half_pixel_coords,
    linear_taps,
    nearest_exact_index,
    nearest_index,
)
from core.metrics.measures import SSIM_K1, SSIM_K2, SSIM_RADIUS, SSIM_SIGMA, Metrics

# cv2.remap handles outputs below SHRT_MAX pixels per side.
_REMAP_LIMIT = 32767
#: The longest input axis (pixels), per dtype, on which OpenCV's linear kernel stays well
#: inside the tolerance of docs/METHODS.md#bilinear: it finds source coordinates in
#: float32, which drift by about n * 6e-8 pixels on an axis of n. Measured on POCL with
#: alternating black and white pixels against the float64 definition: uint8 (11-bit
#: weights) within 1 LSB up to 60,000 px; uint16 1 LSB up to 512 px, 2 at 1024, 4 at
#: 2048; float32 3e-5 of the range at 1024 px, 6e-5 at 2048. Longer axes take the exact
#: two-tap path.
_LINEAR_KERNEL_UP_TO = {np.dtype(np.uint8): 32768, np.dtype(np.uint16): 256, np.dtype(np.float32): 1024}
_CV_DEPTH = {np.dtype(np.uint8): cv2.CV_8U, np.dtype(np.uint16): cv2.CV_16U, np.dtype(np.float32): cv2.CV_32F}


class DeviceImage:
    """An ``(H, W, C)`` image on the OpenCL device: a ``UMat`` plus its NumPy dtype."""

    __slots__ = ("umat", "dtype", "shape")

    def __init__(self, umat: cv2.UMat, dtype: np.dtype, shape: tuple[int, int, int]) -> None:
        self.umat, self.dtype, self.shape = umat, np.dtype(dtype), shape


class OpenCLBackend(Backend):
    """OpenCV's transparent API on an OpenCL device (see the module's notes on what
    really runs there)."""

    name = "opencl"
    label = "OpenCL"

    def __init__(self) -> None:
        super().__init__()
        if not cv2.ocl.haveOpenCL():
            raise BackendError("OpenCV finds no OpenCL runtime on this machine")
        cv2.ocl.setUseOpenCL(True)
        device = cv2.ocl.Device.getDefault()
        if not cv2.ocl.useOpenCL() or not device.available() or not device.name():
            raise BackendError(
                "OpenCV has no usable OpenCL device (a CPU device such as POCL is used only "
                "with OPENCV_OPENCL_DEVICE=':CPU:')"
            )
        self._device = device

    def info(self) -> BackendInfo:
        d = self._device
        gpu = bool(d.type() & cv2.ocl.Device_TYPE_GPU)
        name = f"{d.vendorName()} {d.name()}".strip()
        return BackendInfo("opencl", "OpenCL", name, d.OpenCLVersion() + ("" if gpu else " (a CPU device)"),
                           int(d.globalMemSize()) or None, gpu)

    def refusal(self, method_id: str, shape: tuple[int, int, int], dtype: np.dtype,
                out_size: tuple[int, int], params: dict[str, Any]) -> str | None:
        reason = super().refusal(method_id, shape, dtype, out_size, params)
        if reason:
            return reason
        if max(out_size) >= _REMAP_LIMIT:
            return f"OpenCL resampling takes outputs under {_REMAP_LIMIT} pixels a side"
        if method_id == "area" and (out_size[0] < shape[0] or out_size[1] < shape[1]):
            return "OpenCL runs area for upscaling only"
        return None

    # -- data -------------------------------------------------------------------------
    def put(self, image: np.ndarray) -> DeviceImage:
        array = np.ascontiguousarray(image)
        self.traffic.add(to_device=array.nbytes)
        return DeviceImage(cv2.UMat(array), array.dtype, array.shape)

    def get(self, handle: DeviceImage) -> np.ndarray:
        array = handle.umat.get()
        self.traffic.add(from_device=array.nbytes)
        return array.reshape(handle.shape)

    def _vector(self, values: np.ndarray, channels: int, column: bool) -> cv2.UMat:
        """Upload a float32 vector as a ``(n, 1)`` or ``(1, n)`` UMat with ``channels``."""
        array = np.ascontiguousarray(np.repeat(values.astype(np.float32)[:, None], channels, axis=1))
        array = array[:, None, :] if column else array[None, :, :]
        self.traffic.add(to_device=array.nbytes)
        return cv2.UMat(array if channels > 1 else array[:, :, 0])

    def _plane(self, values: np.ndarray, size: tuple[int, int], column: bool, channels: int = 1) -> cv2.UMat:
        """A ``size`` plane whose rows (``column``: columns) all equal ``values``: only the
        vector is uploaded, the device repeats it (an exact nearest upscale from 1 pixel)."""
        vector = self._vector(values, channels, column)
        return cv2.resize(vector, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)

    # -- resampling (the kernels of `OPENCL_KERNELS`) ---------------------------------------
    def _wrapped(self, umat: cv2.UMat, like: DeviceImage, out_size: tuple[int, int]) -> DeviceImage:
        return DeviceImage(umat, like.dtype, (out_size[0], out_size[1], like.shape[2]))

    def _gather(self, umat: cv2.UMat, rows: np.ndarray, cols: np.ndarray, out_size: tuple[int, int]) -> cv2.UMat:
        """``image[rows][:, cols]`` by a nearest remap with exact integer maps."""
        map_x = self._plane(cols, out_size, column=False)
        map_y = self._plane(rows, out_size, column=True)
        return cv2.remap(umat, map_x, map_y, cv2.INTER_NEAREST)

    def _two_taps(self, handle: DeviceImage, rows: Taps, cols: Taps, out_size: tuple[int, int]) -> cv2.UMat:
        """Separable two-tap resampling: ``sum w_row[a] w_col[b] image[row[a], col[b]]``
        in float32, as four gathers and weighted sums, cast back on the device."""
        source = self._as_float(handle)
        c = handle.shape[2]
        terms = []
        for a in range(2):
            weight_y = self._plane(rows[1][:, a], out_size, column=True, channels=c)
            for b in range(2):
                weight_x = self._plane(cols[1][:, b], out_size, column=False, channels=c)
                term = cv2.multiply(self._gather(source, rows[0][:, a], cols[0][:, b], out_size), weight_y)
                terms.append(cv2.multiply(term, weight_x))
        total = terms[0]
        for term in terms[1:]:
            total = cv2.add(total, term)
        return self._cast(total, handle.dtype)

    def _transposed_conv(self, handle: DeviceImage, size: tuple[int, int], params: dict[str, Any]) -> DeviceImage:
        from core.methods.neural import transposed_conv_plan

        h, w, c = handle.shape
        plan = transposed_conv_plan((h, w), size, **params)
        (sy, sx), (py, px) = plan.strides, plan.padding
        kh, kw = plan.kernel.shape
        source = self._as_float(handle)
        spread = cv2.resize(source, (w * sx, h * sy), interpolation=cv2.INTER_NEAREST)
        # Keep only the first pixel of every s x s block: the zero-inserted image.
        keep_rows = (np.arange(h * sy) % sy == 0).astype(np.float32)
        keep_cols = (np.arange(w * sx) % sx == 0).astype(np.float32)
        zeros_between = cv2.multiply(
            cv2.multiply(spread, self._plane(keep_rows, (h * sy, w * sx), column=True, channels=c)),
            self._plane(keep_cols, (h * sy, w * sx), column=False, channels=c),
        )
        padded = cv2.copyMakeBorder(zeros_between, kh - 1, kh - 1, kw - 1, kw - 1, cv2.BORDER_CONSTANT, value=0)
        flipped = np.ascontiguousarray(plan.kernel[::-1, ::-1], dtype=np.float32)
        full = cv2.filter2D(padded, -1, flipped, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
        oh, ow = plan.out_size
        out = cv2.UMat(full, (py, py + oh), (px, px + ow))
        return self._wrapped(self._cast(out, handle.dtype), handle, plan.out_size)

    def _as_float(self, handle: DeviceImage, depth: int = cv2.CV_32F) -> cv2.UMat:
        """``handle`` as float32 (or ``depth``, CV_64F) on the device."""
        if handle.dtype == np.float32 and depth == cv2.CV_32F:
            return handle.umat
        return cv2.multiply(handle.umat, (1.0, 1.0, 1.0, 1.0), dtype=depth)

    @staticmethod
    def _cast(umat: cv2.UMat, dtype: np.dtype) -> cv2.UMat:
        """float32 to ``dtype``: rounded to nearest and saturated (OpenCV's saturate_cast)."""
        if dtype == np.float32:
            return umat
        return cv2.multiply(umat, (1.0, 1.0, 1.0, 1.0), dtype=_CV_DEPTH[dtype])

    # -- metrics and differences --------------------------------------------------------
    def _measured(self, handle: DeviceImage, convention: Convention, shave: int) -> tuple[cv2.UMat, float, int, int]:
        """What the metrics see: ``(umat, peak, height, width)``; the paper convention's
        luma in [0, 1] with the border shaved, computed on the device in float64 (a device
        without float64 raises `BackendError`: the CPU measures it)."""
        h, w, c = handle.shape
        if convention == "all":
            return handle.umat, data_range(handle.dtype), h, w
        peak = data_range(handle.dtype)
        if not cv2.ocl.Device.getDefault().doubleFPConfig():
            raise BackendError("this OpenCL device has no float64 arithmetic, which the paper convention's luma needs")
        planes = cv2.split(self._as_float(handle, cv2.CV_64F))
        if c >= 3:
            luma = cv2.addWeighted(planes[0], LUMA_WEIGHTS[0] / peak, planes[1], LUMA_WEIGHTS[1] / peak, LUMA_OFFSET)
            luma = cv2.addWeighted(luma, 1.0, planes[2], LUMA_WEIGHTS[2] / peak, 0.0)
        else:
            luma = cv2.multiply(planes[0], 1.0 / peak)
        if shave:
            if 2 * shave >= min(h, w):
                raise ParameterError(f"cannot shave {shave} pixels from each side of a {w}x{h} image")
            luma = cv2.UMat(luma, (shave, h - shave), (shave, w - shave))
        return luma, 1.0, h - 2 * shave, w - 2 * shave

    def metrics(self, reference: DeviceImage, test: DeviceImage, *, convention: Convention = "all", shave: int = 0) -> Metrics:
        check_convention(convention)
        shave = shave if convention == "paper" else 0
        ref, peak, h, w = self._measured(reference, convention, shave)
        tst = self._measured(test, convention, shave)[0]
        channels = reference.shape[2] if convention == "all" else 1
        depth = cv2.CV_64F if convention == "paper" else cv2.CV_32F
        count = h * w * channels
        # OpenCV's two-image norms fail to bind their OpenCL buffers (seen with POCL: an
        # error is logged and the CPU runs them), so the reductions take one image each.
        gap = cv2.absdiff(tst, ref)
        absolute = sum(cv2.sumElems(gap)[:channels])
        squared = sum(cv2.sumElems(cv2.multiply(gap, gap, dtype=depth))[:channels])
        largest = cv2.norm(gap, cv2.NORM_INF)
        error = squared / count
        structural = self._ssim(ref, tst, peak, channels, h, w, depth)
        self.traffic.add(steps=1)
        return Metrics(
            mse=error,
            mae=absolute / count,
            max_abs=largest,
            psnr=math.inf if error == 0 else 10.0 * math.log10(peak * peak / error),
            ssim=structural,
            convention=convention,
            shave=shave,
        )

    def _ssim(self, ref: cv2.UMat, tst: cv2.UMat, peak: float, channels: int, h: int, w: int,
              depth: int) -> float | None:
        """`core.ssim` on the device: each image centred on its own channel means, the map
        as luminance times structure in ``depth`` (float32, or float64 for the paper
        convention), at most 1. A map that overflowed float32 raises `BackendError`, so
        the CPU measures it in float64."""
        window = 2 * SSIM_RADIUS + 1
        if h < window or w < window:
            return None

        def centred(image: cv2.UMat) -> tuple[cv2.UMat, tuple[float, ...]]:
            means = tuple(total / (h * w) for total in cv2.sumElems(image))
            # OpenCV 5.1's stubs type every cv2.multiply as returning an array; given UMats
            # it returns a UMat.
            unit = cast(cv2.UMat, cv2.multiply(cv2.subtract(image, means, dtype=depth), (1.0 / peak,) * 4))
            return unit, tuple(mean / peak for mean in means)

        def blur(a: cv2.UMat) -> cv2.UMat:
            return cv2.GaussianBlur(a, (window, window), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

        (x, centre_x), (y, centre_y) = centred(ref), centred(tst)
        mu_x, mu_y = blur(x), blur(y)
        var_x = cv2.subtract(blur(cv2.multiply(x, x)), cv2.multiply(mu_x, mu_x))
        var_y = cv2.subtract(blur(cv2.multiply(y, y)), cv2.multiply(mu_y, mu_y))
        cov = cv2.subtract(blur(cv2.multiply(x, y)), cv2.multiply(mu_x, mu_y))
        mu_x, mu_y = cv2.add(mu_x, centre_x), cv2.add(mu_y, centre_y)
        c1, c2 = SSIM_K1**2, SSIM_K2**2
        luminance = cv2.divide(
            cv2.add(cv2.multiply(cv2.multiply(mu_x, mu_y), (2.0,) * 4), (c1,) * 4),
            cv2.add(cv2.add(cv2.multiply(mu_x, mu_x), cv2.multiply(mu_y, mu_y)), (c1,) * 4),
        )
        structure = cv2.divide(
            cv2.add(cv2.multiply(cov, (2.0,) * 4), (c2,) * 4),
            cv2.add(cv2.add(var_x, var_y), (c2,) * 4),
        )
        ssim_map = cv2.multiply(luminance, structure)
        r = SSIM_RADIUS
        inner = cv2.UMat(ssim_map, (r, h - r), (r, w - r))
        value = sum(cv2.sumElems(inner)[:channels]) / ((h - 2 * r) * (w - 2 * r) * channels)
        if not math.isfinite(value):
            raise BackendError("SSIM overflowed float32 on the device")
        return min(value, 1.0)

    def difference(self, reference: DeviceImage, test: DeviceImage, *, kind: DiffKind, per_channel: bool) -> np.ndarray:
        check_diff_kind(kind)
        signed = cv2.subtract(test.umat, reference.umat, dtype=cv2.CV_32F)
        if kind == "abs":
            result = cv2.absdiff(signed, (0.0,) * 4)
        elif kind == "squared":
            result = cv2.multiply(signed, signed)
        else:
            result = signed
        h, w, c = test.shape
        if not per_channel and c > 1:
            planes = cv2.split(result)
            total = planes[0]
            for plane in planes[1:]:
                total = cv2.add(total, plane)
            result, c = cv2.multiply(total, 1.0 / len(planes)), 1
        array = result.get()
        self.traffic.add(from_device=array.nbytes, steps=1)
        array = array.reshape(h, w, c)
        return array if per_channel else array[:, :, 0]


def _two(taps: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Area tap tables as exactly two taps (an upscale overlaps at most two pixels)."""
    index, weight = taps
    if index.shape[1] < 2:
        return np.concatenate([index, index], axis=1), np.concatenate([weight, np.zeros_like(weight)], axis=1)
    if np.any(weight[:, 2:] != 0):
        raise BackendError("area covers more than two pixels per output: a downscale")
    return index[:, :2], weight[:, :2]


# -- the kernel table: what runs on the device, one entry per method ----------------------------


def _nearest_kernel(index: Callable[[int, int], np.ndarray]) -> Kernel:
    """A nearest-neighbour gather by an exact index mapping (``nearest_index`` or
    ``nearest_exact_index``)."""

    def kernel(backend: OpenCLBackend, handle: DeviceImage, out_size: tuple[int, int], params: dict[str, Any]) -> DeviceImage:
        h, w, _ = handle.shape
        umat = backend._gather(handle.umat, index(h, out_size[0]), index(w, out_size[1]), out_size)
        return backend._wrapped(umat, handle, out_size)

    return kernel


def _bilinear(backend: OpenCLBackend, handle: DeviceImage, out_size: tuple[int, int], params: dict[str, Any]) -> DeviceImage:
    h, w, _ = handle.shape
    if max(h, w) <= _LINEAR_KERNEL_UP_TO[handle.dtype]:
        umat = cv2.resize(handle.umat, (out_size[1], out_size[0]), interpolation=cv2.INTER_LINEAR)
    else:
        rows = linear_taps(half_pixel_coords(h, out_size[0]), h)
        cols = linear_taps(half_pixel_coords(w, out_size[1]), w)
        umat = backend._two_taps(handle, rows, cols, out_size)
    return backend._wrapped(umat, handle, out_size)


def _bilinear_aligned(
    backend: OpenCLBackend, handle: DeviceImage, out_size: tuple[int, int], params: dict[str, Any]
) -> DeviceImage:
    h, w, _ = handle.shape
    rows = linear_taps(aligned_coords(h, out_size[0]), h)
    cols = linear_taps(aligned_coords(w, out_size[1]), w)
    return backend._wrapped(backend._two_taps(handle, rows, cols, out_size), handle, out_size)


def _area(backend: OpenCLBackend, handle: DeviceImage, out_size: tuple[int, int], params: dict[str, Any]) -> DeviceImage:
    h, w, _ = handle.shape
    if out_size[0] % h == 0 and out_size[1] % w == 0:
        # At whole-number upscales each output pixel lies inside one input pixel.
        return _nearest_kernel(nearest_index)(backend, handle, out_size, params)
    umat = backend._two_taps(handle, _two(area_taps(h, out_size[0])), _two(area_taps(w, out_size[1])), out_size)
    return backend._wrapped(umat, handle, out_size)


def _transposed_conv(
    backend: OpenCLBackend, handle: DeviceImage, out_size: tuple[int, int], params: dict[str, Any]
) -> DeviceImage:
    return backend._transposed_conv(handle, out_size, params)


OPENCL_KERNELS: dict[str, Kernel] = {
    "nearest": _nearest_kernel(nearest_index),
    "repeat": _nearest_kernel(nearest_index),
    "avg-unpool": _nearest_kernel(nearest_index),
    "nearest-exact": _nearest_kernel(nearest_exact_index),
    "bilinear": _bilinear,
    "bilinear-aligned": _bilinear_aligned,
    "area": _area,
    "transposed-conv": _transposed_conv,
}
#: The methods this backend runs (read without making a backend).
OPENCL_METHODS = frozenset(OPENCL_KERNELS)
OpenCLBackend.kernels = OPENCL_KERNELS
