"""Worker processes that a crash or a signal cannot turn into lost work or partial files.

`run_in_processes` calls a function on each item in worker processes (spawned, not
forked: OpenCV's threads do not survive a fork) and reports every item: its result, or
why there is none. A worker that ends without answering (killed, crashed, out of memory)
costs only the item it was working on, which is reported with how the process ended; the
other items go on in a fresh worker. When the caller is interrupted (Ctrl+C, or any
exception), every worker is sent SIGTERM, which a worker turns into `KeyboardInterrupt`,
so a file it is writing is removed on the way out (`write_bytes_atomically`), and the
workers are waited for before the exception goes on.

Workers ignore SIGINT and SIGHUP, which a terminal sends to every process of the job:
the parent alone decides, and stops them with SIGTERM.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

#: Signals a terminal or a service manager sends to end a job.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)

#: Seconds a worker gets to remove its temporary files after SIGTERM before it is killed.
STOP_GRACE_SECONDS = 10.0

OnResult = Callable[[int, Any, "str | None"], None]


def run_in_processes(
    function: Callable[[Any], Any],
    items: Sequence[Any],
    workers: int,
    on_result: OnResult,
    *,
    initializer: Callable[[], None] | None = None,
) -> None:
    """Call ``function(item)`` for every item in up to ``workers`` processes.

    ``on_result(index, result, None)`` is called in this process as each item is done,
    in the order they finish; ``on_result(index, None, why)`` when there is no result:
    ``function`` raised (``why`` names the exception) or the worker process ended while
    on that item (``why`` says how: killed by a signal, an exit code). ``function`` and
    ``initializer`` must be picklable (module-level functions), and so must the items
    and results. Returns when every item has been reported; any exception (an
    interruption included) stops and waits for every worker first.
    """
    context = multiprocessing.get_context("spawn")
    pending = deque(enumerate(items))
    running: list[_Worker] = []
    try:
        for _ in range(min(max(1, workers), len(pending))):
            running.append(_Worker(context, function, initializer))
            running[-1].give(pending.popleft())
        while running:
            for worker in _ready(running):
                answer = worker.answer()
                if answer is not None:
                    index, ok, payload = answer
                    on_result(index, payload if ok else None, None if ok else payload)
                    if pending:
                        worker.give(pending.popleft())
                    else:
                        worker.finish()
                    continue
                if worker.process.is_alive():
                    continue  # the pipe woke us, but the message is not complete yet
                running.remove(worker)
                lost = worker.ended()
                if lost is not None:
                    on_result(lost, None, f"the process comparing it ended before it finished ({worker.how_it_ended()})")
                    if pending:  # a fresh worker for the rest
                        running.append(_Worker(context, function, initializer))
                        running[-1].give(pending.popleft())
    finally:
        _stop(running)


def _ready(running: list[_Worker]) -> list[_Worker]:
    """The workers with a message or an exit to handle (blocks until there is one)."""
    by_object: dict[Any, _Worker] = {}
    for worker in running:
        by_object[worker.connection] = worker
        by_object[worker.process.sentinel] = worker
    found: list[_Worker] = []
    for ready in wait(list(by_object)):
        if by_object[ready] not in found:
            found.append(by_object[ready])
    return found


class _Worker:
    """One worker process, its end of the pipe and the item it holds."""

    def __init__(self, context: Any, function: Callable[[Any], Any], initializer: Callable[[], None] | None) -> None:
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=_serve, args=(child_end, function, initializer), daemon=True)
        with _stop_signals_held(), _one_thread_libraries():
            self.process.start()
        child_end.close()
        self.task: int | None = None

    def give(self, task: tuple[int, Any]) -> None:
        self.task = task[0]
        self.connection.send(task[1])

    def finish(self) -> None:
        self.task = None
        with contextlib.suppress(OSError):
            self.connection.send(None)

    def answer(self) -> tuple[int, bool, Any] | None:
        """``(index, ok, result or why)`` when the worker has answered, else None."""
        try:
            if self.task is None or not self.connection.poll():
                return None
            ok, payload = self.connection.recv()
        except (EOFError, OSError):
            return None
        index, self.task = self.task, None
        return index, ok, payload

    def ended(self) -> int | None:
        """Collect the ended process; the index of the item it held, if any."""
        self.process.join()
        self.connection.close()
        return self.task

    def how_it_ended(self) -> str:
        code = self.process.exitcode
        if code is not None and code < 0:
            name = _signal_name(-code)
            if -code == getattr(signal, "SIGKILL", None):
                return f"killed by {name}, which the system also sends when memory runs out"
            return f"killed by {name}"
        if code is not None and code > 128 and _signal_name(code - 128) != f"signal {code - 128}":
            return f"stopped by {_signal_name(code - 128)}"
        return f"exit code {code}"


def _stop(running: list[_Worker]) -> None:
    """SIGTERM to every worker still running, then wait (killing any that outstays the grace)."""
    for worker in running:
        if worker.process.is_alive():
            with contextlib.suppress(OSError):
                worker.process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for worker in running:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()


#: The variables that set how many threads the numeric libraries a worker imports start
#: (OpenBLAS under NumPy, OpenMP, MKL). Read once, as the library loads.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_ENVIRONMENT_LOCK = threading.Lock()


@contextlib.contextmanager
def _one_thread_libraries() -> Iterator[None]:
    """Start a worker with one thread per numeric library (unless the user set their
    number): workers already fill every core, and OpenBLAS threads left spinning by one
    worker took the cores from the other (two workers on two cores ran no faster than
    one). A spawned process takes this environment as it starts; ours is put back."""
    with _ENVIRONMENT_LOCK:
        added = [name for name in THREAD_VARIABLES if name not in os.environ]
        for name in added:
            os.environ[name] = "1"
        try:
            yield
        finally:
            for name in added:
                os.environ.pop(name, None)


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Hold back the stop signals while a worker starts: the new process inherits the
    mask, so a Ctrl+C cannot reach it before it has set up its handlers; here the signal
    waits and arrives once the worker has started."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    # The first spawned process starts multiprocessing's resource tracker, which unblocks
    # SIGINT and SIGTERM when it is done; started beforehand, it leaves the mask alone.
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _serve(connection: Connection, function: Callable[[Any], Any], initializer: Callable[[], None] | None) -> None:
    """A worker's life: take an item, answer ``(True, result)`` or ``(False, why)``,
    until told to finish (None) or the parent is gone. SIGTERM ends it after the
    interrupted work has cleaned up."""
    for signum in STOP_SIGNALS:
        if signum != getattr(signal, "SIGTERM", None):
            signal.signal(signum, signal.SIG_IGN)  # the terminal's signals are the parent's to act on
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # a SIGTERM held back arrives here
        if initializer is not None:
            initializer()
        while True:
            try:
                item = connection.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            if item is None:
                return
            try:
                answer = (True, function(item))
            except Exception as exc:  # the parent names the item and the error
                answer = (False, f"{type(exc).__name__}: {exc}")
            connection.send(answer)
    except KeyboardInterrupt:
        # Files being written were removed while the exception unwound; nothing to flush.
        os._exit(128 + getattr(signal, "SIGTERM", 15))


def _interrupt(signum: int, frame: Any) -> None:
    signal.signal(signum, signal.SIG_IGN)  # one stop is enough; a second must not cut the cleanup short
    raise KeyboardInterrupt


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
