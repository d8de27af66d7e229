"""NVIDIA's FLIP: the perceived difference between two images, as a map and its mean
(docs/METHODS.md#flip), through the ``flip-evaluator`` package (BSD licence).

FLIP models how a viewer at a given distance sees two images flipped back and forth:
colour differences filtered by the eye's contrast sensitivity, plus edges and points
that appear or vanish. Its map is in [0, 1] (0: no visible difference). It costs about
3 s per 2048x2048 pair on two cores, so Upscope computes it when it is asked for (the
``flip`` difference kind, or the ``flip`` metric of a comparison), not by default.

The package holds Python's interpreter lock for the whole of a run (about 1.5 s per
megapixel), which would freeze every other thread of the program meanwhile, a window's
event loop included. So pairs above `SEPARATE_PROCESS_PIXELS` are compared in helper
processes, started on first use and kept; the numbers are the same, from the same code.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from core.common.arrays import data_range
from core.common.errors import ParameterError, UpscopeError, last_line
from core.metrics.measures import checked_pair

INSTALL_HINT = 'install it: python3 -m pip install -e ".[flip]"'

#: Pairs of more pixels than this are compared in a helper process (FLIP keeps the
#: interpreter lock; at this size a run takes about 25 ms, below the 50 ms a window's
#: event loop may wait).
SEPARATE_PROCESS_PIXELS = 128 * 128

_helpers: ProcessPoolExecutor | None = None
_helpers_lock = threading.Lock()


class FlipUnavailableError(UpscopeError):
    """``flip-evaluator`` is not installed (the message says how to install it)."""


def flip_available() -> bool:
    """Whether ``flip-evaluator`` can be imported here."""
    try:
        _evaluator()
    except FlipUnavailableError:
        return False
    return True


def _evaluator() -> Any:
    try:
        import flip_evaluator
    except ImportError:
        raise FlipUnavailableError(
            f"the FLIP map needs the flip-evaluator package, which is not installed; {INSTALL_HINT}"
        ) from None
    return flip_evaluator


def _as_srgb(image: np.ndarray) -> np.ndarray:
    """``(H, W, C)`` as FLIP takes it: ``(H, W, 3)`` float32 sRGB in [0, 1] (grey repeated
    on three channels, alpha dropped, float data clipped to [0, 1])."""
    colour = image[:, :, :3] if image.shape[2] >= 3 else np.repeat(image[:, :, :1], 3, axis=2)
    unit = colour.astype(np.float32) / np.float32(data_range(image.dtype))
    return np.ascontiguousarray(np.clip(unit, 0.0, 1.0))


def flip_map(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, float]:
    """The FLIP error map of ``test`` against ``reference`` (same shape and dtype) and its
    mean: ``(H, W)`` float32 in [0, 1], and the mean as a float. Both images are taken as
    sRGB (LDR), seen at FLIP's default 67 pixels per degree (a 0.7 m viewing distance
    from a 31.6-inch 4K monitor). Raises `FlipUnavailableError` when the package is
    missing, `ParameterError` for images FLIP cannot take. Thread-safe; pairs above
    `SEPARATE_PROCESS_PIXELS` run in a helper process, so other threads keep running."""
    ref, tst = checked_pair(reference, test)
    _evaluator()
    pair = (_as_srgb(ref), _as_srgb(tst))
    try:
        if ref.shape[0] * ref.shape[1] <= SEPARATE_PROCESS_PIXELS or not _may_start_processes():
            error, mean = _evaluate(*pair)
        else:
            error, mean = _in_helper(*pair)
    except RuntimeError as exc:  # the extension raises plain RuntimeErrors for what it cannot take
        raise ParameterError(f"FLIP could not compare these images ({last_line(exc)})") from None
    return error, mean


def _evaluate(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, float]:
    """FLIP on two `_as_srgb` images, in this process (the helpers run this too)."""
    error, mean, _ = _evaluator().evaluate(reference, test, "LDR", applyMagma=False)
    error = np.asarray(error, dtype=np.float32)
    if error.ndim == 3:
        error = error[:, :, 0]
    return np.ascontiguousarray(error), float(mean)


def _may_start_processes() -> bool:
    # A daemonic process (a worker of a process pool, of a Dask nanny) may not have children.
    return not multiprocessing.current_process().daemon


def _in_helper(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, float]:
    """`_evaluate` in a helper process; a helper that died (killed, out of memory) is
    replaced for the next call and named in the error."""
    global _helpers
    with _helpers_lock:
        if _helpers is None:
            workers = max(1, min(4, os.cpu_count() or 1))
            _helpers = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        helpers = _helpers
    try:
        return helpers.submit(_evaluate, reference, test).result()
    except BrokenProcessPool:
        with _helpers_lock:
            if _helpers is helpers:
                _helpers = None
        raise UpscopeError("the helper process computing FLIP stopped before it finished "
                           "(out of memory, or killed); try again") from None
