"""The line profile: intensity along the user's line for the reference and every method.

Main thread only; it samples pixels with `core.line_samples` / `core.line_profile`.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

import core


class LineProfilePlot(QtWidgets.QWidget):
    """A pyqtgraph plot with one curve per image, in the panels' colours."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "distance along the line", units="px")
        self.plot.setLabel("left", "intensity (mean of colour channels)")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-5, 5), labelTextSize="7pt", brush=(0, 0, 0, 170), verSpacing=-6)
        self.hint = QtWidgets.QLabel("Turn on the line tool (L) and drag across any panel.")
        self.hint.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.hint)
        layout.addWidget(self.plot, 1)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.data: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def clear(self) -> None:
        self.plot.clear()
        self.curves.clear()
        self.data.clear()

    def update_profile(
        self,
        start: tuple[float, float] | None,
        end: tuple[float, float] | None,
        images: Mapping[str, np.ndarray],
        labels: Mapping[str, str],
        colours: Mapping[str, QtGui.QColor],
    ) -> None:
        """Plot every image of ``images`` along ``start -> end`` (image ``(x, y)``)."""
        self.clear()
        if start is None or end is None or not images:
            self.hint.show()
            return
        self.hint.hide()
        for key, image in images.items():
            samples = core.line_samples(start, end, image.shape[:2])
            values = core.line_profile(image, samples)
            self.data[key] = (samples.distance, values)
            colour = colours.get(key, QtGui.QColor("white"))
            style = QtCore.Qt.PenStyle.DashLine if key == "reference" else QtCore.Qt.PenStyle.SolidLine
            pen = pg.mkPen(colour, width=2 if key == "reference" else 1.5, style=style)
            self.curves[key] = self.plot.plot(samples.distance, values, pen=pen, name=labels.get(key, key))
