"""The interface every compute backend implements (`Backend`), and what they report.

A backend holds images as *handles* (a NumPy array, a ``UMat``, a tensor): `Backend.put`
moves an image to the device once, the steps of a comparison (resampling, metrics,
difference maps) work on handles, and `Backend.get` brings a result back. Every byte moved
is counted in `Backend.traffic`.

What a device can run is one table, `Backend.kernels` (method id to the function that
runs it there): the backend's method list is derived from it, so adding a GPU kernel is
one table entry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from core.common.errors import UpscopeError
from core.common.vocabulary import Convention, DiffKind
from core.metrics.measures import Metrics

#: A device kernel: ``kernel(backend, handle, out_size, params) -> handle`` runs one method
#: on a handle of that backend (validated ``params``; the result keeps the input's dtype).
Kernel = Callable[[Any, Any, tuple[int, int], dict[str, Any]], Any]
#: One resampling step of a batch: method id, output size, validated parameters.
Step = tuple[str, tuple[int, int], dict[str, Any]]


@dataclass(frozen=True)
class BackendInfo:
    """What a backend runs on, for people: ``device`` and ``platform`` are display text,
    ``memory_bytes`` the device's memory (None when unknown), ``gpu`` whether the device
    is a real GPU."""

    name: str
    label: str
    device: str
    platform: str
    memory_bytes: int | None = None
    gpu: bool = False

    def summary(self) -> str:
        """One line such as ``"OpenCL: NVIDIA H100 (80 GiB), OpenCL 3.0 CUDA"``."""
        return f"{self.device_text()}, {self.platform}"

    def device_text(self) -> str:
        """The backend and its device, without the platform: ``"OpenCL: NVIDIA H100 (80 GiB)"``."""
        memory = f" ({self.memory_bytes / 2**30:.0f} GiB)" if self.memory_bytes else ""
        return f"{self.label}: {self.device}{memory}"


class BackendError(UpscopeError, RuntimeError):
    """A backend cannot run here, or cannot run a step (no device, no kernel for it)."""


@dataclass
class Traffic:
    """Bytes moved between host and device, and steps run on the device."""

    to_device: int = 0
    from_device: int = 0
    steps: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, to_device: int = 0, from_device: int = 0, steps: int = 0) -> None:
        with self._lock:
            self.to_device += to_device
            self.from_device += from_device
            self.steps += steps

    def snapshot(self) -> tuple[int, int, int]:
        """``(to_device, from_device, steps)`` now."""
        with self._lock:
            return self.to_device, self.from_device, self.steps


class Backend:
    """A place where pixels are computed. Subclasses fill `kernels` and implement the
    data movement, metrics and difference maps for their device (see `CPUBackend`, the
    reference implementation of every step)."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    #: Method id -> the `Kernel` that runs it on this device.
    kernels: ClassVar[Mapping[str, Kernel]] = {}
    #: Downsampler ids this backend implements (see `downsample`).
    downsamplers: ClassVar[frozenset[str]] = frozenset()
    #: True when a comparison should enqueue all its methods at once (GPU kept busy).
    batches: ClassVar[bool] = False

    def __init__(self) -> None:
        self.traffic = Traffic()

    @property
    def methods(self) -> frozenset[str]:
        """The method ids this backend implements: the keys of `kernels`."""
        return frozenset(self.kernels)

    def info(self) -> BackendInfo:
        raise NotImplementedError

    def runs(self, method_id: str) -> bool:
        """Whether this backend implements ``method_id`` at all (see `refusal` for a
        given image)."""
        return method_id in self.kernels

    def refusal(self, method_id: str, shape: tuple[int, int, int], dtype: np.dtype,
                out_size: tuple[int, int], params: dict[str, Any]) -> str | None:
        """Why this backend cannot run ``method_id`` on this input, or None when it can."""
        if not self.runs(method_id):
            return f"{self.label} has no implementation of {method_id}"
        return None

    # -- data -------------------------------------------------------------------------
    def put(self, image: np.ndarray) -> Any:
        """Move an ``(H, W, C)`` image to the device (counted in `traffic`)."""
        raise NotImplementedError

    def get(self, handle: Any) -> np.ndarray:
        """The ``(H, W, C)`` NumPy array of ``handle`` (counted in `traffic`)."""
        raise NotImplementedError

    # -- steps --------------------------------------------------------------------------
    def resample(self, handle: Any, method_id: str, out_size: tuple[int, int], params: dict[str, Any]) -> Any:
        """Run ``method_id`` (validated ``params``) on ``handle`` with its kernel; the
        result keeps its dtype (integers rounded half to even and clipped). Raises
        `BackendError` when this backend cannot run it on this input."""
        reason = self.refusal(method_id, handle.shape, handle.dtype, out_size, params)
        if reason:
            raise BackendError(reason)
        out = self.kernels[method_id](self, handle, out_size, params)
        self.traffic.add(steps=1)
        return out

    def downsample(self, handle: Any, downsampler_id: str, factors: tuple[int, int]) -> tuple[Any, dict[str, Any]]:
        """Shrink ``handle`` by whole-number ``factors`` (only for ids in ``downsamplers``)."""
        raise BackendError(f"{self.label} has no downsampler {downsampler_id}")

    def metrics(self, reference: Any, test: Any, *, convention: Convention = "all", shave: int = 0) -> Metrics:
        """`core.compute_metrics` of two handles of equal shape and dtype."""
        raise NotImplementedError

    def difference(self, reference: Any, test: Any, *, kind: DiffKind, per_channel: bool) -> np.ndarray:
        """`core.difference` of two handles, as a host float32 ``(H, W, C)`` or ``(H, W)``
        array (``(H, W)`` when ``per_channel`` is False)."""
        raise NotImplementedError

    def self_test(self) -> bool:
        """Whether a small bilinear upscale on this backend gives OpenCV's CPU answer
        (within 1 LSB); any failure on the device means it is not fit."""
        import cv2

        image = (np.arange(12 * 10 * 3) % 251).astype(np.uint8).reshape(12, 10, 3)
        try:
            got = self.get(self.resample(self.put(image), "bilinear", (30, 25), {}))
        except Exception:
            return False
        expected = cv2.resize(image, (25, 30), interpolation=cv2.INTER_LINEAR)
        return bool(np.abs(got.astype(int) - expected).max() <= 1)

    def batch(self, handle: Any, steps: list[Step]) -> list[tuple[Any, float]]:
        """Run several resampling steps on one input; returns ``(handle or exception,
        seconds)`` per step. Backends whose ``batches`` is True queue them without waiting
        in between."""
        results: list[tuple[Any, float]] = []
        for method_id, out_size, params in steps:
            start = time.perf_counter()
            try:
                out = self.resample(handle, method_id, out_size, params)
            except Exception as exc:
                out = exc
            results.append((out, time.perf_counter() - start))
        return results

    def synchronize(self) -> None:
        """Wait until queued device work has finished (for honest timings)."""
