"""The library-convention lab: one named method as each library computes it
(docs/METHODS.md#conventions).

Each method's id is ``LIBRARY:NAME``. OpenCV, PyTorch, Pillow and scikit-image run their
own code (PyTorch and scikit-image when installed: a method of a missing library says
what to install); TensorFlow's and MATLAB's conventions are written out from their
documented definitions, cited with each. Where a library computes in floating point, its
result is rounded half to even and clipped to the image's dtype as every Upscope method's
is, except where the convention itself rounds another way (MATLAB: half away from zero).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from PIL import Image

from core.common.errors import ParameterError
from core.methods.registry import register_method
from core.methods.taps import Taps, apply_taps, keys_cubic, linear_taps

LIBRARIES = {"opencv": "OpenCV", "torch": "PyTorch", "pillow": "Pillow", "skimage": "scikit-image",
             "tf": "TensorFlow", "matlab": "MATLAB"}


#: The module each library's own code comes from, where it may be missing.
_MODULES = {"torch": ("torch",), "skimage": ("skimage",)}


def _register(library: str, name: str, label: str, description: str, reference: str,
              also_called: tuple[str, ...] = ()) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    return register_method(
        f"{library}:{name}",
        label=f"{LIBRARIES[library]} {label}",
        family="library",
        description=description,
        also_called=also_called or (f"{LIBRARIES[library]} {name}",),
        reference=reference,
        requires=_MODULES.get(library, ()),
    )


# OpenCV ------------------------------------------------------------------------------------


def _opencv(image: np.ndarray, size: tuple[int, int], flag: int) -> np.ndarray:
    """``cv2.resize`` itself, in the image's dtype (OpenCV's own rounding)."""
    out = cv2.resize(image, (size[1], size[0]), interpolation=flag)
    return out.reshape(size[0], size[1], image.shape[2])


@_register("opencv", "nearest", "INTER_NEAREST", "cv2.resize(INTER_NEAREST): src = floor(dst * in/out), "
           "computed by OpenCV in fixed point (off by one on very long axes).", "cv2.resize(interpolation=INTER_NEAREST)")
def opencv_nearest(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _opencv(image, size, cv2.INTER_NEAREST)


@_register("opencv", "nearest-exact", "INTER_NEAREST_EXACT", "cv2.resize(INTER_NEAREST_EXACT): nearest by "
           "pixel centres, as Pillow and PyTorch's nearest-exact.", "cv2.resize(interpolation=INTER_NEAREST_EXACT)")
def opencv_nearest_exact(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _opencv(image, size, cv2.INTER_NEAREST_EXACT)


@_register("opencv", "linear", "INTER_LINEAR", "cv2.resize(INTER_LINEAR): half-pixel bilinear; 8-bit images "
           "in 11-bit fixed-point weights.", "cv2.resize(interpolation=INTER_LINEAR)")
def opencv_linear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _opencv(image, size, cv2.INTER_LINEAR)


@_register("opencv", "cubic", "INTER_CUBIC", "cv2.resize(INTER_CUBIC): Keys cubic with a = -0.75, half-pixel "
           "centres, edge pixels replicated.", "cv2.resize(interpolation=INTER_CUBIC)")
def opencv_cubic(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _opencv(image, size, cv2.INTER_CUBIC)


@_register("opencv", "area", "INTER_AREA", "cv2.resize(INTER_AREA): pixel-area averaging, boundaries found in "
           "floating point; two-tap weights, not areas, when one axis grows while the other shrinks.",
           "cv2.resize(interpolation=INTER_AREA)")
def opencv_area(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _opencv(image, size, cv2.INTER_AREA)


@_register("opencv", "lanczos4", "INTER_LANCZOS4", "cv2.resize(INTER_LANCZOS4): 8x8 windowed sinc.",
           "cv2.resize(interpolation=INTER_LANCZOS4)")
def opencv_lanczos4(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _opencv(image, size, cv2.INTER_LANCZOS4)


# PyTorch -----------------------------------------------------------------------------------


def _torch(image: np.ndarray, size: tuple[int, int], mode: str, **options: Any) -> np.ndarray:
    """``torch.nn.functional.interpolate`` of the image as float32 NCHW on the CPU;
    float32 ``(h, w, C)`` (the caller rounds to the dtype)."""
    try:
        import torch
        import torch.nn.functional as functional
    except ImportError:
        raise ParameterError('this convention needs PyTorch, which is not installed; install it: '
                             'python3 -m pip install -e ".[torch]"') from None
    tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    with torch.no_grad():
        out = functional.interpolate(tensor, size=size, mode=mode, **options)
    return out[0].permute(1, 2, 0).contiguous().numpy()


@_register("torch", "nearest", "nearest", "F.interpolate(mode='nearest'): src = floor(dst * in/out), the "
           "legacy mapping (not centred).", "torch.nn.functional.interpolate(mode='nearest')")
def torch_nearest(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _torch(image, size, "nearest")


@_register("torch", "nearest-exact", "nearest-exact", "F.interpolate(mode='nearest-exact'): nearest by pixel "
           "centres.", "torch.nn.functional.interpolate(mode='nearest-exact')")
def torch_nearest_exact(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _torch(image, size, "nearest-exact")


@_register("torch", "bilinear", "bilinear", "F.interpolate(mode='bilinear', align_corners=False): half-pixel "
           "centres.", "torch.nn.functional.interpolate(mode='bilinear', align_corners=False)")
def torch_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _torch(image, size, "bilinear", align_corners=False)


@_register("torch", "bilinear-aligned", "bilinear (align_corners)", "F.interpolate(mode='bilinear', "
           "align_corners=True): corner pixels aligned, src = dst * (in-1)/(out-1).",
           "torch.nn.functional.interpolate(mode='bilinear', align_corners=True)")
def torch_bilinear_aligned(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _torch(image, size, "bilinear", align_corners=True)


@_register("torch", "bicubic", "bicubic", "F.interpolate(mode='bicubic', align_corners=False): Keys a = -0.75, "
           "half-pixel centres, overshoot not clipped before rounding.",
           "torch.nn.functional.interpolate(mode='bicubic', align_corners=False)")
def torch_bicubic(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _torch(image, size, "bicubic", align_corners=False)


@_register("torch", "bicubic-aa", "bicubic (antialias)", "F.interpolate(mode='bicubic', antialias=True): "
           "Pillow's bicubic (a = -0.5) with its kernel stretched when shrinking; when enlarging its "
           "a = -0.5 still differs from the plain bicubic.",
           "torch.nn.functional.interpolate(mode='bicubic', antialias=True, align_corners=False)")
def torch_bicubic_aa(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _torch(image, size, "bicubic", align_corners=False, antialias=True)


# Pillow ------------------------------------------------------------------------------------


_PILLOW_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _pillow(image: np.ndarray, size: tuple[int, int], resample: Image.Resampling) -> np.ndarray:
    """``PIL.Image.resize`` itself: 8-bit images in their own mode (Pillow rounds), other
    dtypes one channel at a time as 32-bit float images ("F"; the caller rounds)."""
    h, w, c = image.shape
    if image.dtype == np.uint8:
        picture = Image.fromarray(image[:, :, 0] if c == 1 else image, mode=_PILLOW_MODES[c])
        out = np.asarray(picture.resize((size[1], size[0]), resample=resample))
        return out.reshape(size[0], size[1], c)
    planes = []
    for channel in range(c):
        plane = Image.fromarray(np.ascontiguousarray(image[:, :, channel], dtype=np.float32), mode="F")
        planes.append(np.asarray(plane.resize((size[1], size[0]), resample=resample)))
    return np.stack(planes, axis=2)


@_register("pillow", "nearest", "NEAREST", "Image.resize(NEAREST): nearest by pixel centres.",
           "PIL.Image.resize(resample=Image.NEAREST)")
def pillow_nearest(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _pillow(image, size, Image.Resampling.NEAREST)


@_register("pillow", "bilinear", "BILINEAR", "Image.resize(BILINEAR): a triangle filter stretched when shrinking "
           "(antialiased), plain half-pixel bilinear when enlarging; taps beyond the edge dropped and "
           "the rest renormalised.", "PIL.Image.resize(resample=Image.BILINEAR)")
def pillow_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _pillow(image, size, Image.Resampling.BILINEAR)


@_register("pillow", "bicubic", "BICUBIC", "Image.resize(BICUBIC): Keys a = -0.5 (Catmull-Rom), stretched when "
           "shrinking; taps beyond the edge dropped and the rest renormalised; 8-bit images rounded and clipped "
           "between the horizontal and vertical passes.", "PIL.Image.resize(resample=Image.BICUBIC)")
def pillow_bicubic(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _pillow(image, size, Image.Resampling.BICUBIC)


@_register("pillow", "lanczos", "LANCZOS", "Image.resize(LANCZOS): a 3-lobed Lanczos (6 taps), not OpenCV's "
           "4-lobed one.", "PIL.Image.resize(resample=Image.LANCZOS)")
def pillow_lanczos(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _pillow(image, size, Image.Resampling.LANCZOS)


@_register("pillow", "box", "BOX", "Image.resize(BOX): each output the mean of the input it covers (area).",
           "PIL.Image.resize(resample=Image.BOX)")
def pillow_box(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _pillow(image, size, Image.Resampling.BOX)


# scikit-image ------------------------------------------------------------------------------


def _skimage(image: np.ndarray, size: tuple[int, int], order: int) -> np.ndarray:
    """``skimage.transform.resize(order=order)`` with its defaults (mode 'reflect', no
    antialiasing when enlarging), values kept in the image's units; float64 out."""
    try:
        from skimage.transform import resize
    except ImportError:
        raise ParameterError('this convention needs scikit-image, which is not installed; install it: '
                             'python3 -m pip install scikit-image') from None
    out = resize(image.astype(np.float64), (size[0], size[1], image.shape[2]), order=order, preserve_range=True,
                 anti_aliasing=False)
    return out.astype(np.float32)


