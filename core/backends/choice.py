"""Which backend computes: per call, per session, or automatically.

The backend of a call is chosen, in order, by the call (``backend=``), the session
(`set_backend`), the ``UPSCOPE_BACKEND`` environment variable, and otherwise automatically
(`auto_backend`): a GPU through PyTorch, else a real OpenCL GPU that passes a self-test,
else the CPU. OpenCL on a CPU device (POCL) is never chosen automatically, and PyTorch is
imported only when it is chosen or a GPU driver makes it a candidate: `backend_refusal`
answers whether each backend can run without importing it.

A backend that fails at run time is marked unusable for the rest of the session
(`BackendChoice.report_failure`); its steps rerun on the CPU (see `core.backends.fallback`).

All of this state lives in one `BackendChoice` object; the module functions are its
public face.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import threading
from collections.abc import Callable

from core.backends.base import Backend, BackendError, BackendInfo
from core.backends.cpu import cpu_backend
from core.common.errors import ParameterError
from core.common.vocabulary import BACKEND_LABELS, BACKEND_NAMES
from core.methods.registry import get_method

ENVIRONMENT_VARIABLE = "UPSCOPE_BACKEND"
#: What `backend_refusal` says when the ``torch`` package is not installed.
TORCH_MISSING = "PyTorch is not installed (pip install -e \".[torch]\")"

log = logging.getLogger("upscope.backend")

#: How each backend is made, by name: its module is imported only when it is asked for.
_FACTORIES: dict[str, Callable[[], Backend]] = {
    "cpu": cpu_backend,
    "opencl": lambda: importlib.import_module("core.backends.opencl").OpenCLBackend(),
    "torch": lambda: importlib.import_module("core.backends.pytorch").TorchBackend(),
}
#: The module-level tables of device kernels, read without making a backend.
_KERNEL_MODULES = {"opencl": ("core.backends.opencl", "OPENCL_METHODS"), "torch": ("core.backends.pytorch", "TORCH_METHODS")}


def _unknown(name: object) -> ParameterError:
    return ParameterError(f"unknown backend {name!r}; known backends: {', '.join(BACKEND_NAMES)} (or 'auto')")


class BackendChoice:
    """The backends of one session: those made, those that failed or cannot start here,
    the session's choice and the automatic one. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.instances: dict[str, Backend] = {}
        #: Backends that failed while running, with why (off for the session).
        self.unusable: dict[str, str] = {}
        #: Backends that could not be made here, with why (not retried until `reset`).
        self.unconstructible: dict[str, str] = {}
        self.session_choice: str | None = None
        self.auto_choice: str | None = None

    def get(self, name: str) -> Backend:
        """The backend ``name``, ready to run (see `get_backend`)."""
        if name not in BACKEND_NAMES:
            raise _unknown(name)
        with self._lock:
            if name in self.unusable:
                raise BackendError(f"{name} is off for this session: {self.unusable[name]}")
            if name in self.unconstructible:
                raise BackendError(self.unconstructible[name])
            if name not in self.instances:
                try:
                    self.instances[name] = _FACTORIES[name]()
                except BackendError as exc:
                    self.unconstructible[name] = str(exc)
                    raise
                except Exception as exc:
                    self.unconstructible[name] = f"{name} cannot start here ({type(exc).__name__}: {exc})"
                    raise BackendError(self.unconstructible[name]) from exc
            return self.instances[name]

    def refusal(self, name: str) -> str | None:
        """Why ``name`` cannot run here, or None (see `backend_refusal`)."""
        if name not in BACKEND_NAMES:
            raise _unknown(name)
        with self._lock:
            if name in self.unusable:
                return f"{name} is off for this session: {self.unusable[name]}"
            if name in self.unconstructible:
                return self.unconstructible[name]
            if name in self.instances:
                return None
        if name == "torch":
            return None if _torch_installed() else TORCH_MISSING
        try:
            self.get(name)
        except BackendError as exc:
            return str(exc)
        return None

    def auto(self) -> Backend:
        """The automatic choice (see `auto_backend`), decided once per session."""
        with self._lock:
            if self.auto_choice is None or self.auto_choice in self.unusable:
                self.auto_choice = "cpu"
                for name in ("torch", "opencl"):
                    if name in self.unusable:
                        continue
                    if name == "torch" and not _gpu_driver_present():
                        log.info("auto backend: no GPU driver, PyTorch not imported")
                        continue
                    try:
                        backend = self.get(name)
                    except BackendError as exc:
                        log.info("auto backend: %s not used (%s)", name, exc)
                        continue
                    if backend.info().gpu and backend.self_test():
                        self.auto_choice = name
                        break
                    log.info("auto backend: %s runs on %s, not a GPU", name, backend.info().device)
            return self.get(self.auto_choice)

    def choose(self, name: str | None) -> Backend:
        """Make ``name`` (or automatic, for None or ``"auto"``) the session's choice."""
        if name in (None, "auto"):
            with self._lock:
                self.session_choice = None
            return self.resolve(None)
        backend = self.get(name)
        with self._lock:
            self.session_choice = name
        return backend

    def requested(self) -> str:
        """The session's choice, else the environment variable, else ``"auto"``."""
        with self._lock:
            if self.session_choice is not None:
                return self.session_choice
        return os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower() or "auto"

    def resolve(self, name: str | Backend | None) -> Backend:
        """``name`` as a `Backend` (see `resolve_backend`)."""
        if isinstance(name, Backend):
            return name
        if name is not None:
            return self.auto() if name == "auto" else self.get(name)
        wanted = self.requested()
        if wanted == "auto":
            return self.auto()
        try:
            return self.get(wanted)
        except (BackendError, ParameterError) as exc:
            log.warning("backend %r cannot run (%s); using the automatic choice", wanted, exc)
            return self.auto()

    def report_failure(self, backend: Backend, exc: BaseException, step: str) -> str | None:
        """Mark ``backend`` unusable for the session after ``exc`` in ``step``. Logs the
        reason every time; returns the sentence to show the user the first time only."""
        reason = f"{type(exc).__name__}: {exc}".strip()
        log.warning("%s failed in %s (%s); rerunning on the CPU", backend.label, step, reason)
        with self._lock:
            if backend.name in self.unusable or backend.name == "cpu":
                return None
            self.unusable[backend.name] = f"it failed in {step} ({reason})"
        return (
            f"{backend.label} failed in {step} ({reason}). That step was rerun on the CPU, and "
            f"{backend.label} is off for the rest of this session."
        )

    def usable(self, backend: Backend) -> bool:
        """Whether ``backend`` has not failed in this session."""
        with self._lock:
            return backend.name not in self.unusable

    def reset(self) -> None:
        """Forget the session's choice, failures and devices (tests, a new session)."""
        with self._lock:
            self.instances.clear()
            self.unusable.clear()
            self.unconstructible.clear()
            self.session_choice = None
            self.auto_choice = None


