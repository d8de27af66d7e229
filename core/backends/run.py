"""`upsample`: the one entry point that runs any registered method."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.backends.base import Backend
from core.backends.choice import resolve_backend
from core.backends.cpu import cpu_backend
from core.backends.fallback import place
from core.common.arrays import ScaleArg, SizeArg, as_hwc, check_finite_result, like_input
from core.common.errors import ParameterError
from core.methods.registry import get_method


def upsample(
    image: np.ndarray,
    method: str,
    scale: ScaleArg = None,
    size: SizeArg = None,
    *,
    backend: str | Backend | None = None,
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
    backend:
        ``"cpu"``, ``"opencl"``, ``"torch"`` or ``"auto"``; None uses the session's
        backend (`core.set_backend`, the ``UPSCOPE_BACKEND`` variable, else automatic). A
        method the backend cannot run, or a failure on the device, runs on the CPU
        (logged; see `core.Comparison` for results that say where they ran).
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
    BackendError
        ``backend`` names a backend that cannot run on this machine.
    """
    spec = get_method(method)
    hwc = as_hwc(image)
    out_size = spec.output_size((hwc.shape[0], hwc.shape[1]), scale, size)
    resolved = spec.resolve_params(params)
    chosen = resolve_backend(backend)
    placed = place(
        chosen,
        spec.label,
        lambda device: device.get(device.resample(device.put(hwc), spec.id, out_size, resolved)),
        lambda: run_on_cpu(hwc, spec.id, out_size, resolved),
    )
    return like_input(check_finite_result(placed.value, hwc, spec.label), image)


def run_on_cpu(hwc: np.ndarray, method_id: str, out_size: tuple[int, int], params: dict[str, Any]) -> np.ndarray:
    """The CPU backend's result for ``method_id``; running out of memory becomes a
    `ParameterError` that names the size. NumPy's overflow warnings are silenced: a result
    that left float32's range is refused by name (`check_finite_result`)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return cpu_backend().resample(hwc, method_id, out_size, params)
    except MemoryError:
        raise ParameterError(
            f"{method_id}: not enough memory for a {out_size[1]}x{out_size[0]} result"
        ) from None
