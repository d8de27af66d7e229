"""Compute backends: where the pixels of a comparison are computed.

Three backends share one interface, `Backend`:

- ``"cpu"``: NumPy and OpenCV on the host; runs every method.
- ``"opencl"``: OpenCV's transparent API (``cv2.UMat``) on an OpenCL device (see `_opencl`).
- ``"torch"``: PyTorch on CUDA, Apple's MPS or the CPU (see `_torch`); optional.

A backend holds images as *handles* (a NumPy array, a ``UMat``, a tensor): `Backend.put`
moves an image to the device once, the steps of a comparison (resampling, metrics,
difference maps) work on handles, and `Backend.get` brings a result back. Every byte moved
is counted in `Backend.traffic`.

The backend of a call is chosen, in order, by the call (``backend=``), the session
(`set_backend`), the ``UPSCOPE_BACKEND`` environment variable, and otherwise automatically
(`auto_backend`): a GPU through PyTorch, else a real OpenCL GPU that passes a self-test,
else the CPU. OpenCL on a CPU device (POCL) is never chosen automatically, and PyTorch is
imported only when it is chosen or a GPU driver makes it a candidate: `unavailable_backends`
answers whether each backend can run without importing it.

A backend that fails at run time (kernel refused, device lost, out of memory) is marked
unusable for the rest of the session by `report_failure`; the step reruns on the CPU.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from core.common.arrays import cast_float
from core.common.errors import ParameterError, UpscopeError
from core.common.vocabulary import Convention, DiffKind
from core.metrics.difference import difference
from core.metrics.measures import Metrics, compute_metrics

BackendName = Literal["cpu", "opencl", "torch"]
BACKEND_NAMES: tuple[str, ...] = ("cpu", "opencl", "torch")
ENVIRONMENT_VARIABLE = "UPSCOPE_BACKEND"

log = logging.getLogger("upscope.backend")


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
        memory = f" ({self.memory_bytes / 2**30:.0f} GiB)" if self.memory_bytes else ""
        return f"{self.label}: {self.device}{memory}, {self.platform}"


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
    """The CPU backend, and the interface of every backend.

    Handles of this backend are the ``(H, W, C)`` NumPy arrays themselves, so `put` and
    `get` move nothing. Subclasses override what their device can run and name in
    ``methods`` the method ids they implement.
    """

    name = "cpu"
    label = "CPU"
    #: Method ids this backend implements (the CPU runs every registered method).
    methods: frozenset[str] = frozenset()
    #: Downsampler ids this backend implements.
    downsamplers: frozenset[str] = frozenset()
    #: True when a comparison should enqueue all its methods at once (GPU kept busy).
    batches = False

    def __init__(self) -> None:
        self.traffic = Traffic()

    def info(self) -> BackendInfo:
        import cv2

        cores = os.cpu_count() or 1
        return BackendInfo("cpu", "CPU", f"{processor_name()} ({cores} cores)",
                           f"NumPy {np.__version__}, OpenCV {cv2.__version__}")

    def runs(self, method_id: str) -> bool:
        """Whether this backend implements ``method_id`` at all (see `refusal` for a
        given image)."""
        return self.name == "cpu" or method_id in self.methods

    def refusal(self, method_id: str, shape: tuple[int, int, int], dtype: np.dtype,
                out_size: tuple[int, int], params: dict[str, Any]) -> str | None:
        """Why this backend cannot run ``method_id`` on this input, or None when it can."""
        if not self.runs(method_id):
            return f"{self.label} has no implementation of {method_id}"
        return None

    # -- data -------------------------------------------------------------------------
    def put(self, image: np.ndarray) -> Any:
        """Move an ``(H, W, C)`` image to the device (counted in `traffic`)."""
        return image

    def get(self, handle: Any) -> np.ndarray:
        """The ``(H, W, C)`` NumPy array of ``handle`` (counted in `traffic`)."""
        return handle

    # -- steps --------------------------------------------------------------------------
    def resample(self, handle: Any, method_id: str, out_size: tuple[int, int], params: dict[str, Any]) -> Any:
        """Run ``method_id`` (validated ``params``) on ``handle``; the result keeps its
        dtype (integers rounded half to even and clipped)."""
        from core.methods.registry import get_method

        image = handle
        return cast_float(get_method(method_id).function(image, out_size, **params), image.dtype)

    def downsample(self, handle: Any, downsampler_id: str, factors: tuple[int, int]) -> tuple[Any, dict[str, Any]]:
        """Shrink ``handle`` by whole-number ``factors`` (only for ids in ``downsamplers``)."""
        raise BackendError(f"{self.label} has no downsampler {downsampler_id}")

    def metrics(self, reference: Any, test: Any, *, convention: Convention = "all", shave: int = 0) -> Metrics:
        """`core.compute_metrics` of two handles of equal shape and dtype."""
        return compute_metrics(reference, test, convention=convention, shave=shave)

    def difference(self, reference: Any, test: Any, *, kind: DiffKind, per_channel: bool) -> np.ndarray:
        """`core.difference` of two handles, as a host float32 ``(H, W, C)`` or ``(H, W)``
        array (``(H, W)`` when ``per_channel`` is False)."""
        return difference(reference, test, kind=kind, per_channel=per_channel)

    def self_test(self) -> bool:
        """Whether a small bilinear upscale on this backend gives OpenCV's CPU answer
        (within 1 LSB); any failure on the device means it is not fit."""
        import cv2

        image = (np.arange(12 * 10 * 3) % 251).astype(np.uint8).reshape(12, 10, 3)
        try:
            got = self.get(self.resample(self.put(image), "bilinear", (30, 25), {}))
        except Exception:  # noqa: BLE001
            return False
        expected = cv2.resize(image, (25, 30), interpolation=cv2.INTER_LINEAR)
        return bool(np.abs(got.astype(int) - expected).max() <= 1)

    def batch(self, handle: Any, steps: list[tuple[str, tuple[int, int], dict[str, Any]]]) -> list[tuple[Any, float]]:
        """Run several resampling steps on one input; returns ``(handle or exception,
        seconds)`` per step. Backends whose ``batches`` is True queue them without waiting
        in between."""
        import time

        results: list[tuple[Any, float]] = []
        for method_id, out_size, params in steps:
            start = time.perf_counter()
            try:
                out = self.resample(handle, method_id, out_size, params)
            except Exception as exc:  # noqa: BLE001 (each step reports its own failure)
                out = exc
            results.append((out, time.perf_counter() - start))
        return results

    def synchronize(self) -> None:
        """Wait until queued device work has finished (for honest timings)."""


def processor_name() -> str:
    """The processor's model name where the system says it, else its architecture."""
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# -- choosing a backend ------------------------------------------------------------------

