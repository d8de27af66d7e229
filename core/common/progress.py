"""Progress of a long step, reported from inside it.

Like the cancel flag (`core.common.cancel`), the listener travels in a context
variable, so a method function keeps its plain signature: a tiled model run calls
`report_progress` after each tile, and whoever runs the step (a `Comparison`, the
window, the command line) listens with `progress_scope`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

#: ``listener(done, total)``: ``done`` of ``total`` pieces of the current step are finished.
ProgressListener = Callable[[int, int], None]

_current: contextvars.ContextVar[ProgressListener | None] = contextvars.ContextVar("upscope_progress", default=None)


@contextlib.contextmanager
def progress_scope(listener: ProgressListener | None) -> Iterator[None]:
    """Run the body with ``listener`` receiving its progress reports (None: nobody)."""
    token = _current.set(listener)
    try:
        yield
    finally:
        _current.reset(token)


def report_progress(done: int, total: int) -> None:
    """Tell the current listener that ``done`` of ``total`` pieces are finished; a no-op
    outside a scope. A listener that raises is the listener's bug, not the step's: it
    is not allowed to stop the step."""
    listener = _current.get()
    if listener is None:
        return
    try:
        listener(done, total)
    except Exception:  # a broken progress display must not fail the computation
        log.exception("a progress listener failed")
