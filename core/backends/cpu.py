"""The CPU backend: every method, metric and difference map with NumPy and OpenCV on the
host. Its handles are the ``(H, W, C)`` arrays themselves, so nothing moves."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np

from core.backends.base import Backend, BackendInfo
from core.common.arrays import cast_float
from core.common.vocabulary import Convention, DiffKind
from core.methods.registry import get_method, list_methods
from core.metrics.difference import difference
from core.metrics.measures import Metrics, PreparedReference, compute_metrics


class CPUBackend(Backend):
    """NumPy and OpenCV on the processor; runs every registered method with the method's
    own function (the definition every other backend is checked against)."""

    name = "cpu"
    label = "CPU"

    @property
    def methods(self) -> frozenset[str]:
        return frozenset(spec.id for spec in list_methods())

    def runs(self, method_id: str) -> bool:
        return True

    def info(self) -> BackendInfo:
        import cv2

        cores = os.cpu_count() or 1
        return BackendInfo("cpu", "CPU", f"{processor_name()} ({cores} cores)",
                           f"NumPy {np.__version__}, OpenCV {cv2.__version__}")

    def put(self, image: np.ndarray) -> np.ndarray:
        return image

    def get(self, handle: np.ndarray) -> np.ndarray:
        return handle

    def resample(self, handle: np.ndarray, method_id: str, out_size: tuple[int, int], params: dict[str, Any]) -> np.ndarray:
        """Run ``method_id``'s own function (no step counted: nothing runs on a device)."""
        return cast_float(get_method(method_id).function(handle, out_size, **params), handle.dtype)

    def metrics(
        self, reference: np.ndarray | PreparedReference, test: np.ndarray, *, convention: Convention = "all", shave: int = 0
    ) -> Metrics:
        """`compute_metrics`; a `PreparedReference` (a comparison's) keeps the reference's
        SSIM statistics from one method to the next."""
        if isinstance(reference, PreparedReference):
            return compute_metrics(reference.image, test, convention=convention, shave=shave, prepared=reference)
        return compute_metrics(reference, test, convention=convention, shave=shave)

    def difference(self, reference: np.ndarray, test: np.ndarray, *, kind: DiffKind, per_channel: bool) -> np.ndarray:
        return difference(reference, test, kind=kind, per_channel=per_channel)


_CPU = CPUBackend()


def cpu_backend() -> CPUBackend:
    """The CPU backend (always available, never marked unusable)."""
    return _CPU


def processor_name() -> str:
    """The processor's model name where the system says it, else its architecture."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