_lock = threading.RLock()
_instances: dict[str, Backend] = {}
_unusable: dict[str, str] = {}
#: Backends that could not be constructed here, with why (not retried until `reset_backends`).
_unconstructible: dict[str, str] = {}
_session_choice: str | None = None
_auto_choice: str | None = None


def _make(name: str) -> Backend:
    if name == "cpu":
        return _CPU
    if name == "opencl":
        from core.backends.opencl import OpenCLBackend

        return OpenCLBackend()
    if name == "torch":
        from core.backends.pytorch import TorchBackend

        return TorchBackend()
    raise ParameterError(f"unknown backend {name!r}; known backends: {', '.join(BACKEND_NAMES)} (or 'auto')")


def get_backend(name: str) -> Backend:
    """The backend ``name`` (``"cpu"``, ``"opencl"`` or ``"torch"``), ready to run.

    Raises `ParameterError` for an unknown name and `BackendError` (with the reason) when
    the backend cannot run here: no OpenCL device, PyTorch not installed or failing to
    start, or marked unusable earlier in this session. A backend that cannot be
    constructed is not tried again until `reset_backends`.
    """
    if name not in BACKEND_NAMES:
        raise ParameterError(f"unknown backend {name!r}; known backends: {', '.join(BACKEND_NAMES)} (or 'auto')")
    with _lock:
        if name in _unusable:
            raise BackendError(f"{name} is off for this session: {_unusable[name]}")
        if name in _unconstructible:
            raise BackendError(_unconstructible[name])
        if name not in _instances:
            try:
                _instances[name] = _make(name)
            except BackendError as exc:
                _unconstructible[name] = str(exc)
                raise
            except Exception as exc:  # a broken install must not stop the app
                _unconstructible[name] = f"{name} cannot start here ({type(exc).__name__}: {exc})"
                raise BackendError(_unconstructible[name]) from exc
        return _instances[name]


