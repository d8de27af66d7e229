"""Plugin methods run in a process of their own, one per plugin, so that one which hangs
or crashes can be stopped without touching Upscope (docs/METHODS.md#your-own-methods).

The process imports the plugin (its file, or its installed module) once, with Upscope's
own methods, and then serves calls: the image, the output size and the parameters go in
through a pipe, the result comes back the same way. A call that does not finish within
``core.limits.plugin_seconds``, or whose comparison is cancelled, stops the process; the
next call starts a fresh one. A thread cannot be stopped from outside in Python; a
process can.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import multiprocessing
import threading
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from core.common.cancel import CancelledError, check_cancelled
from core.common.errors import PluginError
from core.common.limits import limits

#: Where a plugin comes from: ``("file", absolute path)`` or ``("entry", "module:attr")``.
Origin = tuple[str, str]


def where_in(exc: BaseException, origin: Origin) -> str:
    """" (line N of FILE)" for the innermost frame of ``exc``'s traceback inside the
    plugin's own file (any frame when the plugin is an installed module), if any."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if origin[0] != "file" or Path(f.filename) == Path(origin[1])]
    if not own:
        return ""
    last = own[-1]
    return f" (line {last.lineno} of {Path(last.filename).name})"


def import_plugin(origin: Origin, module_name: str) -> None:
    """Import the plugin of ``origin`` here: its decorators register its methods."""
    kind, where = origin
    if kind == "file":
        spec = importlib.util.spec_from_file_location(module_name, where)
        if spec is None or spec.loader is None:
            raise ImportError(f"{where}: not a Python file Python can load")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return
    loaded = importlib.metadata.EntryPoint(name="plugin", value=where, group="upscope.methods").load()
    if callable(loaded):
        loaded()


def _serve(origin: Origin, module_name: str, connection: Any) -> None:
    """The plugin process: import the plugin, then answer ``(method_id, image, size,
    params)`` requests with ``(True, result)`` or ``(False, message)``."""
    from core.methods.registry import get_method

    try:
        import_plugin(origin, module_name)
        failure = None
    except BaseException as exc:  # reported with every request: the plugin cannot run
        failure = f"failed to load again in its process: {type(exc).__name__}: {exc}{where_in(exc, origin)}"
    connection.send(READY)  # the time limit of a call starts now, not while Python starts
    while True:
        try:
            method_id, image, size, params = connection.recv()
        except (EOFError, OSError):
            return
        if failure is not None:
            connection.send((False, failure))
            continue
        try:
            value = get_method(method_id).function(image, size, **params)
        except BaseException as exc:  # everything the plugin raises goes back as a message
            connection.send((False, f"raised {type(exc).__name__}: {exc}{where_in(exc, origin)}"))
            continue
        try:
            connection.send((True, value))
        except Exception as exc:  # a result that cannot be pickled
            connection.send((False, f"returned {type(value).__name__}, which cannot be passed back ({exc})"))


#: What a plugin process says once it has imported its plugin.
READY = ("ready", None)
#: The longest a plugin process may take to start and import its plugin.
START_SECONDS = 60.0


class PluginProcess:
    """The process of one plugin: started on the first call, stopped by `stop`, by a
    call that runs out of time or is cancelled, or when it dies. One call at a time."""

    def __init__(self, origin: Origin, module_name: str) -> None:
        self.origin, self.module_name = origin, module_name
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Any = None

    def call(self, who: str, method_id: str, image: np.ndarray, size: tuple[int, int], params: dict[str, Any]) -> Any:
        """The plugin's ``method_id`` on ``image``; `PluginError` (naming ``who``) when it
        raises, dies, or does not finish within ``core.limits.plugin_seconds``."""
        with self._lock:
            if self._process is None or not self._process.is_alive():
                self._start()
                # Starting Python and importing the plugin is not the method's time.
                self._wait(who, max(START_SECONDS, limits.plugin_seconds), "start")
                self._receive(who)
            self._connection.send((method_id, image, tuple(size), dict(params)))
            self._wait(who, limits.plugin_seconds, "finish")
            ok, payload = self._receive(who)
        if not ok:
            raise PluginError(f"{who}: {payload}")
        return payload

    def _wait(self, who: str, seconds: float, what: str) -> None:
        """Wait for the process's next message, at most ``seconds``; a cancelled comparison
        or a process that ended or ran out of time is stopped and raises."""
        deadline = time.monotonic() + seconds
        while not self._connection.poll(0.05):
            try:
                check_cancelled()
            except CancelledError:
                self._stop()
                raise
            if not self._process.is_alive():
                self._ended(who)
            if time.monotonic() > deadline:
                self._stop()
                raise PluginError(f"{who}: did not {what} within {seconds:g} s; it was stopped")

    def _receive(self, who: str) -> Any:
        try:
            return self._connection.recv()
        except (EOFError, OSError):  # the pipe closed: the process ended
            self._ended(who)

    def _ended(self, who: str) -> NoReturn:
        """Raise the `PluginError` of a process that ended during a call."""
        self._process.join(timeout=5)
        code = self._process.exitcode
        self._stop()
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        raise PluginError(f"{who}: its process ended ({how}) before it returned")

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(self.origin, self.module_name, child), daemon=True,
                                  name=f"upscope plugin {Path(self.origin[1]).name}")
        process.start()
        child.close()
        self._process, self._connection = process, parent

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=5)
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None

    def stop(self) -> None:
        """Stop the process (a plugin that was removed or loaded again). Not under the
        call lock: a call waiting on a hung plugin sees its process end and says so."""
        process = self._process
        if process is not None:
            process.kill()
