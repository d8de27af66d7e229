"""Upscope's desktop viewer (PySide6 and pyqtgraph).

Shows what `core` computes; computes no pixels itself. Everything here runs on the Qt main
thread except the pool tasks of `ComparisonRunner`, which call only `core`.
"""

from __future__ import annotations

import sys
from typing import Sequence

from ._comparison_grid import ComparisonGrid
from ._main_window import MainWindow
from ._runner import ComparisonRunner, DiffOptions

__all__ = ["ComparisonGrid", "ComparisonRunner", "DiffOptions", "MainWindow", "run_viewer"]


def run_viewer(images: Sequence[str] = (), session: str | None = None) -> int:
    """Open the window on ``images`` (or a saved ``session``, or the built-in test
    chart) and run until it closes; returns the exit status."""
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("Upscope")
    app.setOrganizationName("Upscope")
    window = MainWindow()
    window.show()
    if session is not None:
        window.exporter.open_session(session)
        if images:
            window.open_paths(list(images))
    elif images:
        window.open_paths(list(images))
    else:
        window.open_chart("test-chart")
    return app.exec()
