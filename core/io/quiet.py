"""Keeping the image libraries' own console output off the terminal.

libpng and libjpeg print their warnings and errors straight to the process's standard
error (file descriptor 2), below Python, and OpenCV logs there too. While a file is
decoded, descriptor 2 points to a temporary file instead; what the libraries wrote is
handed back to the caller, who turns it into Upscope's own message (or drops it).

Descriptor 2 belongs to the whole process, so decodes that capture it take turns (a
lock), and anything another thread writes to standard error during a decode is taken as
the library's: it is rare (decodes take milliseconds to a second) and never a crash.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

import cv2

_LOCK = threading.Lock()
_MAX_CAPTURED = 64 * 1024


@contextlib.contextmanager
def library_output_captured() -> Iterator[list[str]]:
    """Within the block, standard error is captured; on leaving it, the list yielded holds
    the lines written meanwhile (at most 64 KiB of them). Where descriptor 2 cannot be
    redirected (a process without one), the block runs with OpenCV's logging silenced only."""
    lines: list[str] = []
    with _LOCK:
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        try:
            with _descriptor_2_captured(lines):
                yield lines
        finally:
            cv2.utils.logging.setLogLevel(level)


@contextlib.contextmanager
def _descriptor_2_captured(lines: list[str]) -> Iterator[None]:
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    try:
        sink = tempfile.TemporaryFile()
    except OSError:  # no writable temporary folder: decode uncaptured rather than fail
        yield
        return
    with sink:
        try:
            saved = os.dup(2)
        except OSError:
            yield
            return
        try:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(saved)
        sink.seek(0)
        text = sink.read(_MAX_CAPTURED).decode("utf-8", "replace")
        lines.extend(line for line in text.splitlines() if line.strip())
