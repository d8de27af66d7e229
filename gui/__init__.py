"""Upscope's desktop viewer (PySide6 and pyqtgraph).

Shows what `core` computes; computes no pixels itself. Everything here runs on the Qt main
thread except the pool tasks of `ComparisonRunner`, which call only `core`.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Sequence

import core

from ._comparison_grid import ComparisonGrid
from ._main_window import MainWindow
from ._runner import ComparisonRunner, DiffOptions

__all__ = ["ComparisonGrid", "ComparisonRunner", "DiffOptions", "MainWindow", "run_viewer"]


def run_viewer(
    images: Sequence[str] = (), session: str | None = None, settings: core.ComparisonSettings | None = None
) -> int:
    """Open the window on ``images`` (or a saved ``session``, or the built-in test
    chart), with ``settings`` over the saved ones when given, and run until it closes;
    returns the exit status.

    Closing the window cancels the comparison and waits for it at most a second (an
    export being written gets up to 30 s to finish: `_runner.TASK_CLOSE_WAIT_MS`). A
    cancelled step that still runs after that (one long library call cannot be
    interrupted) would keep the process alive for nothing: the process then ends at once,
    without waiting for it.
    """
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("Upscope")
    app.setOrganizationName("Upscope")
    window = MainWindow()
    window.show()
    window.open_at_start(images, session, settings)
    status = app.exec()
    if not window.runner.idle:
        logging.getLogger(__name__).info("exiting with a cancelled step still running")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status