def available_backends() -> list[BackendInfo]:
    """Every backend that can run here, CPU first. Constructs each one (this imports
    PyTorch when it is installed); `unavailable_backends` answers without that."""
    found = []
    for name in BACKEND_NAMES:
        try:
            found.append(get_backend(name).info())
        except BackendError:
            continue
    return found


#: What `backend_refusal` says when the ``torch`` package is not installed.
TORCH_MISSING = "PyTorch is not installed (pip install -e \".[torch]\")"


def _torch_installed() -> bool:
    """Whether the ``torch`` package can be found, without importing it."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a broken module entry
        return False


def backend_refusal(name: str) -> str | None:
    """Why backend ``name`` cannot run here, or None when it can, as far as a cheap check
    tells.

    PyTorch is not imported for this (an import takes seconds and hundreds of megabytes):
    its package being installed is enough until it is chosen, and a failure to start then
    is reported by `get_backend` and, from then on, here. OpenCL is constructed, which
    only queries OpenCV's OpenCL runtime (milliseconds). Unknown names raise
    `ParameterError`.
    """
    if name not in BACKEND_NAMES:
        raise ParameterError(f"unknown backend {name!r}; known backends: {', '.join(BACKEND_NAMES)} (or 'auto')")
    with _lock:
        if name in _unusable:
            return f"{name} is off for this session: {_unusable[name]}"
        if name in _unconstructible:
            return _unconstructible[name]
        if name in _instances:
            return None
    if name == "torch":
        return None if _torch_installed() else TORCH_MISSING
    try:
        get_backend(name)
    except BackendError as exc:
        return str(exc)
    return None


def unavailable_backends() -> dict[str, str]:
    """Backend name to the reason it cannot run here (for the viewer and ``--backend``),
    from `backend_refusal`: PyTorch is not imported to answer."""
    reasons = {}
    for name in BACKEND_NAMES:
        reason = backend_refusal(name)
        if reason is not None:
            reasons[name] = reason
    return reasons


def auto_backend() -> Backend:
    """The automatic choice: PyTorch on CUDA or MPS, else OpenCL on a real GPU that passes
    its self-test, else the CPU. Decided once per session."""
    global _auto_choice
    with _lock:
        if _auto_choice is None or _auto_choice in _unusable:
            _auto_choice = "cpu"
            for name in ("torch", "opencl"):
                if name in _unusable:
                    continue
                if name == "torch" and not _gpu_driver_present():
                    log.info("auto backend: no GPU driver, PyTorch not imported")
                    continue
                try:
                    backend = get_backend(name)
                except BackendError as exc:
                    log.info("auto backend: %s not used (%s)", name, exc)
                    continue
                if backend.info().gpu and backend.self_test():
                    _auto_choice = name
                    break
                log.info("auto backend: %s runs on %s, not a GPU", name, backend.info().device)
        return get_backend(_auto_choice)


def _gpu_driver_present() -> bool:
    """Whether PyTorch could find a GPU here: an NVIDIA or ROCm driver, or Apple silicon.
    Checked before importing PyTorch (seconds) for the automatic choice."""
    import ctypes.util
    import platform

    if platform.system() == "Darwin":
        return platform.machine() == "arm64"
    if os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/kfd"):
        return True
    return ctypes.util.find_library("cuda") is not None


def set_backend(name: str | None) -> Backend:
    """Choose the session's backend: a name, ``"auto"``, or None (back to the
    ``UPSCOPE_BACKEND`` variable or automatic). Returns the backend now in use; an
    unavailable one raises `BackendError` and leaves the choice unchanged."""
    global _session_choice
    if name in (None, "auto"):
        with _lock:
            _session_choice = None
        return current_backend()
    backend = get_backend(name)
    with _lock:
        _session_choice = name
    return backend


def requested_backend() -> str:
    """The name the session asks for: the `set_backend` choice, else the environment
    variable, else ``"auto"``."""
    with _lock:
        if _session_choice is not None:
            return _session_choice
    return os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower() or "auto"


def current_backend() -> Backend:
    """The backend a call without ``backend=`` uses. A requested backend that cannot run
    (or failed earlier) gives the automatic choice, with the reason logged."""
    return resolve_backend(None)


def resolve_backend(name: str | Backend | None) -> Backend:
    """``name`` as a `Backend`: None means the session's choice (`requested_backend`).

    An explicit name that cannot run raises `BackendError`; the session's or the
    environment's choice falls back to `auto_backend` instead (and says why in the log),
    so a stale setting never stops the app.
    """
    if isinstance(name, Backend):
        return name
    if name is not None:
        return auto_backend() if name == "auto" else get_backend(name)
    wanted = requested_backend()
    if wanted == "auto":
        return auto_backend()
    try:
        return get_backend(wanted)
    except (BackendError, ParameterError) as exc:
        log.warning("backend %r cannot run (%s); using the automatic choice", wanted, exc)
        return auto_backend()


def report_failure(backend: Backend, exc: BaseException, step: str) -> str | None:
    """Mark ``backend`` unusable for the session after ``exc`` in ``step``.

    Logs the reason every time; returns the sentence to show the user the first time
    only (None afterwards), so a person is told once.
    """
    reason = f"{type(exc).__name__}: {exc}".strip()
    log.warning("%s failed in %s (%s); rerunning on the CPU", backend.label, step, reason)
    with _lock:
        if backend.name in _unusable or backend.name == "cpu":
            return None
        _unusable[backend.name] = f"it failed in {step} ({reason})"
    return (
        f"{backend.label} failed in {step} ({reason}). That step was rerun on the CPU, and "
        f"{backend.label} is off for the rest of this session."
    )


def usable(backend: Backend) -> bool:
    """Whether ``backend`` has not failed in this session."""
    with _lock:
        return backend.name not in _unusable


def reset_backends() -> None:
    """Forget the session's choice, failures and devices (tests, a new session)."""
    global _session_choice, _auto_choice
    with _lock:
        _instances.clear()
        _unusable.clear()
        _unconstructible.clear()
        _session_choice = None
        _auto_choice = None


