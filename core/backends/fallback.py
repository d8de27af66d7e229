"""Running one step on a backend with the CPU as a fallback: a device that cannot run a
case, or fails, never stops a comparison."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.backends.base import Backend, BackendError
from core.backends.choice import SESSION
from core.backends.cpu import cpu_backend
from core.common.errors import UpscopeError


@dataclass(frozen=True)
class Placed:
    """The outcome of `place`: ``value``, what the step returned on ``backend`` (the one
    that ran it), and, when that is not the backend asked for, ``why`` (for the user) and
    ``notice`` (a failure the user has not been told about yet)."""

    value: Any
    backend: Backend
    why: str | None = None
    notice: str | None = None


def place(backend: Backend, step: str, on_device: Callable[[Backend], Any], on_cpu: Callable[[], Any]) -> Placed:
    """Run ``on_device(backend)`` and fall back to ``on_cpu()`` when it cannot or fails.

    `BackendError` (no kernel for this case) falls back quietly with its reason; any other
    exception except `UpscopeError` (bad input, which the CPU would refuse too) marks the
    backend unusable for the session and falls back with a notice.
    """
    cpu = cpu_backend()
    if backend.name == "cpu":
        return Placed(on_cpu(), cpu)
    if not SESSION.usable(backend):
        return Placed(on_cpu(), cpu, why=f"{backend.label} is off for this session")
    try:
        return Placed(on_device(backend), backend)
    except BackendError as exc:
        return Placed(on_cpu(), cpu, why=str(exc))
    except UpscopeError:
        raise
    except Exception as exc:
        notice = SESSION.report_failure(backend, exc, step)
        return Placed(on_cpu(), cpu, why=f"{backend.label} failed", notice=notice)
