"""The upsampling layers of neural networks: repeat, unpooling, transposed convolution.

They take whole-number scales only; the registry refuses others before these run, so
``size`` is always a multiple of the input size here (for transposed convolution it fixes
the stride; the output size then follows from the kernel and padding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from core.common.arrays import cast_float, check_output_size
from core.common.cancel import check_cancelled
from core.common.errors import ParameterError
from core.methods.registry import Param, register_method
from core.methods.taps import resize_nearest


def _factors(image: np.ndarray, size: tuple[int, int]) -> tuple[int, int]:
    return size[0] // image.shape[0], size[1] // image.shape[1]


@register_method(
    "repeat",
    label="Repeat (UpSampling2D)",
    family="neural",
    scales="integer",
    description="Each pixel repeated s times along each axis (Keras UpSampling2D, 'unsampling'); "
    "equals nearest at whole-number scales.",
    also_called=("UpSampling2D", "unsampling", "pixel replication", "np.repeat"),
    reference="np.repeat",
)
def repeat(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Each pixel repeated ``s`` times along each axis, Keras ``UpSampling2D``
    (docs/METHODS.md#repeat). Same dtype."""
    # At whole-number scales nearest is exactly np.repeat, and OpenCV runs it 3-6x faster.
    return resize_nearest(image, size, cv2.INTER_NEAREST)