@_register("skimage", "order0", "order 0", "skimage.transform.resize(order=0): nearest neighbour by pixel "
           "centres.", "skimage.transform.resize(order=0)")
def skimage_order0(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _skimage(image, size, 0)


@_register("skimage", "order1", "order 1", "skimage.transform.resize(order=1): bilinear with half-pixel "
           "centres; beyond the edge the image is mirrored ('reflect').", "skimage.transform.resize(order=1)")
def skimage_order1(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _skimage(image, size, 1)


@_register("skimage", "order2", "order 2", "skimage.transform.resize(order=2): quadratic B-spline interpolation "
           "(SciPy's map_coordinates), which fits a spline through the pixels first.",
           "skimage.transform.resize(order=2)")
def skimage_order2(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _skimage(image, size, 2)


@_register("skimage", "order3", "order 3", "skimage.transform.resize(order=3): cubic B-spline interpolation, "
           "not Keys' cubic convolution: smoother, no overshoot parameter.", "skimage.transform.resize(order=3)")
def skimage_order3(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _skimage(image, size, 3)


# TensorFlow, written out ------------------------------------------------------------------
# TensorFlow's resize kernels (tensorflow/core/kernels/image/image_resizer_state.h and
# resize_bilinear_op.cc, resize_nearest_neighbor_op.cc): a "HalfPixelScaler" maps output x
# to (x + 0.5) * in/out - 0.5, the "LegacyScaler" of tf.compat.v1.image.resize_* (with
# half_pixel_centers=False, align_corners=False) to x * in/out. Bilinear reads
# floor(src) and min(floor(src) + 1, in - 1) with weight src - floor(src), floor(src)
# clamped at 0 (v2 clamps src at 0 first); legacy nearest reads min(floor(src), in - 1).


def _tf_bilinear_taps(coords: np.ndarray, n_in: int) -> Taps:
    return linear_taps(coords, n_in)


@_register("tf", "bilinear-half-pixel", "bilinear (half-pixel)", "tf.image.resize(method='bilinear'), TF2's "
           "default: half-pixel centres, src clamped at 0 (written out from TensorFlow's kernel).",
           "tf.image.resize(method='bilinear', antialias=False), resize_bilinear with half_pixel_centers=True")
def tf_bilinear_half_pixel(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    rows = _tf_bilinear_taps((np.arange(size[0]) + 0.5) * (image.shape[0] / size[0]) - 0.5, image.shape[0])
    cols = _tf_bilinear_taps((np.arange(size[1]) + 0.5) * (image.shape[1] / size[1]) - 0.5, image.shape[1])
    return apply_taps(image, rows, cols)


@_register("tf", "bilinear-legacy", "bilinear (legacy)", "tf.compat.v1.image.resize_bilinear with "
           "align_corners=False, half_pixel_centers=False: src = dst * in/out, each output pixel's top-left corner, "
           "so the image moves (s - 1)/2 output pixels toward the top left (half a pixel at x2; written out from "
           "TensorFlow's kernel).",
           "tf.compat.v1.image.resize_bilinear(align_corners=False, half_pixel_centers=False)")
def tf_bilinear_legacy(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    rows = _tf_bilinear_taps(np.arange(size[0]) * (image.shape[0] / size[0]), image.shape[0])
    cols = _tf_bilinear_taps(np.arange(size[1]) * (image.shape[1] / size[1]), image.shape[1])
    return apply_taps(image, rows, cols)


@_register("tf", "nearest-legacy", "nearest (legacy)", "tf.compat.v1.image.resize_nearest_neighbor with "
           "half_pixel_centers=False: src = min(floor(dst * in/out), in - 1) (written out from TensorFlow's "
           "kernel; float32 scale, exact for the sizes Upscope takes).",
           "tf.compat.v1.image.resize_nearest_neighbor(align_corners=False, half_pixel_centers=False)")
def tf_nearest_legacy(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    rows = np.minimum(np.floor(np.arange(size[0]) * (image.shape[0] / size[0])).astype(np.int64), image.shape[0] - 1)
    cols = np.minimum(np.floor(np.arange(size[1]) * (image.shape[1] / size[1])).astype(np.int64), image.shape[1] - 1)
    return image[rows][:, cols]


# MATLAB, written out ------------------------------------------------------------------------
# MATLAB's imresize (Image Processing Toolbox, imresize.m, "contributions"): output pixel x
# (1-based) maps to u = x / scale + 0.5 * (1 - 1 / scale); the kernel is Keys' cubic with
# a = -0.5, widened by 1/scale only when shrinking (antialiasing); input indices beyond the
# edge are mirrored with the edge pixel repeated (aux = [1:n, n:-1:1]); the weights of each
# output are normalised to sum to one; an integer result is rounded half away from zero.


def _matlab_taps(n_in: int, n_out: int) -> Taps:
    scale = n_out / n_in
    stretch = min(scale, 1.0)
    width = 4.0 / stretch
    x = np.arange(1, n_out + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(np.ceil(width)) + 2
    index = left[:, None] + np.arange(taps)[None, :]  # 1-based
    weight = stretch * keys_cubic(stretch * (u[:, None] - index), -0.5)
    weight /= weight.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(n_in), np.arange(n_in - 1, -1, -1)])
    return mirror[(index.astype(np.int64) - 1) % (2 * n_in)], weight


@_register("matlab", "bicubic", "bicubic (imresize)", "imresize(..., 'bicubic'): Keys a = -0.5, half-pixel "
           "centres, the image mirrored beyond its edge, antialiased when shrinking, rounded half away "
           "from zero (written out from imresize.m).", "MATLAB imresize(A, scale, 'bicubic')")
def matlab_bicubic(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    out = apply_taps(image, _matlab_taps(image.shape[0], size[0]), _matlab_taps(image.shape[1], size[1]), np.float64)
    if image.dtype.kind in "ui":
        info = np.iinfo(image.dtype)
        return np.clip(np.floor(np.abs(out) + 0.5) * np.sign(out), info.min, info.max).astype(image.dtype)
    return out.astype(np.float32)


# Why two conventions differ ------------------------------------------------------------------

_LEGACY_SHIFT = ("the legacy rule samples at dst * in/out, each output pixel's top-left corner, without the "
                 "half-pixel shift: its image moves (s - 1)/2 output pixels toward the top left (half a pixel at x2)")

#: The traps of docs/METHODS.md#conventions: a sentence for each pair of conventions known
#: to differ, keyed by the pair's names (without the library) in either order.
_TRAPS: dict[frozenset[str], str] = {
    frozenset({"nearest", "nearest-exact"}): (
        "floor(dst * in/out) samples at each output pixel's top-left corner, the centred rule at its centre, so "
        "the floor rule's image lies half an output pixel toward the bottom right; at non-integer scales they pick "
        "different neighbours"),
    frozenset({"nearest", "nearest-legacy"}): "both floor(dst * in/out): they differ only where a library's "
    "arithmetic (float32 scale, fixed point) rounds a tie the other way",
    frozenset({"area", "box"}): "both average the input each output pixel covers, but OpenCV's INTER_AREA finds "
    "the pixel boundaries in floating point and at fractional enlargements drops a source pixel now and then "
    "(and uses two-tap weights, not areas, when one axis grows while the other shrinks); Pillow's BOX "
    "averages the covered area",
    frozenset({"cubic", "bicubic"}): "both Keys cubic convolution with half-pixel centres; they differ where the "
    "parameter a differs (OpenCV and PyTorch -0.75, Pillow and MATLAB -0.5), at the border (edge pixels "
    "repeated, or taps dropped, or the image mirrored) and in 8-bit arithmetic (OpenCV's fixed-point weights, "
    "Pillow's rounding between passes)",
    frozenset({"linear", "bilinear"}): "both half-pixel bilinear; OpenCV's 8-bit path uses 11-bit fixed-point "
    "weights where the others compute in float: at most a level apart",
    frozenset({"lanczos4", "lanczos"}): "OpenCV's Lanczos has 4 lobes (8 taps), Pillow's 3 lobes (6 taps): "
    "Pillow rings less and is a little softer",
    frozenset({"bicubic", "bicubic-aa"}): "PyTorch's antialiased bicubic is Pillow's filter, a = -0.5, not -0.75: "
    "softer edges even when enlarging",
    frozenset({"bilinear", "bilinear-aligned"}): "align_corners=True maps corner to corner, src = dst (in-1)/(out-1); "
    "the half-pixel rule maps centre to centre: they agree at the centre and part toward every edge, by up to "
    "(1 - 1/s)/2 input pixels (0.375 at x4), a slight stretch",
    frozenset({"bilinear-half-pixel", "bilinear-legacy"}): _LEGACY_SHIFT,
    frozenset({"linear", "bilinear-legacy"}): _LEGACY_SHIFT,
    frozenset({"bilinear", "bilinear-legacy"}): _LEGACY_SHIFT,
    frozenset({"bicubic", "order3"}): "scikit-image's order 3 is a cubic B-spline fitted through the pixels, "
    "smoother and without overshoot; bicubic is Keys' cubic convolution",
    frozenset({"cubic", "order3"}): "scikit-image's order 3 is a cubic B-spline fitted through the pixels, "
    "smoother and without overshoot; OpenCV's cubic is Keys' cubic convolution",
}


def why_they_differ(first: str, second: str) -> str:
    """A sentence on why methods ``first`` and ``second`` (ids, ``LIBRARY:NAME`` or
    Upscope's) differ: the known trap between them when there is one, else what each
    does (their descriptions)."""
    from core.methods.registry import get_method

    a, b = get_method(first), get_method(second)
    names = frozenset({first.split(":")[-1], second.split(":")[-1]})
    trap = _TRAPS.get(names)
    if trap is not None and len(names) == 2:
        return f"{a.label} and {b.label}: {trap}."
    # One name, two rules (Pillow's NEAREST is centred, OpenCV's is not): each says its own.
    return f"{a.label}: {a.description} {b.label}: {b.description}"
