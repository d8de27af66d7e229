"""The line profile: intensity along the user's line for the reference and every method.

Main thread only; it samples pixels with `core.line_samples` / `core.line_profile`. The
legend is a list beside the plot, not over it: untick an entry to hide its curve (max
unpooling's spikes can dwarf the others); a hidden curve stays hidden when the line moves.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

import core

from ..canvas import REFERENCE_KEY

_KEY_ROLE = QtCore.Qt.ItemDataRole.UserRole


def legend_swatch(colour: QtGui.QColor, dashed: bool) -> QtGui.QIcon:
    """A short line in the curve's colour and style, for the legend."""
    pixmap = QtGui.QPixmap(22, 10)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    pen = QtGui.QPen(colour, 2.5)
    if dashed:
        pen.setStyle(QtCore.Qt.PenStyle.DashLine)
    painter.setPen(QtGui.QPen(QtGui.QColor(0, 0, 0, 120), 4.5))  # a dark edge: white stays visible
    painter.drawLine(1, 5, 21, 5)
    painter.setPen(pen)
    painter.drawLine(1, 5, 21, 5)
    painter.end()
    return QtGui.QIcon(pixmap)


def plot_with_legend(
    owner: QtWidgets.QWidget, plot: pg.PlotWidget, hint: str, legend_tip: str
) -> tuple[QtWidgets.QLabel, QtWidgets.QListWidget]:
    """Lay out ``owner`` as a curve dock: a hint line, then ``plot`` over a wrapping list
    of checkable legend entries (``legend_tip`` its tooltip), split so both stay shown.
    Returns the hint label and the legend list."""
    plot.showGrid(x=True, y=True, alpha=0.25)
    label = QtWidgets.QLabel(hint)
    label.setWordWrap(True)
    legend = QtWidgets.QListWidget()
    legend.setFlow(QtWidgets.QListView.Flow.LeftToRight)
    legend.setWrapping(True)
    legend.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
    legend.setSpacing(1)
    legend.setToolTip(legend_tip)
    splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    splitter.addWidget(plot)
    splitter.addWidget(legend)
    splitter.setStretchFactor(0, 4)
    splitter.setStretchFactor(1, 1)
    splitter.setChildrenCollapsible(False)
    layout = QtWidgets.QVBoxLayout(owner)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.addWidget(label)
    layout.addWidget(splitter, 1)
    return label, legend


class LineProfilePlot(QtWidgets.QWidget):
    """A pyqtgraph plot with one curve per image, in the panels' colours, and a legend
    list of checkable entries under it."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "distance along the line", units="px")
        self.plot.setLabel("left", "intensity")
        self.plot.setMinimumHeight(120)  # shorter, its axis labels would overlap
        self.hint, self.legend = plot_with_legend(
            self, self.plot, "Turn on the line tool (L) and drag across any panel.",
            "Untick a curve to hide it; it stays hidden when the line moves.",
        )
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        #: Keys whose curves the user hid; kept across lines and comparisons.
        self.hidden: set[str] = set()
        self._legend_entries: list[tuple[str, str, str]] = []
        self.legend.itemChanged.connect(self._on_legend_changed)

    def clear(self) -> None:
        self.plot.clear()
        self.curves.clear()
        self.data.clear()
        self._show_legend([])

    def update_profile(
        self,
        start: tuple[float, float] | None,
        end: tuple[float, float] | None,
        images: Mapping[str, np.ndarray],
        labels: Mapping[str, str],
        colours: Mapping[str, QtGui.QColor],
    ) -> None:
        """Plot every image of ``images`` along ``start -> end`` (image ``(x, y)``);
        curves the user hid are drawn hidden."""
        if start is None or end is None or not images:
            self.clear()
            self.hint.show()
            return
        self.hint.hide()
        for key in set(self.curves) - set(images):
            self.plot.removeItem(self.curves.pop(key))
            self.data.pop(key, None)
        entries = []
        for key, image in images.items():
            samples = core.line_samples(start, end, image.shape[:2])
            values = core.line_profile(image, samples)
            self.data[key] = (samples.distance, values)
            colour = colours.get(key, QtGui.QColor("white"))
            style = QtCore.Qt.PenStyle.DashLine if key == REFERENCE_KEY else QtCore.Qt.PenStyle.SolidLine
            pen = pg.mkPen(colour, width=2 if key == REFERENCE_KEY else 1.5, style=style)
            curve = self.curves.get(key)
            if curve is None:
                curve = self.curves[key] = self.plot.plot(samples.distance, values, pen=pen, name=labels.get(key, key))
            else:
                curve.setData(samples.distance, values)
                curve.setPen(pen)
            curve.setVisible(key not in self.hidden)
            entries.append((key, labels.get(key, key), QtGui.QColor(colour).name()))
        units = core.image_units(next(iter(images.values())).dtype)
        self.plot.setLabel("left", f"intensity ({units})")
        self.plot.getAxis("left").setToolTip(f"Mean of the colour channels at each pixel, in {units}.")
        self._show_legend(entries)
        self.plot.enableAutoRange()

    def set_curve_shown(self, key: str, shown: bool) -> None:
        """Show or hide the curve of ``key`` (and tick or untick its legend entry)."""
        if shown:
            self.hidden.discard(key)
        else:
            self.hidden.add(key)
        curve = self.curves.get(key)
        if curve is not None:
            curve.setVisible(shown)
        item = self.legend_item(key)
        state = QtCore.Qt.CheckState.Checked if shown else QtCore.Qt.CheckState.Unchecked
        if item is not None and item.checkState() != state:
            with QtCore.QSignalBlocker(self.legend):
                item.setCheckState(state)
        self.plot.enableAutoRange()  # fit the curves still shown

    def shown_keys(self) -> list[str]:
        """Keys of the curves drawn now, in legend order."""
        return [key for key, _, _ in self._legend_entries if key in self.curves and self.curves[key].isVisible()]

    def legend_item(self, key: str) -> QtWidgets.QListWidgetItem | None:
        for row in range(self.legend.count()):
            if self.legend.item(row).data(_KEY_ROLE) == key:
                return self.legend.item(row)
        return None

    def _show_legend(self, entries: list[tuple[str, str, str]]) -> None:
        """One checkable entry per curve: its swatch and label (rebuilt only when they change)."""
        if entries == self._legend_entries:
            return
        self._legend_entries = entries
        with QtCore.QSignalBlocker(self.legend):
            self.legend.clear()
            for key, label, colour in entries:
                item = QtWidgets.QListWidgetItem(legend_swatch(QtGui.QColor(colour), key == REFERENCE_KEY), label)
                item.setData(_KEY_ROLE, key)
                item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(QtCore.Qt.CheckState.Unchecked if key in self.hidden else QtCore.Qt.CheckState.Checked)
                item.setToolTip(f"Untick to hide the curve of {label}.")
                self.legend.addItem(item)

    def _on_legend_changed(self, item: QtWidgets.QListWidgetItem) -> None:
        self.set_curve_shown(item.data(_KEY_ROLE), item.checkState() == QtCore.Qt.CheckState.Checked)