@register_method(
    "avg-unpool",
    label="Average unpooling",
    family="neural",
    scales="integer",
    description="Inverse of average pooling: each value fills its s x s window; the same pixels "
    "as 'repeat', named for the layer it undoes.",
    also_called=("average unpooling", "inverse average pooling"),
    reference="equals 'repeat'",
)
def avg_unpool(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The inverse of average pooling: each value fills its ``s x s`` window
    (docs/METHODS.md#avg-unpool); the same pixels as `repeat`. Same dtype."""
    return repeat(image, size)


@register_method(
    "max-unpool",
    label="Max unpooling",
    family="neural",
    scales="integer",
    description="Inverse of max pooling: each value returns to where its window's maximum was, "
    "zeros elsewhere (PyTorch max_unpool2d). Without recorded positions each value goes to its "
    "window's top-left corner ('bed of nails').",
    params=(
        Param("indices", "array", None, "flat positions (into the output's H*W plane) recorded by max pooling, "
              "shape (h, w) or (h, w, C); None for bed of nails", user=False),
        Param("output_size", "size", None, "(height, width) of the unpooled image; default s times the input",
              user=False),
    ),
    also_called=("max unpooling", "MaxUnpool2d", "bed of nails", "switch unpooling"),
    reference="torch max_pool2d(return_indices=True) then max_unpool2d",
    size_rule=lambda in_size, size, params: tuple(params["output_size"] or size),
)
def max_unpool(
    image: np.ndarray,
    size: tuple[int, int],
    *,
    indices: np.ndarray | None,
    output_size: tuple[int, int] | None,
) -> np.ndarray:
    """The inverse of max pooling: each value returns to the position its window's
    maximum had (``indices``, flat into the output plane), zeros elsewhere; without
    ``indices`` each value goes to its window's top-left corner ("bed of nails")
    (docs/METHODS.md#max-unpool). Same dtype; size ``output_size`` when given."""
    h, w, c = image.shape
    sy, sx = _factors(image, size)
    out_h, out_w = output_size if output_size is not None else (h * sy, w * sx)
    if out_h < 1 or out_w < 1:
        raise ParameterError(f"max-unpool: output_size must be positive, got {(out_h, out_w)}")
    check_output_size((out_h, out_w))
    out = np.zeros((out_h, out_w, c), dtype=image.dtype)
    if indices is None:
        if (h - 1) * sy >= out_h or (w - 1) * sx >= out_w:
            raise ParameterError(f"max-unpool: output_size {(out_h, out_w)} is too small for {w}x{h} at x{sy}")
        out[: h * sy : sy, : w * sx : sx] = image
        return out
    flat_index = _checked_indices(indices, (h, w, c), out_h * out_w)
    plane = out.reshape(out_h * out_w, c)
    for channel in range(c):  # a strided view per channel: no combined index to build
        plane[:, channel][flat_index[:, :, channel].ravel()] = image[:, :, channel].ravel()
    return out


def _checked_indices(indices: object, shape: tuple[int, int, int], plane: int) -> np.ndarray:
    array = np.asarray(indices)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.shape[:2] != shape[:2] or array.shape[2] not in (1, shape[2]):
        raise ParameterError(
            f"max-unpool: indices have shape {np.asarray(indices).shape}, "
            f"but the image is {shape[1]}x{shape[0]} with {shape[2]} channels"
        )
    if not np.issubdtype(array.dtype, np.integer):
        raise ParameterError(f"max-unpool: indices must be integers, got {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= plane):
        raise ParameterError(f"max-unpool: indices must lie in [0, {plane}), got [{array.min()}, {array.max()}]")
    return np.broadcast_to(array, shape)


KERNELS = ("bilinear", "box")


@register_method(
    "transposed-conv",
    label="Transposed convolution",
    family="neural",
    scales="integer",
    description="Transposed convolution (deconvolution, fractionally strided convolution), each "
    "channel on its own: zeros inserted between pixels, then a kernel. With the default FCN "
    "bilinear kernel it equals bilinear inside and darkens at the borders; kernels whose size "
    "is not a multiple of the stride give checkerboard artefacts.",
    params=(
        Param("kernel", "kernel", "bilinear", "'bilinear' (FCN), 'box', or a 2-D array of taps",
              choices=KERNELS),
        Param("kernel_size", "int", None, "taps per axis; default 2s - s%2 for bilinear, s for box",
              minimum=1, maximum=64),
        Param("padding", "int", None, "rows/columns cropped from each side; default ceil((k - s)/2)",
              minimum=0, maximum=64),
        Param("output_padding", "int", None, "extra rows/columns at the bottom/right (< s); "
              "default makes the output exactly s times the input when it can", minimum=0, maximum=63),
    ),
    also_called=("deconvolution", "fractionally strided convolution", "ConvTranspose2d", "Conv2DTranspose"),
    reference="torch conv_transpose2d(stride=s, padding=p, output_padding=op, groups=C)",
    size_rule=lambda in_size, size, params: transposed_conv_plan(in_size, size, **params, check_size=False).out_size,
)
def transposed_conv(
    image: np.ndarray,
    size: tuple[int, int],
    *,
    kernel: str | np.ndarray,
    kernel_size: int | None,
    padding: int | None,
    output_padding: int | None,
) -> np.ndarray:
    """Transposed convolution of each channel with one 2-D kernel
    (docs/METHODS.md#transposed-conv): ``(n - 1) s - 2p + k + output_padding`` per axis,
    computed in polyphase form. Float32 ``(h, w, C)``; the caller rounds to the
    input's dtype."""
    plan = transposed_conv_plan(image.shape[:2], size, kernel, kernel_size, padding, output_padding)
    return conv_transpose2d(image.astype(np.float32), plan.kernel, plan.strides, plan.padding, plan.out_size,
                            dtype=image.dtype)


@dataclass(frozen=True)
class TransposedConvPlan:
    """Everything a transposed convolution needs, fixed from the sizes and parameters:
    the 2-D ``kernel`` (float64), ``strides``, ``padding`` and ``output_padding`` per axis
    ``(y, x)``, and ``out_size = (n - 1) s - 2p + k + output_padding``. Every backend runs
    the same plan."""

    kernel: np.ndarray
    strides: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    out_size: tuple[int, int]


def transposed_conv_plan(
    in_size: tuple[int, int],
    size: tuple[int, int],
    kernel: str | np.ndarray,
    kernel_size: int | None,
    padding: int | None,
    output_padding: int | None,
    *,
    check_size: bool = True,
) -> TransposedConvPlan:
    """The `TransposedConvPlan` for an ``in_size`` input asked to reach ``size``; an
    output over ``core.limits.max_output_pixels`` raises `ParameterError` (unless
    ``check_size`` is False: a comparison checks every method's size itself, first)."""
    strides = (size[0] // in_size[0], size[1] // in_size[1])
    taps = transposed_conv_kernel(kernel, kernel_size, strides)
    pads, extras = [], []
    for stride, k in zip(strides, taps.shape):
        pad = max(0, math.ceil((k - stride) / 2)) if padding is None else padding
        if output_padding is None:
            needed = stride - k + 2 * pad  # makes (n-1)s - 2p + k + op equal to n*s
            extra = needed if 0 <= needed < stride else 0
        else:
            extra = output_padding
        if extra >= stride:
            raise ParameterError(f"transposed-conv: output_padding {extra} must be smaller than the stride {stride}")
        pads.append(pad)
        extras.append(extra)
    out_size = tuple(
        (n - 1) * s - 2 * p + k + op for n, s, p, k, op in zip(in_size, strides, pads, taps.shape, extras)
    )
    if min(out_size) < 1:
        raise ParameterError(
            f"transposed-conv: kernel {taps.shape[0]}x{taps.shape[1]} with padding {pads[0]} "
            f"gives an empty output for a {in_size[1]}x{in_size[0]} input"
        )
    if check_size:
        check_output_size(out_size)
    return TransposedConvPlan(taps, strides, (pads[0], pads[1]), (extras[0], extras[1]), (out_size[0], out_size[1]))


def transposed_conv_kernel(kernel: str | np.ndarray, kernel_size: int | None, strides: tuple[int, int]) -> np.ndarray:
    """The 2-D kernel ``(kh, kw)`` (float64) that `transposed_conv` applies."""
    if not isinstance(kernel, str):
        array = np.asarray(kernel, dtype=np.float64)
        if kernel_size is not None and array.shape != (kernel_size, kernel_size):
            raise ParameterError(
                f"transposed-conv: kernel_size {kernel_size} contradicts the given {array.shape[0]}x{array.shape[1]} kernel"
            )
        return array
    if kernel == "bilinear":
        sizes = [kernel_size or 2 * s - s % 2 for s in strides]
        return np.outer(_fcn_bilinear_1d(sizes[0]), _fcn_bilinear_1d(sizes[1]))
    sizes = [kernel_size or s for s in strides]
    # Each tap (s/k)^2 so a flat image stays flat where whole kernels overlap; 1 when k = s.
    return np.full(sizes, (strides[0] / sizes[0]) * (strides[1] / sizes[1]))


def _fcn_bilinear_1d(size: int) -> np.ndarray:
    """Bilinear taps of the FCN paper's upsampling layer (Long et al. 2015)."""
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    return 1 - np.abs(np.arange(size) - centre) / factor


def conv_transpose2d(
    image: np.ndarray,
    kernel: np.ndarray,
    strides: tuple[int, int],
    padding: tuple[int, int],
    out_size: tuple[int, int],
    dtype: np.dtype | type = np.float32,
) -> np.ndarray:
    """Depthwise transposed convolution of a float32 ``(H, W, C)`` array, returned in
    ``dtype`` (an integer dtype is rounded half to even and clipped, phase by phase, so
    no float32 copy of the whole output is ever made).

    ``out[t] = sum over y, i with y*s + i = t + p of image[y] * kernel[i]`` per axis, which
    is ``torch.nn.functional.conv_transpose2d`` with the same kernel on every channel. It is
    computed in polyphase form: the output rows of one phase ``(t + p) mod s`` see only the
    kernel taps ``kernel[phase::s]``, so each of the ``s*s`` phases is one small ordinary
    convolution of the input, run by ``cv2.filter2D``, then interleaved into the output.
    """
    h, w, c = image.shape
    (sy, sx), (py, px), (oh, ow) = strides, padding, out_size
    out = np.zeros((oh, ow, c), dtype=dtype)
    for phase_y in range(sy):
        sub_y = kernel[phase_y::sy]
        if sub_y.shape[0] == 0:
            continue
        t0y = (phase_y - py) % sy  # first output row of this phase
        q0y = (t0y + py) // sy  # its row in the phase's full convolution
        for phase_x in range(sx):
            sub = sub_y[:, phase_x::sx]
            if sub.shape[1] == 0:
                continue
            check_cancelled()
            t0x = (phase_x - px) % sx
            q0x = (t0x + px) // sx
            full = _full_convolution(image, sub)
            target = out[t0y::sy, t0x::sx]
            piece = full[q0y : q0y + target.shape[0], q0x : q0x + target.shape[1]]
            target[: piece.shape[0], : piece.shape[1]] = cast_float(piece, out.dtype)
    return out


def _full_convolution(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'Full' 2-D convolution (zero outside), size ``(H + kh - 1, W + kw - 1, C)``."""
    kh, kw = kernel.shape
    padded = cv2.copyMakeBorder(image, kh - 1, kh - 1, kw - 1, kw - 1, cv2.BORDER_CONSTANT, value=0)
    flipped = np.ascontiguousarray(kernel[::-1, ::-1], dtype=np.float32)
    result = cv2.filter2D(padded, -1, flipped, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    if result.ndim == 2:
        result = result[:, :, None]
    return result[: image.shape[0] + kh - 1, : image.shape[1] + kw - 1]
