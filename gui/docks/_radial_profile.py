"""The radial power profile: how each image's energy falls with spatial frequency, one
curve per image (the reference and every method) in the panels' colours, power on a log
scale against cycles per pixel from 0 to 0.5 (docs/METHODS.md#spectrum). As in the line
profile, the legend is a list under the plot (untick an entry to hide its curve), so
long method names never cover the curves.

Main thread only: it draws the profiles it is given (`core.radial_profile`, computed off
the GUI thread) and computes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..canvas import REFERENCE_KEY
from ._line_profile import legend_swatch, plot_with_legend

_KEY_ROLE = QtCore.Qt.ItemDataRole.UserRole

#: The highest frequency a sampled image holds (Nyquist), in cycles per pixel.
NYQUIST = 0.5


class RadialProfilePlot(QtWidgets.QWidget):
    """A pyqtgraph plot with one curve per image and a legend: the mean power of its
    spectrum in rings of equal frequency."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setLogMode(x=False, y=True)
        self.plot.setLabel("bottom", "spatial frequency (cycles per pixel)")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setLabel("left", "power (luma, windowed)")
        self.plot.getAxis("left").setToolTip(
            "Mean of |F|\u00b2 over each ring of frequencies, divided by the number of pixels, on a log scale.")
        self.plot.setXRange(0.0, NYQUIST, padding=0.01)
        self.plot.setLimits(xMin=0.0, xMax=NYQUIST)
        self.plot.setMinimumHeight(120)
        self.hint, self.legend = plot_with_legend(
            self, self.plot, "The radial power of every image appears here as the comparison runs.",
            "Untick a curve to hide it.",
        )
        self.curves: dict[str, pg.PlotDataItem] = {}
        #: What each curve draws: frequency (cycles per pixel) and power, finite and positive.
        self.data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        #: Keys whose curves the user hid; kept across comparisons.
        self.hidden: set[str] = set()
        self._entries: list[tuple[str, str, str]] = []
        #: The profile each curve draws now, as it was given.
        self._drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.legend.itemChanged.connect(self._on_legend_changed)

    def clear(self) -> None:
        self.plot.clear()
        self.curves.clear()
        self.data.clear()
        self._drawn.clear()
        self._show_legend([])
        self.hint.show()

    def show_profiles(
        self,
        profiles: Mapping[str, tuple[np.ndarray, np.ndarray]],
        labels: Mapping[str, str],
        colours: Mapping[str, QtGui.QColor],
    ) -> None:
        """Draw ``profiles`` (by panel key: frequencies in cycles per pixel, mean power),
        in the order given, each labelled and coloured as its panel; rings without
        power (none fell in them, or a flat image) are left out of the log plot."""
        entries = [(key, labels.get(key, key), QtGui.QColor(colours.get(key, QtGui.QColor("white"))).name())
                   for key in profiles]
        if entries != self._entries:
            for key in [k for k in self.curves if k not in profiles]:
                self.plot.removeItem(self.curves.pop(key))
                self.data.pop(key, None)
                self._drawn.pop(key, None)
            self._show_legend(entries)
        for key, label, colour in entries:
            if self._drawn.get(key) is profiles[key]:  # drawn already: redrawing costs the GUI thread
                continue
            frequency, power = profiles[key]
            keep = np.isfinite(power) & (power > 0)
            self.data[key] = (frequency[keep], power[keep])
            reference = key == REFERENCE_KEY
            pen = pg.mkPen(colour, width=2 if reference else 1.5,
                           style=QtCore.Qt.PenStyle.DashLine if reference else QtCore.Qt.PenStyle.SolidLine)
            curve = self.curves.get(key)
            if curve is None:
                curve = self.curves[key] = self.plot.plot(*self.data[key], pen=pen, name=label)
            else:
                curve.setData(*self.data[key])
                curve.setPen(pen)
            self._drawn[key] = profiles[key]
            curve.setVisible(key not in self.hidden)
        self.hint.setVisible(not entries)
        self.plot.enableAutoRange(axis="y")

    def legend_labels(self) -> list[str]:
        """The legend's entries, in order."""
        return [self.legend.item(row).text() for row in range(self.legend.count())]

    def _show_legend(self, entries: list[tuple[str, str, str]]) -> None:
        """One checkable entry per curve, in panel order: its swatch and label."""
        self._entries = entries
        with QtCore.QSignalBlocker(self.legend):
            self.legend.clear()
            for key, label, colour in entries:
                item = QtWidgets.QListWidgetItem(legend_swatch(QtGui.QColor(colour), key == REFERENCE_KEY), label)
                item.setData(_KEY_ROLE, key)
                item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(QtCore.Qt.CheckState.Unchecked if key in self.hidden else QtCore.Qt.CheckState.Checked)
                self.legend.addItem(item)

    def _on_legend_changed(self, item: QtWidgets.QListWidgetItem) -> None:
        key = item.data(_KEY_ROLE)
        shown = item.checkState() == QtCore.Qt.CheckState.Checked
        if shown:
            self.hidden.discard(key)
        else:
            self.hidden.add(key)
        curve = self.curves.get(key)
        if curve is not None:
            curve.setVisible(shown)
        self.plot.enableAutoRange(axis="y")
