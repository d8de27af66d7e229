"""The ``torch`` backend: PyTorch on CUDA, Apple's MPS or the CPU (optional extra).

PyTorch's operators are the very semantics ML engineers get inside their networks, so
every method PyTorch has runs here: ``nearest``, ``nearest-exact`` (as exact index
gathers: PyTorch's own nearest modes land one pixel off on some exact ties), ``bilinear``,
``bilinear-aligned``, ``bicubic`` (a = -0.75, PyTorch's only cubic), ``repeat``,
``avg-unpool``, ``max-unpool``, ``transposed-conv``; the pooling downsamplers; differences
and every metric. An image crosses to the device once in its own dtype (uint16 travels as
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
from core.common.colour import LUMA_OFFSET, LUMA_WEIGHTS
from core.common.errors import ParameterError
from core.common.vocabulary import (
    Convention,
    DiffKind,
    check_convention,
    check_diff_kind,
)
from core.methods.taps import nearest_exact_index, nearest_index
from core.metrics.measures import SSIM_K1, SSIM_K2, SSIM_RADIUS, SSIM_SIGMA, Metrics

TORCH_DOWNSAMPLERS = frozenset({"avg-pool", "max-pool"})


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
        if device is None:
            if torch.cuda.is_available():
                device = "cuda"
            elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                device = "mps"
            else:
                device = "cpu"
        self.device = torch.device(device)
        # MPS has no float64: reductions there accumulate in float32.
        self._accumulate = torch.float32 if self.device.type == "mps" else torch.float64

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

    def refusal(self, method_id: str, shape: tuple[int, int, int], dtype: np.dtype,
                out_size: tuple[int, int], params: dict[str, Any]) -> str | None:
        reason = super().refusal(method_id, shape, dtype, out_size, params)
        if reason:
            return reason
        if method_id == "bicubic" and params.get("a", -0.75) != -0.75:
            return "PyTorch's bicubic has a = -0.75 only"
        return None

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)
        elif self.device.type == "mps":
            self.torch.mps.synchronize()

    # -- data -------------------------------------------------------------------------
    def put(self, image: np.ndarray) -> TensorImage:
        torch = self.torch
        array = np.ascontiguousarray(image)
        # Ship the image in its own dtype; uint16 goes as int16 bits and is widened there.
        wire = array.view(np.int16) if array.dtype == np.uint16 else array
        tensor = torch.from_numpy(wire).to(self.device)
        self.traffic.add(to_device=array.nbytes)
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
        tensor = self.torch.from_numpy(np.ascontiguousarray(values, dtype=np.int64)).to(self.device)
        self.traffic.add(to_device=values.size * 8)
        return tensor

    def _max_unpool(self, handle: TensorImage, size: tuple[int, int], params: dict[str, Any]) -> Any:
        torch = self.torch
        _, c, h, w = handle.values.shape
        sy, sx = size[0] // h, size[1] // w
        out_h, out_w = params.get("output_size") or (h * sy, w * sx)
        indices = handle.indices
        if indices is None and params.get("indices") is not None:
            array = np.asarray(params["indices"])
            array = np.broadcast_to(array if array.ndim == 3 else array[:, :, None], (h, w, c))
            indices = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))[None]).to(self.device)
            self.traffic.add(to_device=indices.numel() * 8)
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
        weight = torch.from_numpy(plan.kernel.astype(np.float32)).to(self.device)
        self.traffic.add(to_device=weight.numel() * 4)
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


def _interpolate_kernel(mode: str, align_corners: bool) -> Kernel:
    """``F.interpolate`` in ``mode`` (float32 on the device, rounded like the CPU)."""

    def kernel(backend: TorchBackend, handle: TensorImage, out_size: tuple[int, int], params: dict[str, Any]) -> TensorImage:
        functional = backend.torch.nn.functional
        out = functional.interpolate(handle.values, size=out_size, mode=mode, align_corners=align_corners)
        return backend._result(out, handle)

    return kernel


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
    "bilinear": _interpolate_kernel("bilinear", False),
    "bilinear-aligned": _interpolate_kernel("bilinear", True),
    "bicubic": _interpolate_kernel("bicubic", False),
    "max-unpool": _max_unpool,
    "transposed-conv": _transposed_conv,
}
#: The methods this backend runs (read without making a backend or importing PyTorch).
TORCH_METHODS = frozenset(TORCH_KERNELS)
TorchBackend.kernels = TORCH_KERNELS
