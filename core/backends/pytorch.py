"""The ``torch`` backend: PyTorch on CUDA, Apple's MPS or the CPU (optional extra).

PyTorch's operators are the very semantics ML engineers get inside their networks, so
every method PyTorch has runs here: ``nearest``, ``nearest-exact`` (as exact index
gathers: PyTorch's own nearest modes land one pixel off on some exact ties), ``bilinear``,
``bilinear-aligned``, ``bicubic`` (any ``a``), ``repeat``, ``avg-unpool``, ``max-unpool``,
``transposed-conv``; the pooling downsamplers; differences and every metric.

``F.interpolate`` finds source coordinates in float32, so on long axes its weights drift
(bicubic on uint16 is 36 levels off at 8191 px; float32 drifts by up to 9e-4 of the range
at 10,000 px). The
interpolating methods therefore measure, once per size pair on the device itself, how far
its weights stray from the float64 definition (`TorchBackend._interpolate_weight_error`),
and use it only where that keeps the result well inside the tolerance for the image's
dtype: small and 8-bit images, mostly. Elsewhere their tap tables (indices and weights)
are computed on the host in float64 by the CPU's own functions (`core.methods.taps`) and
applied on the device as weighted gathers, one axis after the other, in bands of output
rows. An image crosses to the device once in its own dtype (uint16 travels as
int16 bits), is converted to float32 NCHW there, and each result comes back once in its
own dtype. A comparison enqueues all its methods before waiting (``batches``), so the
GPU is not idle between them; per-method times come from CUDA events.

PyTorch is imported only when this backend is asked for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from core.backends.base import Backend, BackendError, BackendInfo, Kernel
from core.common.arrays import data_range
from core.common.cancel import check_cancelled
from core.common.colour import LUMA_OFFSET, LUMA_WEIGHTS
from core.common.errors import ParameterError
from core.common.torch_device import preferred_torch_device
from core.common.vocabulary import (
    Convention,
    DiffKind,
    check_convention,
    check_diff_kind,
)
from core.methods.taps import (
    Taps,
    aligned_coords,
    cubic_taps,
    half_pixel_coords,
    linear_taps,
    nearest_exact_index,
    nearest_index,
)
from core.metrics.measures import SSIM_K1, SSIM_K2, SSIM_RADIUS, SSIM_SIGMA, Metrics

TORCH_DOWNSAMPLERS = frozenset({"avg-pool", "max-pool"})
#: The Keys parameter of PyTorch's own bicubic.
PYTORCH_CUBIC_A = -0.75
#: How far ``F.interpolate``'s float32 weights may take a result from the float64 one, as a
#: fraction of the data range, for it to be used: a quarter of docs/METHODS.md#tolerances
#: (1 LSB, 1e-4 of the range), the rest left to float32 sums and the CPU's own rounding.
_INTERPOLATE_BUDGET = {np.dtype(np.uint8): 0.25 / 255, np.dtype(np.uint16): 0.25 / 65535, np.dtype(np.float32): 0.25e-4}
#: Probe patterns: input pixel ``i`` lit in pattern ``i % 4``, so the four taps of a cubic
#: (two of a linear) land in different patterns and each weight shows on its own.
_PROBE_PHASES = 4
#: Output rows per band of a tap resample aim at this many bytes of float32, so its
#: temporaries on the device stay a few bands' worth beyond the result, however large.
DEVICE_BAND_BYTES = 32 * 2**20


class TensorImage:
    """An image on the device: float32 ``(1, C, H, W)`` values, the dtype it stands for,
    and (after max pooling) the recorded maxima as int64 ``(1, C, h, w)``."""

    __slots__ = ("values", "dtype", "indices")

    def __init__(self, values: Any, dtype: np.dtype, indices: Any = None) -> None:
        self.values, self.dtype, self.indices = values, np.dtype(dtype), indices

    @property
    def shape(self) -> tuple[int, int, int]:
        _, c, h, w = self.values.shape
        return h, w, c


class TorchBackend(Backend):
    name = "torch"
    label = "PyTorch"
    downsamplers = TORCH_DOWNSAMPLERS
    batches = True

    def __init__(self, device: str | None = None) -> None:
        super().__init__()
        try:
            import torch
        except ImportError:
            raise BackendError("PyTorch is not installed (pip install -e \".[torch]\")") from None
        self.torch = torch
        self.device = torch.device(device if device is not None else preferred_torch_device(torch))
        # MPS has no float64: reductions there accumulate in float32.
        self._accumulate = torch.float32 if self.device.type == "mps" else torch.float64
        self._weight_errors: dict[tuple[str, bool, int, int], float] = {}

    def info(self) -> BackendInfo:
        torch = self.torch
        if self.device.type == "cuda":
            props = torch.cuda.get_device_properties(self.device)
            return BackendInfo("torch", "PyTorch", props.name, f"PyTorch {torch.__version__}, CUDA {torch.version.cuda}",
                               int(props.total_memory), True)
        if self.device.type == "mps":
            return BackendInfo("torch", "PyTorch", "Apple GPU (MPS)", f"PyTorch {torch.__version__}, MPS", None, True)
        return BackendInfo("torch", "PyTorch", f"CPU ({torch.get_num_threads()} threads)",
                           f"PyTorch {torch.__version__}", None, False)

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)
        elif self.device.type == "mps":
            self.torch.mps.synchronize()

    # -- data -------------------------------------------------------------------------
    def _upload(self, array: np.ndarray) -> Any:
        """A host array on the device (counted in `traffic`). PyTorch cannot wrap a
        read-only array (a broadcast view, a caller's frozen image) without a warning
        that its tensor might be written, so such an array is copied first."""
        array = np.ascontiguousarray(array)
        if not array.flags.writeable:
            array = array.copy()
        self.traffic.add(to_device=array.nbytes)
        return self.torch.from_numpy(array).to(self.device)

    def put(self, image: np.ndarray) -> TensorImage:
        torch = self.torch
        array = np.ascontiguousarray(image)
        # Ship the image in its own dtype; uint16 goes as int16 bits and is widened there.
        tensor = self._upload(array.view(np.int16) if array.dtype == np.uint16 else array)
        if array.dtype == np.uint16:
            tensor = tensor.to(torch.int32) & 0xFFFF
        values = tensor.permute(2, 0, 1).unsqueeze(0).to(torch.float32)
        return TensorImage(values, array.dtype)

    def get(self, handle: TensorImage) -> np.ndarray:
        torch = self.torch
        values = handle.values[0].permute(1, 2, 0)
        if handle.dtype == np.uint8:
            values = values.to(torch.uint8)
        elif handle.dtype == np.uint16:
            values = values.to(torch.int32).to(torch.int16)  # the same 16 bits; viewed back below
        array = self._to_host(values.contiguous())
        return array.view(np.uint16) if handle.dtype == np.uint16 else array

    def _to_host(self, tensor: Any) -> np.ndarray:
        array = tensor.cpu().numpy()
        self.traffic.add(from_device=array.nbytes)
        return array

    def _rounded(self, values: Any, dtype: np.dtype) -> Any:
        """float32 values as the ``dtype`` stands for them: integers rounded half to even
        and clipped to the dtype's range (still float32 on the device), float32 as is."""
        if dtype == np.float32:
            return values
        top = 255.0 if dtype == np.uint8 else 65535.0
        return self.torch.round(values).clamp_(0.0, top)

    # -- resampling ---------------------------------------------------------------------
    def _result(self, values: Any, like: TensorImage) -> TensorImage:
        return TensorImage(self._rounded(values, like.dtype), like.dtype)

    def _indices(self, values: np.ndarray) -> Any:
        return self._upload(np.asarray(values, dtype=np.int64))

    def _apply_taps(self, handle: TensorImage, rows: Taps, cols: Taps) -> TensorImage:
        """Resample ``handle`` with per-axis tap tables (host ``(out, T)`` indices and
        float64 weights, `core.methods.taps`) into ``(h, w)``: one axis, then the other,
        each a weighted sum of ``T`` gathers in float32, rounded like the CPU.

        The weights travel as float32 (a relative error of 6e-8, 0.01 levels on uint16)
        and the sums of four terms stay within a few float32 roundings of the float64
        result, far inside 1 LSB of uint16; what float32 could not carry is the source
        coordinate itself, and that is computed on the host in float64. The work runs in
        bands of output rows (`DEVICE_BAND_BYTES`), each gathering only the source rows it
        needs and taking first the axis that leaves the smaller intermediate, so the device
        holds the result and a few bands' temporaries (no more than the input where both
        axes shrink a lot)."""
        x = handle.values
        _, c, _, width = x.shape
        row_index = rows[0]
        h, w = row_index.shape[0], cols[0].shape[0]
        row_taps, col_taps = self._tap_table(rows), self._tap_table(cols)
        band = max(1, DEVICE_BAND_BYTES // (w * c * 4))
        out = None if band >= h else self.torch.empty((1, c, h, w), dtype=self.torch.float32, device=self.device)
        for top in range(0, h, band):
            check_cancelled()
            bottom = min(top + band, h)
            index, weight = row_taps[0][:, top:bottom], row_taps[1][:, top:bottom]
            # Host indices: the band's source rows are known without waiting for the device.
            first, last = int(row_index[top:bottom].min()), int(row_index[top:bottom].max()) + 1
            if (bottom - top) * width < (last - first) * w:
                result = _weighted_gather(_weighted_gather(x, index, weight, dim=2), *col_taps, dim=3)
            else:
                result = _weighted_gather(_weighted_gather(x[:, :, first:last], *col_taps, dim=3), index - first, weight, dim=2)
            if out is None:  # one band: it is the result
                return TensorImage(self._rounded(result, handle.dtype), handle.dtype)
            out[:, :, top:bottom] = self._rounded(result, handle.dtype)
        return TensorImage(out, handle.dtype)

    def _interpolate_suffices(self, mode: str, align_corners: bool, in_size: tuple[int, int], rows: Taps, cols: Taps,
                              dtype: np.dtype) -> bool:
        """Whether ``F.interpolate`` in ``mode`` from ``in_size`` stays within
        `_INTERPOLATE_BUDGET` of the float64 definition ``rows`` x ``cols`` (host tap
        tables) for ``dtype``.

        A separable result moves by at most ``ey sx + sy ex + ey ex`` of the data range,
        ``e`` being the largest total weight error of an output pixel along an axis
        (measured) and ``s`` the largest sum of absolute weights (1 for linear, up to
        1.375 for the cubic)."""
        (ey, ex), (sy, sx) = (
            [self._interpolate_weight_error(mode, align_corners, n, taps) for n, taps in zip(in_size, (rows, cols))],
            [float(np.abs(taps[1]).sum(axis=1).max()) for taps in (rows, cols)],
        )
        return ey * sx + sy * ex + ey * ex <= _INTERPOLATE_BUDGET[np.dtype(dtype)]

    def _interpolate_weight_error(self, mode: str, align_corners: bool, n_in: int, taps: Taps) -> float:
        """The largest total error of ``F.interpolate``'s weights for one output pixel
        along an axis of ``n_in`` pixels, against its float64 tap table ``taps``, measured
        on this device.

        One call resizes `_PROBE_PHASES` one-hot patterns of the axis: each output of
        pattern ``k`` is the sum of the weights of its taps at ``i % 4 == k``, which the
        table gives exactly. It depends only on the sizes, so it is kept per size pair."""
        index, weight = taps
        n_out = index.shape[0]
        key = (mode, align_corners, n_in, n_out)
        if key not in self._weight_errors:
            phases = np.arange(_PROBE_PHASES)
            patterns = (np.arange(n_in)[None, :] % _PROBE_PHASES == phases[:, None]).astype(np.float32)
            probe = self._upload(patterns).view(1, _PROBE_PHASES, 1, n_in)
            got = self.torch.nn.functional.interpolate(probe, size=(1, n_out), mode=mode, align_corners=align_corners)
            measured = self._to_host(got[0, :, 0]).astype(np.float64)
            expected = np.stack([(weight * (index % _PROBE_PHASES == k)).sum(axis=1) for k in phases])
            self._weight_errors[key] = float(np.abs(measured - expected).sum(axis=0).max())
        return self._weight_errors[key]

    def _tap_table(self, taps: Taps) -> tuple[Any, Any]:
        """A tap table on the device, tap-major: int64 ``(T, out)`` indices and float32
        ``(T, out)`` weights (each tap's row contiguous for `_weighted_gather`)."""
        index, weight = taps
        return self._indices(index.T), self._upload(weight.T.astype(np.float32))

    def _max_unpool(self, handle: TensorImage, size: tuple[int, int], params: dict[str, Any]) -> Any:
        torch = self.torch
        _, c, h, w = handle.values.shape
        sy, sx = size[0] // h, size[1] // w
        out_h, out_w = params.get("output_size") or (h * sy, w * sx)
        indices = handle.indices
        if indices is None and params.get("indices") is not None:
            array = np.asarray(params["indices"])
            array = np.broadcast_to(array if array.ndim == 3 else array[:, :, None], (h, w, c))
            # A grey image's broadcast view is already contiguous, and read-only: `_upload` copies it.
            indices = self._indices(array.transpose(2, 0, 1)[None])
        if indices is None:  # bed of nails: each value at its window's top-left
            out = torch.zeros((1, c, out_h, out_w), dtype=torch.float32, device=self.device)
            if (h - 1) * sy >= out_h or (w - 1) * sx >= out_w:
                raise ParameterError(f"max-unpool: output_size {(out_h, out_w)} is too small for {w}x{h} at x{sy}")
            out[:, :, : h * sy : sy, : w * sx : sx] = handle.values
            return out
        return torch.nn.functional.max_unpool2d(handle.values, indices, kernel_size=(sy, sx), output_size=(out_h, out_w))

    def _transposed_conv(self, x: Any, size: tuple[int, int], params: dict[str, Any]) -> Any:
        from core.methods.neural import transposed_conv_plan

        torch = self.torch
        c = x.shape[1]
        plan = transposed_conv_plan(tuple(x.shape[2:]), size, **params)
        weight = self._upload(plan.kernel.astype(np.float32))
        weight = weight.expand(c, 1, *plan.kernel.shape).contiguous()
        return torch.nn.functional.conv_transpose2d(
            x, weight, stride=plan.strides, padding=plan.padding, output_padding=plan.output_padding, groups=c
        )

    def batch(self, handle: TensorImage, steps: list[tuple[str, tuple[int, int], dict[str, Any]]]) -> list[tuple[Any, float]]:
        """Enqueue every step, then wait once; CUDA times each step with events."""
        torch = self.torch
        timed = self.device.type == "cuda"
        results: list[tuple[Any, Any]] = []
        for method_id, out_size, params in steps:
            if timed:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
            else:
                start = time.perf_counter()
            try:
                out = self.resample(handle, method_id, out_size, params)
            except Exception as exc:
                out = exc
            if timed:
                end.record()
                results.append((out, (start, end)))
            else:
                self.synchronize()
                results.append((out, time.perf_counter() - start))
        self.synchronize()
        if timed:
            return [(out, start.elapsed_time(end) / 1000.0) for out, (start, end) in results]
        return results

    def downsample(
        self, handle: TensorImage, downsampler_id: str, factors: tuple[int, int]
    ) -> tuple[TensorImage, dict[str, Any]]:
        functional = self.torch.nn.functional
        _, c, h, w = handle.values.shape
        x = handle.values[:, :, : h // factors[0] * factors[0], : w // factors[1] * factors[1]]
        if downsampler_id == "avg-pool":
            out = TensorImage(self._rounded(functional.avg_pool2d(x, factors, factors), handle.dtype), handle.dtype)
            extras: dict[str, Any] = {}
        elif downsampler_id == "max-pool":
            low, indices = functional.max_pool2d(x, factors, factors, return_indices=True)
            # Pooling ran on the cropped image; positions are into its (H, W) plane.
            out = TensorImage(low, handle.dtype, indices)
            extras = {"indices": self._to_host(indices[0].permute(1, 2, 0).contiguous())}
        else:
            raise BackendError(f"PyTorch has no downsampler {downsampler_id}")
        self.traffic.add(steps=1)
        return out, extras

    # -- metrics and differences --------------------------------------------------------
    def _measured(self, handle: TensorImage, convention: Convention, shave: int) -> tuple[Any, float]:
        """``(values (1, C, H, W), peak)`` as the metrics see them: float32, or the paper
        convention's luma in float64 (float32 on MPS, which has no float64)."""
        peak = data_range(handle.dtype)
        if convention == "all":
            return handle.values, peak
        unit = handle.values.to(self._accumulate) / peak  # float64 but on MPS, as the paper convention asks
        if unit.shape[1] >= 3:
            weights = self.torch.tensor(LUMA_WEIGHTS, dtype=self._accumulate, device=self.device)
            luma = (unit[:, :3] * weights.view(1, 3, 1, 1)).sum(dim=1, keepdim=True) + LUMA_OFFSET
        else:
            luma = unit[:, :1]
        h, w = luma.shape[2:]
        if shave:
            if 2 * shave >= min(h, w):
                raise ParameterError(f"cannot shave {shave} pixels from each side of a {w}x{h} image")
            luma = luma[:, :, shave:-shave, shave:-shave]
        return luma, 1.0

    def metrics(self, reference: TensorImage, test: TensorImage, *, convention: Convention = "all", shave: int = 0) -> Metrics:
        check_convention(convention)
        torch = self.torch
        shave = shave if convention == "paper" else 0
        ref, peak = self._measured(reference, convention, shave)
        tst = self._measured(test, convention, shave)[0]
        signed = (tst - ref).to(self._accumulate)
        ssim = self._ssim(ref, tst, peak)
        numbers = torch.stack(
            [
                signed.square().mean(),
                signed.abs().mean(),
                signed.abs().max(),
                ssim if ssim is not None else torch.zeros((), dtype=self._accumulate, device=self.device),
            ]
        )
        error, absolute, largest, structural = self._to_host(numbers).tolist()
        if ssim is not None and not math.isfinite(structural):
            raise BackendError("SSIM overflowed float32 on the device")  # the CPU measures it in float64
        self.traffic.add(steps=1)
        return Metrics(
            mse=error,
            mae=absolute,
            max_abs=largest,
            psnr=math.inf if error == 0 else 10.0 * math.log10(peak * peak / error),
            ssim=min(structural, 1.0) if ssim is not None else None,
            convention=convention,
            shave=shave,
        )

    def _ssim(self, ref: Any, tst: Any, peak: float) -> Any:
        """`core.ssim` on the device: valid (unpadded) separable Gaussian convolutions give
        exactly the interior that `core.ssim` averages; each image centred on its own
        channel means, the map as luminance times structure."""
        torch = self.torch
        window = 2 * SSIM_RADIUS + 1
        _, c, h, w = ref.shape
        if h < window or w < window:
            return None
        taps = cv2.getGaussianKernel(window, SSIM_SIGMA)[:, 0]
        kernel = torch.from_numpy(taps).to(device=self.device, dtype=ref.dtype)
        rows = kernel.view(1, 1, window, 1).expand(c, 1, window, 1)
        cols = kernel.view(1, 1, 1, window).expand(c, 1, 1, window)

        def blur(a: Any) -> Any:
            return torch.nn.functional.conv2d(torch.nn.functional.conv2d(a, rows, groups=c), cols, groups=c)

        centre_x = ref.to(self._accumulate).mean(dim=(2, 3), keepdim=True).to(ref.dtype)
        centre_y = tst.to(self._accumulate).mean(dim=(2, 3), keepdim=True).to(tst.dtype)
        x, y = (ref - centre_x) / peak, (tst - centre_y) / peak
        mu_x, mu_y = blur(x), blur(y)
        var_x = blur(x * x) - mu_x * mu_x
        var_y = blur(y * y) - mu_y * mu_y
        cov = blur(x * y) - mu_x * mu_y
        mu_x, mu_y = mu_x + centre_x / peak, mu_y + centre_y / peak
        c1, c2 = SSIM_K1**2, SSIM_K2**2
        luminance = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
        ssim_map = luminance * ((2 * cov + c2) / (var_x + var_y + c2))
        return ssim_map.to(self._accumulate).mean()

    def difference(self, reference: TensorImage, test: TensorImage, *, kind: DiffKind, per_channel: bool) -> np.ndarray:
        check_diff_kind(kind)
        signed = self._measured(test, "all", 0)[0] - self._measured(reference, "all", 0)[0]
        result = signed if kind == "signed" else signed.abs() if kind == "abs" else signed.square()
        if per_channel:
            return self._to_host(result[0].permute(1, 2, 0).contiguous())
        return self._to_host(result[0].mean(dim=0))


# -- the kernel table: what runs on the device, one entry per method ----------------------------


def _nearest_kernel(index: Callable[[int, int], np.ndarray]) -> Kernel:
    """A gather by an exact index mapping. PyTorch's own nearest modes compute in/out in
    floating point and land one pixel low on some exact ties (docs/METHODS.md#measured);
    exact indices, gathered on the device, do not."""

    def kernel(backend: TorchBackend, handle: TensorImage, out_size: tuple[int, int], params: dict[str, Any]) -> TensorImage:
        x = handle.values
        rows = backend._indices(index(x.shape[2], out_size[0]))
        cols = backend._indices(index(x.shape[3], out_size[1]))
        return backend._result(x.index_select(2, rows).index_select(3, cols), handle)

    return kernel


def _weighted_gather(x: Any, index: Any, weight: Any, dim: int) -> Any:
    """``sum_t weight[t] * x.index_select(dim, index[t])`` for ``(T, n)`` device tables,
    the weights broadcast along ``dim`` (2: rows, 3: columns) of the ``(1, C, H, W)``
    float32 ``x``, summed in place in tap order."""
    if dim == 3:
        # Columns by advanced indexing: on PyTorch's CPU build index_select along the last
        # axis gathers element by element, two to three times slower.
        def pick(i: Any) -> Any:
            return x[..., i]
    else:
        def pick(i: Any) -> Any:
            return x.index_select(dim, i)
    shape = [1, 1, 1, 1]
    shape[dim] = -1
    out = pick(index[0]).mul_(weight[0].view(shape))
    for t in range(1, index.shape[0]):
        out.addcmul_(pick(index[t]), weight[t].view(shape))
    return out


def _interpolating_kernel(taps: Callable[[int, int, dict[str, Any]], Taps],
                          twin: Callable[[dict[str, Any]], tuple[str, bool] | None]) -> Kernel:
    """Separable resampling by the float64 tap tables ``taps(n_in, n_out, params)`` of
    each axis (the CPU's definitions). ``twin(params)`` names the ``F.interpolate`` mode
    and ``align_corners`` computing the same thing in float32 (None when there is none);
    it runs where it is measured to be within the tolerance, the taps elsewhere."""

    def kernel(backend: TorchBackend, handle: TensorImage, out_size: tuple[int, int], params: dict[str, Any]) -> TensorImage:
        _, _, h, w = handle.values.shape
        rows, cols = taps(h, out_size[0], params), taps(w, out_size[1], params)
        mode = twin(params)
        if mode is not None and backend._interpolate_suffices(*mode, (h, w), rows, cols, handle.dtype):
            out = backend.torch.nn.functional.interpolate(handle.values, size=out_size, mode=mode[0], align_corners=mode[1])
            return backend._result(out, handle)
        return backend._apply_taps(handle, rows, cols)

    return kernel


def _bilinear_taps(n_in: int, n_out: int, params: dict[str, Any]) -> Taps:
    return linear_taps(half_pixel_coords(n_in, n_out), n_in)


def _bilinear_aligned_taps(n_in: int, n_out: int, params: dict[str, Any]) -> Taps:
    return linear_taps(aligned_coords(n_in, n_out), n_in)


def _bicubic_taps(n_in: int, n_out: int, params: dict[str, Any]) -> Taps:
    return cubic_taps(half_pixel_coords(n_in, n_out), n_in, params["a"])


def _bicubic_twin(params: dict[str, Any]) -> tuple[str, bool] | None:
    return ("bicubic", False) if params["a"] == PYTORCH_CUBIC_A else None


def _max_unpool(backend: TorchBackend, handle: TensorImage, out_size: tuple[int, int], params: dict[str, Any]) -> TensorImage:
    return backend._result(backend._max_unpool(handle, out_size, params), handle)


def _transposed_conv(
    backend: TorchBackend, handle: TensorImage, out_size: tuple[int, int], params: dict[str, Any]
) -> TensorImage:
    return backend._result(backend._transposed_conv(handle.values, out_size, params), handle)


TORCH_KERNELS: dict[str, Kernel] = {
    "nearest": _nearest_kernel(nearest_index),
    "repeat": _nearest_kernel(nearest_index),
    "avg-unpool": _nearest_kernel(nearest_index),
    "nearest-exact": _nearest_kernel(nearest_exact_index),
    "bilinear": _interpolating_kernel(_bilinear_taps, lambda params: ("bilinear", False)),
    "bilinear-aligned": _interpolating_kernel(_bilinear_aligned_taps, lambda params: ("bilinear", True)),
    "bicubic": _interpolating_kernel(_bicubic_taps, _bicubic_twin),
    "max-unpool": _max_unpool,
    "transposed-conv": _transposed_conv,
}
#: The methods this backend runs (read without making a backend or importing PyTorch).
TORCH_METHODS = frozenset(TORCH_KERNELS)
TorchBackend.kernels = TORCH_KERNELS