#: The session's backends.
SESSION = BackendChoice()


def get_backend(name: str) -> Backend:
    """The backend ``name`` (``"cpu"``, ``"opencl"`` or ``"torch"``), ready to run.

    Raises `ParameterError` for an unknown name and `BackendError` (with the reason) when
    the backend cannot run here: no OpenCL device, PyTorch not installed or failing to
    start, or marked unusable earlier in this session. A backend that cannot be made is
    not tried again until `reset_backends`.
    """
    return SESSION.get(name)


def backend_refusal(name: str) -> str | None:
    """Why backend ``name`` cannot run here, or None when it can, as far as a cheap check
    tells.

    PyTorch is not imported for this (an import takes seconds and hundreds of megabytes):
    its package being installed is enough until it is chosen, and a failure to start then
    is reported by `get_backend` and, from then on, here. OpenCL is made, which only
    queries OpenCV's OpenCL runtime (milliseconds). Unknown names raise `ParameterError`.
    """
    return SESSION.refusal(name)


def available_backends() -> list[BackendInfo]:
    """Every backend that can run here, CPU first. Makes each one (this imports PyTorch
    when it is installed); `unavailable_backends` answers without that."""
    found = []
    for name in BACKEND_NAMES:
        try:
            found.append(SESSION.get(name).info())
        except BackendError:
            continue
    return found


def unavailable_backends() -> dict[str, str]:
    """Backend name to the reason it cannot run here (for the viewer and ``--backend``),
    from `backend_refusal`: PyTorch is not imported to answer."""
    reasons: dict[str, str] = {}
    for name in BACKEND_NAMES:
        reason = SESSION.refusal(name)
        if reason is not None:
            reasons[name] = reason
    return reasons


def auto_backend() -> Backend:
    """The automatic choice: PyTorch on CUDA or MPS, else OpenCL on a real GPU that passes
    its self-test, else the CPU. Decided once per session."""
    return SESSION.auto()


def set_backend(name: str | None) -> Backend:
    """Choose the session's backend: a name, ``"auto"``, or None (back to the
    ``UPSCOPE_BACKEND`` variable or automatic). Returns the backend now in use; an
    unavailable one raises `BackendError` and leaves the choice unchanged."""
    return SESSION.choose(name)


def requested_backend() -> str:
    """The name the session asks for: the `set_backend` choice, else the environment
    variable, else ``"auto"``."""
    return SESSION.requested()


def current_backend() -> Backend:
    """The backend a call without ``backend=`` uses. A requested backend that cannot run
    (or failed earlier) gives the automatic choice, with the reason logged."""
    return SESSION.resolve(None)


def resolve_backend(name: str | Backend | None) -> Backend:
    """``name`` as a `Backend`: None means the session's choice (`requested_backend`).

    An explicit name that cannot run raises `BackendError`; the session's or the
    environment's choice falls back to `auto_backend` instead (and says why in the log),
    so a stale setting never stops the app.
    """
    return SESSION.resolve(name)


def reset_backends() -> None:
    """Forget the session's choice, failures and devices (tests, a new session)."""
    SESSION.reset()


def method_backends(method_id: str) -> tuple[str, ...]:
    """Labels of the backends that implement ``method_id``, from their kernel tables
    (static: no device is probed, PyTorch is not imported)."""
    labels = [BACKEND_LABELS["cpu"]]
    for name, (module, table) in _KERNEL_MODULES.items():
        if method_id in getattr(importlib.import_module(module), table):
            labels.append(BACKEND_LABELS[name])
    return tuple(labels)


def backends_sentence(method_id: str) -> str:
    """``"Runs on the CPU, OpenCL and PyTorch."`` or ``"Runs on the CPU only: ..."``."""
    source = get_method(method_id).source
    if source is not None:
        return {
            "model": "Runs in its own runtime, named above, whatever the backend.",
            "result": "Made by another tool: shown as it is.",
            "plugin": "Runs the plugin's own function, whatever the backend.",
        }[source.kind]
    labels = method_backends(method_id)
    if len(labels) == 1:
        return "Runs on the CPU only (no OpenCL or PyTorch version)."
    return "Runs on the CPU, " + " and ".join(labels[1:]) + "."


def _torch_installed() -> bool:
    """Whether the ``torch`` package can be found, without importing it."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a broken module entry
        return False


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
