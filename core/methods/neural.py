"""The upsampling layers of neural networks: repeat, unpooling, transposed convolution.

They take whole-number scales only; the registry refuses others before these run, so
``size`` is always a multiple of the input size here (for transposed convolution it fixes
the stride; the output size then follows from the kernel and padding).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from core.common.arrays import cast_float, check_output_size
from core.common.cancel import check_cancelled
from core.common.errors import ParameterError
from core.methods.classic import bilinear
from core.methods.explain import AxisRule, PixelTaps, Tap, one_tap, repeat_formula, separable
from core.methods.registry import Param, register_method
from core.methods.taps import resize_nearest


def _factors(image: np.ndarray, size: tuple[int, int]) -> tuple[int, int]:
    return size[0] // image.shape[0], size[1] // image.shape[1]


#: Repeat and average unpooling along one axis: output ``o`` copies input ``o // s``.
REPEAT_AXIS = AxisRule(lambda n, m: one_tap(np.arange(m) // (m // n)),
                       lambda n, m: (np.arange(m) + 0.5) / (m // n) - 0.5, repeat_formula)


@register_method(
    "repeat",
    label="Repeat (UpSampling2D)",
    family="neural",
    scales="integer",
    description="Each pixel repeated s times along each axis (Keras UpSampling2D, 'unsampling'); "
    "equals nearest at whole-number scales.",
    also_called=("UpSampling2D", "unsampling", "pixel replication", "np.repeat"),
    reference="np.repeat",
    explain=separable(REPEAT_AXIS),
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
    explain=separable(REPEAT_AXIS),
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
    explain=lambda in_size, size, y, x, params: _explain_max_unpool(in_size, size, y, x, **params),
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


def _explain_max_unpool(
    in_size: tuple[int, int], size: tuple[int, int], y: int, x: int, *,
    indices: np.ndarray | None, output_size: tuple[int, int] | None,
) -> PixelTaps:
    """Which input value max unpooling puts at ``(y, x)``: with recorded positions, the
    one whose position is this pixel (per channel; the last written when several are);
    as a bed of nails, the value of window ``(y // s, x // s)`` at its top-left corner."""
    h, w = in_size
    sy, sx = size[0] // h, size[1] // w
    out_h, out_w = output_size if output_size is not None else (h * sy, w * sx)
    window = f"this pixel lies in window ({y // sy}, {x // sx}) of {sy}x{sx} output pixels"
    if indices is None:
        corner = y % sy == 0 and x % sx == 0 and y // sy < h and x // sx < w
        taps = (Tap(y // sy, x // sx, 1.0),) if corner else ()
        note = ("bed of nails: each input value goes to its window's top-left corner, the other "
                f"{sy * sx - 1} pixels stay 0; " + ("this is the corner" if corner else "this pixel is not a corner, so 0"))
        return PixelTaps(taps, (None, None), (window,), (note,))
    flat = y * out_w + x
    index = np.asarray(indices)
    per_channel = index.ndim == 3 and index.shape[2] > 1
    planes = [index[:, :, c] for c in range(index.shape[2])] if per_channel else [index.reshape(h, w)]
    found = []
    for channel, plane in enumerate(planes):
        rows, cols = np.nonzero(plane == flat)
        if rows.size:  # NumPy's assignment writes in order: the last one stays
            found.append(Tap(int(rows[-1]), int(cols[-1]), 1.0, channel if per_channel else None))
    text = (f"max pooling recorded position {flat} (row {y}, column {x} of the {out_w}-pixel-wide output) for "
            + (", ".join(f"input ({t.y}, {t.x})" + ("" if t.channel is None else f" in channel {t.channel}") for t in found)
               if found else "no input value"))
    note = "each value goes back to where its window's maximum was; every other pixel is 0"
    return PixelTaps(tuple(found), (None, None), (window, text), (note,))


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
    explain=lambda in_size, size, y, x, params: explain_transposed_conv(
        transposed_conv_plan(in_size, size, **params, check_size=False), in_size, y, x),
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
    h, w = image.shape[:2]
    whole = plan.out_size == (h * plan.strides[0], w * plan.strides[1])
    if whole and _is_default_kernel(plan, _fcn_bilinear_1d):
        return _fcn_bilinear(image, plan.strides)
    if whole and _is_default_kernel(plan, np.ones):
        return resize_nearest(image, plan.out_size, cv2.INTER_NEAREST)  # a box of s taps repeats each pixel
    return conv_transpose2d(image, plan.kernel, plan.strides, plan.padding, plan.out_size, dtype=image.dtype)


def explain_transposed_conv(plan: TransposedConvPlan, in_size: tuple[int, int], y: int, x: int) -> PixelTaps:
    """Which input pixels times which kernel taps make output ``(y, x)`` of a transposed
    convolution: per axis, input ``i`` meets tap ``t`` where ``i * s + t = o + p``. Taps
    whose input would lie outside the image meet zeros: listed, with the share of the
    kernel they take away (why the border darkens)."""
    axes = []
    for name, o, n, s, p, k in (("y", y, in_size[0], plan.strides[0], plan.padding[0], plan.kernel.shape[0]),
                                ("x", x, in_size[1], plan.strides[1], plan.padding[1], plan.kernel.shape[1])):
        meets = [((o + p - t) // s, t) for t in range(k) if (o + p - t) % s == 0]
        axes.append((name, o, n, s, p, k, meets))
    (_, _, h, *_, rows), (_, _, w, *_, cols) = axes
    taps, missing = [], 0.0
    for iy, ty in rows:
        for ix, tx in cols:
            weight = float(plan.kernel[ty, tx])
            if 0 <= iy < h and 0 <= ix < w:
                taps.append(Tap(iy, ix, weight, kernel=(ty, tx)))
            else:
                missing += weight
    formulas = []
    for name, o, _n, s, p, _k, meets in axes:
        pairs = ", ".join(f"input {i} × tap {t}" for i, t in meets) or "none"
        formulas.append(f"along {name}: input i meets kernel tap t where i * {s} + t = {o} + {p} (output + padding): "
                        f"{pairs}")
    zeros = plan.strides[0] - 1
    frame = plan.kernel.shape[0] - 1 - plan.padding[0]
    formulas.append(f"the same as the input with {zeros} {'zero' if zeros == 1 else 'zeros'} between pixels, framed "
                    f"by {frame} {'zero' if frame == 1 else 'zeros'}, correlated with the flipped kernel")
    notes = []
    outside = [f"{name} {i}" for name, _o, n, *_rest, meets in axes for i, _t in meets if not 0 <= i < n]
    if outside:
        reached = sum(t.weight for t in taps)
        notes.append(f"taps fall outside the image ({', '.join(outside)}): they meet zeros, so the weights "
                     f"that reach it sum to {reached:.6g} instead of {reached + missing:.6g} and the border darkens")
    for name, _o, _n, s, _p, k, _m in axes:
        if k % s:
            counts = sorted({len(range(phase, k, s)) for phase in range(s)})
            notes.append(f"a kernel of {k} taps at stride {s} gives outputs {' or '.join(map(str, counts))} taps along "
                         f"{name}: uneven overlap, the cause of the checkerboard")
    sources = tuple((o + p - (k - 1) / 2) / s for _name, o, _n, s, p, k, _m in axes)
    return PixelTaps(tuple(taps), (sources[0], sources[1]), tuple(formulas), tuple(notes))


#: The largest input `transposed_conv_matrix` writes out (its matrix has one row per input
#: pixel and one column per output pixel).
MATRIX_INPUT_LIMIT = 8


def transposed_conv_matrix(
    in_size: tuple[int, int], size: tuple[int, int], **params: Any
) -> tuple[np.ndarray, TransposedConvPlan]:
    """The matrix ``C`` of the convolution that a transposed convolution transposes, and
    the plan: ``C`` is ``(H*W, h*w)`` float64, ``C[i, o]`` the kernel tap that joins input
    pixel ``i`` and output pixel ``o`` (both flattened row by row), so the transposed
    convolution of ``x`` is ``(C.T @ x.ravel()).reshape(h, w)`` and ``C @ z`` is the strided
    convolution of an ``(h, w)`` image (docs/METHODS.md#transposed-conv). ``params`` are
    transposed-conv's (kernel, kernel_size, padding, output_padding); inputs of up to
    `MATRIX_INPUT_LIMIT` pixels a side."""
    if max(in_size) > MATRIX_INPUT_LIMIT or min(in_size) < 1:
        raise ParameterError(f"the matrix is written out for inputs of 1 to {MATRIX_INPUT_LIMIT} pixels a side; "
                             f"got {in_size[1]}x{in_size[0]}")
    defaults = {"kernel": "bilinear", "kernel_size": None, "padding": None, "output_padding": None}
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ParameterError(f"transposed-conv: unknown parameter {', '.join(map(repr, unknown))}")
    plan = transposed_conv_plan(in_size, size, **{**defaults, **params})
    h, w = in_size
    matrix = np.zeros((h * w, plan.out_size[0] * plan.out_size[1]))
    for oy in range(plan.out_size[0]):
        for ox in range(plan.out_size[1]):
            for tap in explain_transposed_conv(plan, in_size, oy, ox).taps:
                matrix[tap.y * w + tap.x, oy * plan.out_size[1] + ox] += tap.weight
    return matrix, plan


def zero_inserted(image: np.ndarray, plan: TransposedConvPlan) -> np.ndarray:
    """The input as a transposed convolution sees it in its textbook form: ``s - 1``
    zeros between pixels, framed by ``k - 1 - p`` zeros (``output_padding`` more at the
    bottom and right), so that correlating it with the kernel flipped in both axes, at
    stride 1, gives the transposed convolution (docs/METHODS.md#transposed-conv).
    ``(H, W)`` float64 in, ``(h + k - 1, w + k - 1)`` float64 out (``h, w`` the output
    size); a padding larger than ``k - 1`` crops instead of framing."""
    h, w = image.shape[:2]
    (sy, sx), (ky, kx) = plan.strides, plan.kernel.shape
    spread = np.zeros(((h - 1) * sy + 1, (w - 1) * sx + 1))
    spread[::sy, ::sx] = image
    frame = [ky - 1 - plan.padding[0], kx - 1 - plan.padding[1]]
    out_h, out_w = plan.out_size
    big = np.zeros((spread.shape[0] + 2 * max(frame[0], 0) + sy, spread.shape[1] + 2 * max(frame[1], 0) + sx))
    top, left = max(frame[0], 0), max(frame[1], 0)
    big[top:top + spread.shape[0], left:left + spread.shape[1]] = spread
    first_y, first_x = top - frame[0], left - frame[1]
    return big[first_y:first_y + out_h + ky - 1, first_x:first_x + out_w + kx - 1]


def _fcn_bilinear(image: np.ndarray, strides: tuple[int, int]) -> np.ndarray:
    """Transposed convolution with the FCN kernel at its own padding, which is bilinear
    interpolation of the image framed by one pixel of zeros (docs/METHODS.md#transposed-conv).

    Inside, that is `bilinear` of the image itself. Only the ``s // 2`` outputs at each end
    of an axis reach past the edge, where the frame's zeros are mixed in and `bilinear`
    clamps instead; they are taken from `bilinear` of three-pixel strips of the framed
    image (the same sums: the weights depend only on the scale)."""
    h, w = image.shape[:2]
    sy, sx = strides
    out = bilinear(image, (h * sy, w * sx))
    framed = cv2.copyMakeBorder(image, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0).reshape(h + 2, w + 2, -1)
    by, bx = sy // 2, sx // 2
    if by:
        top = bilinear(framed[:3], (3 * sy, (w + 2) * sx))
        out[:by] = top[sy : sy + by, sx : sx + w * sx]
        bottom = bilinear(framed[-3:], (3 * sy, (w + 2) * sx))
        first = 2 * sy - by  # output h*sy - by, counted from the strip's first row (h - 2)
        out[h * sy - by :] = bottom[first : first + by, sx : sx + w * sx]
    if bx:
        left = bilinear(framed[:, :3], ((h + 2) * sy, 3 * sx))
        out[:, :bx] = left[sy : sy + h * sy, sx : sx + bx]
        right = bilinear(framed[:, -3:], ((h + 2) * sy, 3 * sx))
        first = 2 * sx - bx
        out[:, w * sx - bx :] = right[sy : sy + h * sy, first : first + bx]
    return out


def _is_default_kernel(plan: TransposedConvPlan, taps: Callable[[int], np.ndarray]) -> bool:
    """Whether ``plan`` is the kernel ``outer(taps(k), taps(k))`` with the default size
    and padding of that kind (FCN bilinear: ``k = 2s - s % 2``; box: ``k = s``, unit taps)."""
    for axis, stride in enumerate(plan.strides):
        k = 2 * stride - stride % 2 if taps is _fcn_bilinear_1d else stride
        if plan.kernel.shape[axis] != k or plan.padding[axis] != max(0, math.ceil((k - stride) / 2)):
            return False
    return bool(np.array_equal(plan.kernel, np.outer(taps(plan.kernel.shape[0]), taps(plan.kernel.shape[1]))))


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
    """Depthwise transposed convolution of an ``(H, W, C)`` array (uint8, uint16 or
    float32), returned in ``dtype`` (an integer dtype is rounded half to even and clipped).

    ``out[t] = sum over y, i with y*s + i = t + p of image[y] * kernel[i]`` per axis, which
    is ``torch.nn.functional.conv_transpose2d`` with the same kernel on every channel. It is
    computed in polyphase form, with no zeros inserted: the outputs of one phase
    ``(t + p) mod s`` see only the taps ``kernel[phase::s]``, so each phase is one small
    ordinary convolution of the input (``cv2.filter2D``), and the phases are interleaved.
    A separable kernel (``outer(ky, kx)``, as the bilinear and box kernels are) runs as two
    1-D passes, columns then rows: the same arithmetic as a separable resize.
    """
    factors = _separable_factors(kernel)
    if factors is not None:
        ky, kx = factors
        across = _transpose_axis(image, kx, strides[1], padding[1], out_size[1], axis=1, dtype=np.float32)
        return _transpose_axis(across, ky, strides[0], padding[0], out_size[0], axis=0, dtype=dtype)
    image = image.astype(np.float32, copy=False)
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


def _separable_factors(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(ky, kx)`` with ``outer(ky, kx) == kernel`` to within float64 rounding, or None
    when the kernel is not separable. The row through the largest tap is ``kx`` as it
    stands, so kernels made as an outer product (bilinear, box) keep their exact taps."""
    if kernel.ndim != 2 or not np.all(np.isfinite(kernel)) or not kernel.any():
        return None
    row, column = np.unravel_index(np.argmax(np.abs(kernel)), kernel.shape)
    kx = kernel[row]
    ky = kernel[:, column] / kernel[row, column]
    if not np.allclose(np.outer(ky, kx), kernel, rtol=0.0, atol=1e-12 * np.abs(kernel).max()):
        return None
    return ky, kx


def _transpose_axis(
    image: np.ndarray, taps: np.ndarray, stride: int, pad: int, size: int, *, axis: int, dtype: np.dtype | type
) -> np.ndarray:
    """1-D transposed convolution of ``(H, W, C)`` ``image`` along ``axis`` (0: rows, 1:
    columns) with ``taps``: ``size`` outputs, ``out[t] = sum over y*stride + i = t + pad
    of image[y] * taps[i]``, in ``dtype`` (integers rounded half to even, clipped).

    Output ``t`` belongs to phase ``(t + pad) mod stride`` and is the weighted sum of a few
    input samples, ``taps[phase + j*stride]`` times ``image[(t + pad) // stride - j]``; so
    each phase is a sum of shifted views of the input, zero-padded once, run by OpenCV's
    weighted sums. The phases are then interleaved: whole rows for ``axis=0``,
    channel-interleaved columns for ``axis=1`` (``cv2.merge`` of the phases is exactly the
    interleaved row, written contiguously)."""
    n = image.shape[axis]
    count = -(-size // stride)  # outputs of the longest phase
    phases = []  # per output offset t0 < stride: its taps and where its first input sits
    for t0 in range(stride):
        sub = taps[(t0 + pad) % stride :: stride]
        phases.append((sub, (t0 + pad) // stride))
    longest = max(len(sub) for sub, _ in phases)
    before = max([0] + [len(sub) - 1 - first for sub, first in phases])
    after = max([0] + [first + count - n for _, first in phases])
    source = image
    if longest > 2 and source.dtype != np.float32:
        source = source.astype(np.float32)  # OpenCV's sums of more than two need one dtype
    if before or after:
        top, bottom, left, right = (before, after, 0, 0) if axis == 0 else (0, 0, before, after)
        framed = cv2.copyMakeBorder(source, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
        source = _as_hwc(framed, image.shape[2])
    pieces = []
    for sub, first in phases:
        check_cancelled()
        pieces.append(_weighted_views(source, sub, first + before, count, axis, np.dtype(dtype)))
    if axis == 0:
        out = np.empty((count * stride, *image.shape[1:]), dtype=dtype)
        for t0, piece in enumerate(pieces):
            out[t0::stride] = piece
        return out[:size]
    h, c = image.shape[0], image.shape[2]
    merged = cv2.merge(pieces) if stride > 1 else pieces[0]
    return merged.reshape(h, count * stride, c)[:, :size]


def _weighted_views(
    source: np.ndarray, sub: np.ndarray, first: int, count: int, axis: int, dtype: np.dtype
) -> np.ndarray:
    """``sum_j sub[j] * source[first - j + k]`` for ``k < count`` along ``axis``, in
    ``dtype``: an ``(H, count, C)`` or ``(count, W, C)`` array. Sums are float32; an
    integer ``dtype`` is rounded half to even and saturated once, at the end."""
    shape = list(source.shape)
    shape[axis] = count
    if sub.size == 0:
        return np.zeros(shape, dtype=dtype)

    def view(j: int) -> np.ndarray:
        index: list[slice] = [slice(None)] * 3
        index[axis] = slice(first - j, first - j + count)
        return source[tuple(index)]

    depth = _CV_DEPTHS.get(dtype, cv2.CV_32F) if sub.size <= 2 else cv2.CV_32F
    if sub.size == 1:
        result = cv2.addWeighted(view(0), float(sub[0]), view(0), 0.0, 0.0, dtype=depth)
    else:
        result = cv2.addWeighted(view(0), float(sub[0]), view(1), float(sub[1]), 0.0, dtype=depth)
        for j in range(2, sub.size):
            result = cv2.scaleAdd(view(j), float(sub[j]), result)
    result = _as_hwc(result, source.shape[2])
    return result if result.dtype == dtype else cast_float(result, dtype)


#: OpenCV depths a weighted sum can write directly (rounded half to even, saturated).
_CV_DEPTHS = {np.dtype(np.uint8): cv2.CV_8U, np.dtype(np.uint16): cv2.CV_16U, np.dtype(np.float32): cv2.CV_32F}


def _as_hwc(array: np.ndarray, channels: int) -> np.ndarray:
    """OpenCV returns one channel as ``(H, W)``; Upscope keeps ``(H, W, C)``."""
    return array if array.ndim == 3 else array.reshape(*array.shape[:2], channels)


def _full_convolution(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'Full' 2-D convolution (zero outside), size ``(H + kh - 1, W + kw - 1, C)``."""
    kh, kw = kernel.shape
    padded = cv2.copyMakeBorder(image, kh - 1, kh - 1, kw - 1, kw - 1, cv2.BORDER_CONSTANT, value=0)
    flipped = np.ascontiguousarray(kernel[::-1, ::-1], dtype=np.float32)
    result = cv2.filter2D(padded, -1, flipped, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    if result.ndim == 2:
        result = result[:, :, None]
    return result[: image.shape[0] + kh - 1, : image.shape[1] + kw - 1]
