"""`upsample`: the one entry point that runs any registered method."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._arrays import ScaleArg, SizeArg, as_hwc, like_input, resolve_size
from ._errors import ParameterError, UnsupportedScaleError
from ._registry import get_method


def upsample(
    image: np.ndarray,
    method: str,
    scale: ScaleArg = None,
    size: SizeArg = None,
    **params: Any,
) -> np.ndarray:
    """Upsample ``image`` with the registered method ``method``.

    Parameters
    ----------
    image:
        ``(H, W)`` or ``(H, W, C)`` with 1 to 4 channels; ``uint8``, ``uint16`` or
        ``float32``. Every channel (alpha too) is processed on its own.
    method:
        A method id from `list_methods` (``"bilinear"``, ``"transposed-conv"``, ...).
    scale:
        A positive number, or a ``(scale_y, scale_x)`` pair. The output size is
        ``floor(in * scale + 0.5)`` per axis.
    size:
        Instead of ``scale``: the output ``(height, width)``.
    **params:
        The method's parameters (see ``MethodSpec.params``), e.g. ``a=-0.5`` for bicubic.

    Returns
    -------
    numpy.ndarray
        Same dtype and channel layout as ``image``. Integer results are rounded and clipped
        to the dtype's range; float32 results are not clipped. The size is the requested
        one, except for ``transposed-conv`` with explicit kernel size or padding, whose
        output is ``(in - 1) * s - 2p + k + output_padding`` as in PyTorch.

    Raises
    ------
    ParameterError
        Unknown method or parameter, bad image, bad scale or size, output too large.
    UnsupportedScaleError
        The method cannot take this scale (a pooling method at x2.5).
    """
    spec = get_method(method)
    hwc = as_hwc(image)
    out_size, factors = resolve_size(hwc.shape[:2], scale, size)
    if size is None:
        reason = spec.refusal(factors)
        if reason:
            raise UnsupportedScaleError(reason)
    else:
        spec.check_size(hwc.shape[:2], out_size)
    resolved = spec.resolve_params(params)
    try:
        result = spec.function(hwc, out_size, **resolved)
    except MemoryError:
        raise ParameterError(
            f"{method}: not enough memory for a {out_size[0]}x{out_size[1]} result"
        ) from None
    return like_input(result, image)
