"""Upscope's desktop viewer (PySide6 and pyqtgraph).

Shows what `core` computes; computes no pixels itself. Everything here runs on the Qt main
thread except the pool tasks of `ComparisonRunner`, which call only `core`.

- `MainWindow` (``_main_window``) puts the parts together; `WindowActions` (``_actions``)
  makes its commands, menus and toolbar.
- `ShownComparison` (``_shown_comparison``, no Qt) is what is on screen: the job, its
  results, screen copies and difference maps, and whether it is complete.
- `ComparisonRunner` (``_runner``) computes through `core` in thread pools and delivers on
  the main thread; `Exporter` (``_exporter``) writes figures, files and sessions.
- ``canvas/``: the grid of panels, its shared view and its tools (line and regions).
- ``docks/``: settings, images, metrics table, pixel inspector, line profile.
- ``_compute_menu`` and ``_help``: the Compute and Help menus.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

import core

from ._main_window import MainWindow
from ._runner import ComparisonRunner
from ._shown_comparison import DiffOptions, ShownComparison
from .canvas import ComparisonGrid

__all__ = ["ComparisonGrid", "ComparisonRunner", "DiffOptions", "MainWindow", "ShownComparison", "run_viewer"]


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