def method_backends(method_id: str) -> tuple[str, ...]:
    """Labels of the backends that implement ``method_id`` (static: no device is probed)."""
    from core.backends.opencl import OPENCL_METHODS
    from core.backends.pytorch import TORCH_METHODS

    labels = ["CPU"]
    if method_id in OPENCL_METHODS:
        labels.append("OpenCL")
    if method_id in TORCH_METHODS:
        labels.append("PyTorch")
    return tuple(labels)


def backends_sentence(method_id: str) -> str:
    """``"Runs on the CPU, OpenCL and PyTorch."`` or ``"Runs on the CPU only: ..."``."""
    labels = method_backends(method_id)
    if len(labels) == 1:
        return "Runs on the CPU only (no OpenCL or PyTorch version)."
    return "Runs on the CPU, " + " and ".join(labels[1:]) + "."


# -- running one step with a fallback to the CPU -----------------------------------------

_CPU = Backend()


def cpu_backend() -> Backend:
    """The CPU backend (always available, never marked unusable)."""
    return _CPU


@dataclass(frozen=True)
class Placed:
    """The outcome of `place`: the ``handle`` on ``backend`` that computed it, and, when
    the step did not run on the backend asked for, ``why`` (for the user) and ``notice``
    (a failure the user has not been told about yet)."""

    handle: Any
    backend: Backend
    why: str | None = None
    notice: str | None = None


def place(backend: Backend, step: str, on_device: Any, on_cpu: Any) -> Placed:
    """Run ``on_device(backend)`` and fall back to ``on_cpu()`` when it cannot or fails.

    `BackendError` (no kernel for this case) falls back quietly with its reason; any other
    exception except `UpscopeError` (bad input, which the CPU would refuse too) marks the
    backend unusable (`report_failure`) and falls back with a notice.
    """
    if backend.name == "cpu":
        return Placed(on_cpu(), _CPU)
    if not usable(backend):
        return Placed(on_cpu(), _CPU, why=f"{backend.label} is off for this session")
    try:
        return Placed(on_device(backend), backend)
    except BackendError as exc:
        return Placed(on_cpu(), _CPU, why=str(exc))
    except UpscopeError:
        raise
    except Exception as exc:  # noqa: BLE001 (a device failure must never stop the app)
        notice = report_failure(backend, exc, step)
        return Placed(on_cpu(), _CPU, why=f"{backend.label} failed", notice=notice)
