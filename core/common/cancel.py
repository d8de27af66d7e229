"""Cancelling a long step from inside: the cancel flag of the step now running.

A `Comparison` runs each step (downsampling, a method, its metrics) inside
`cancel_scope` with its own flag; the loops of those steps (bands of rows, tiles,
phases) call `check_cancelled` between pieces of work, so a comparison cancelled from
another thread stops within one piece instead of at the end of the method. Method
functions keep their plain signature: the flag travels in a context variable, which is
per thread (each pool thread runs its own step).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator

from core.common.errors import UpscopeError

_current: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("upscope_cancel", default=None)


class CancelledError(UpscopeError):
    """The comparison was cancelled while one of its steps ran."""


@contextlib.contextmanager
def cancel_scope(flag: threading.Event | None) -> Iterator[None]:
    """Run the body with ``flag`` as the current cancel flag (None: nothing cancels it)."""
    token = _current.set(flag)
    try:
        yield
    finally:
        _current.reset(token)


def check_cancelled() -> None:
    """Raise `CancelledError` when the current step's flag is set; a no-op outside a scope.

    Cheap enough (a context lookup and an ``Event.is_set``) to call once per band or
    tile."""
    flag = _current.get()
    if flag is not None and flag.is_set():
        raise CancelledError("cancelled before it finished")
