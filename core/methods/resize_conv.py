"""Resize-convolution: nearest or bilinear upsampling followed by a convolution, the
alternative to transposed convolution that Odena, Dumoulin and Olah recommend
("Deconvolution and Checkerboard Artifacts", Distill 2016; docs/METHODS.md#resize-conv).

Every output pixel meets the whole kernel, so no output sees more taps than its
neighbour: no checkerboard, where a transposed convolution whose kernel size is not a
multiple of its stride makes one.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from core.common.errors import ParameterError
from core.methods.classic import LINEAR_AXIS, NEAREST_AXIS, bilinear, nearest
from core.methods.explain import PixelTaps, Tap
from core.methods.registry import Param, register_method

RESIZES = {"nearest": (nearest, NEAREST_AXIS), "bilinear": (bilinear, LINEAR_AXIS)}
BORDERS = {"edge": cv2.BORDER_REPLICATE, "zeros": cv2.BORDER_CONSTANT}


def resize_conv_kernel(kernel: str | np.ndarray, kernel_size: int) -> np.ndarray:
    """The 2-D taps (float64) of the convolution: 'box' is the mean of ``k x k`` pixels,
    'bilinear' the tent ``outer(t, t)`` with ``t[i] = k//2 + 1 - |i - k//2|``, both
    normalised to sum to one; an array is taken as given. Sides must be odd, so the
    kernel has a centre pixel and the result stays on the output grid."""
    if isinstance(kernel, str):
        if kernel_size % 2 == 0:
            raise ParameterError(f"resize-conv: kernel_size must be odd, so the kernel has a centre; got {kernel_size}")
        if kernel == "box":
            taps = np.ones((kernel_size, kernel_size))
        else:
            tent = kernel_size // 2 + 1 - np.abs(np.arange(kernel_size) - kernel_size // 2)
            taps = np.outer(tent, tent).astype(np.float64)
        return taps / taps.sum()
    array = np.asarray(kernel, dtype=np.float64)
    if array.shape[0] % 2 == 0 or array.shape[1] % 2 == 0:
        raise ParameterError(
            f"resize-conv: a kernel of odd sides keeps the result on the output grid; got {array.shape[0]}x{array.shape[1]}"
        )
    return array


def _explain(in_size: tuple[int, int], size: tuple[int, int], y: int, x: int, params: dict[str, Any]) -> PixelTaps:
    """Output ``(y, x)`` is ``sum K[a, b] * up[y + a - ry, x + b - rx]``; each ``up`` pixel
    is the resize's own weighted sum, so the taps are the kernel spread over those."""
    taps = resize_conv_kernel(params["kernel"], params["kernel_size"])
    rule = RESIZES[params["resize"]][1]
    ry, rx = taps.shape[0] // 2, taps.shape[1] // 2
    rows, cols = rule.taps(in_size[0], size[0]), rule.taps(in_size[1], size[1])
    weights: dict[tuple[int, int], float] = {}
    outside = 0
    for a in range(taps.shape[0]):
        for b in range(taps.shape[1]):
            py, px = y + a - ry, x + b - rx
            inside = 0 <= py < size[0] and 0 <= px < size[1]
            if not inside:
                outside += 1
                if params["border"] == "zeros":
                    continue
                py, px = min(max(py, 0), size[0] - 1), min(max(px, 0), size[1] - 1)
            for iy, wy in zip(rows[0][py].tolist(), rows[1][py].tolist()):
                for ix, wx in zip(cols[0][px].tolist(), cols[1][px].tolist()):
                    weights[(iy, ix)] = weights.get((iy, ix), 0.0) + taps[a, b] * wy * wx
    formulas = (
        f"out({y}, {x}) = sum over the {taps.shape[0]}x{taps.shape[1]} kernel of K[a, b] \u00d7 "
        f"{params['resize']}({y} + a - {ry}, {x} + b - {rx})",
        f"each {params['resize']} pixel is itself a weighted sum of input pixels (see '{params['resize']}')",
    )
    notes: tuple[str, ...] = ()
    if outside:
        held = "repeat the edge pixel" if params["border"] == "edge" else "read zeros, so the border darkens"
        notes = (f"{outside} kernel taps fall beyond the upsampled image and {held}",)
    taps_list = tuple(Tap(iy, ix, float(w)) for (iy, ix), w in weights.items() if w != 0.0)
    if rule.source is None:
        return PixelTaps(taps_list, (None, None), formulas, notes)
    source = (float(rule.source(in_size[0], size[0])[y]), float(rule.source(in_size[1], size[1])[x]))
    return PixelTaps(taps_list, source, formulas, notes)


@register_method(
    "resize-conv",
    label="Resize-convolution",
    family="neural",
    description="Nearest (or bilinear) upsampling, then a convolution with a small kernel: the fix "
    "for checkerboard artefacts that Odena et al. (Distill 2016) recommend over transposed "
    "convolution, since every output pixel meets the whole kernel.",
    params=(
        Param("resize", "choice", "nearest", "the upsampling before the convolution", choices=tuple(RESIZES)),
        Param("kernel", "kernel", "box", "'box' (mean), 'bilinear' (tent), or a 2-D array of odd sides "
              "(correlation, as PyTorch's Conv2d)", choices=("box", "bilinear")),
        Param("kernel_size", "int", 3, "taps per axis of 'box' and 'bilinear' (odd)", minimum=1, maximum=63, odd=True),
        Param("border", "choice", "edge", "beyond the edge the convolution reads the edge pixel ('edge') "
              "or zeros ('zeros', PyTorch's padding)", choices=tuple(BORDERS)),
    ),
    also_called=("resize-convolution", "upsample + conv", "nn.Upsample then nn.Conv2d"),
    reference="torch conv2d(pad(interpolate(x, mode), k // 2, 'replicate' or zeros), K, groups=C)",
    explain=_explain,
)
def resize_conv(
    image: np.ndarray, size: tuple[int, int], *, resize: str, kernel: str | np.ndarray, kernel_size: int, border: str,
) -> np.ndarray:
    """``resize`` to ``size`` in float32 (no rounding between the steps), then correlation
    with `resize_conv_kernel` centred on each pixel, the border by ``border``
    (docs/METHODS.md#resize-conv). Float32 ``(h, w, C)``; the caller rounds."""
    taps = resize_conv_kernel(kernel, kernel_size)
    up = RESIZES[resize][0](image.astype(np.float32, copy=False), size)
    result = cv2.filter2D(up, cv2.CV_32F, taps.astype(np.float32), borderType=BORDERS[border])
    return result.reshape(up.shape)
