"""The histogram dock: counts of a panel's values per channel, or of every panel's
overlaid, drawn from histograms `core.histogram` made off the GUI thread.

Main thread only; it draws what its `HistogramModel` holds and says what the user chose
through `changed`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ._models import HistogramModel

#: Curve colours of one panel's channels.
CHANNEL_COLOURS = {"R": "#ff5050", "G": "#50d050", "B": "#5090ff", "A": "#c0c0c0", "L": "#e0e0e0", "luma": "#e0e0e0"}
_CHANNEL_CHOICES = (("Each channel", "all"), ("Red", "R"), ("Green", "G"), ("Blue", "B"), ("Alpha", "A"), ("Luma", "luma"))


class HistogramDock(QtWidgets.QWidget):
    """A plot of counts against value, with what to count above it."""

    changed = QtCore.Signal()  # the user chose another source, channel or scale

    def __init__(self, model: HistogramModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.source = QtWidgets.QComboBox()
        self.source.setToolTip("Whose values are counted: the panel under the cursor, every panel overlaid, or one panel")
        self.channel = QtWidgets.QComboBox()
        for text, name in _CHANNEL_CHOICES:
            self.channel.addItem(text, name)
        self.channel.setToolTip("Which channel is counted (luma: 0.299 R + 0.587 G + 0.114 B)")
        self.log_counts = QtWidgets.QCheckBox("Log counts")
        self.log_counts.setToolTip("Counts on a logarithmic scale: rare values stay visible")
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "value")
        self.plot.setLabel("left", "pixels")
        self.plot.setMinimumHeight(80)
        self.plot.setMinimumWidth(120)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMouseEnabled(x=True, y=False)
        self._curves: list[pg.PlotCurveItem] = []
        self.caption = QtWidgets.QLabel("")
        self.caption.setWordWrap(True)
        # Narrow combos on two rows: the dock must not widen the window's side column.
        for combo in (self.source, self.channel):
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        top = QtWidgets.QGridLayout()
        top.addWidget(self.source, 0, 0, 1, 2)
        top.addWidget(self.channel, 1, 0)
        top.addWidget(self.log_counts, 1, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.set_panels([], {})
        self.source.currentIndexChanged.connect(self._on_choice)
        self.channel.currentIndexChanged.connect(self._on_choice)
        self.log_counts.toggled.connect(self._on_choice)

    def set_panels(self, keys: list[str], labels: dict[str, str]) -> None:
        """Offer these panels as sources (besides the cursor's and all of them)."""
        chosen = self.model.source
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem("Panel under the cursor", "cursor")
        self.source.addItem("All panels overlaid", "all")
        for key in keys:
            self.source.addItem(labels.get(key, key), key)
        index = self.source.findData(chosen)
        self.source.setCurrentIndex(max(index, 0))
        self.model.source = self.source.currentData()
        self.source.blockSignals(False)

    def _on_choice(self) -> None:
        self.model.source = self.source.currentData() or "cursor"
        # Overlaid panels draw one curve each: "each channel" of them all is each one's luma.
        first = "Luma of each" if self.model.source == "all" else _CHANNEL_CHOICES[0][0]
        self.channel.setItemText(self.channel.findData("all"), first)
        self.model.channel = self.channel.currentData() or "all"
        self.model.log_counts = self.log_counts.isChecked()
        self.changed.emit()

    def curve_data(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """What each curve of the plot draws now: its bin edges and heights."""
        return [(curve.xData, curve.yData) for curve in self._curves]

    def draw(self, keys: list[str], labels: dict[str, str], colours: dict[str, QtGui.QColor]) -> None:
        """Draw the model's curves for the panels ``keys`` (labels and colours by key)."""
        curves = self.model.curves(keys, labels)
        self.model.shown = curves
        # Curves are kept and given new data: making pyqtgraph items costs milliseconds each.
        while len(self._curves) > len(curves):
            self.plot.removeItem(self._curves.pop())
        single = len({key for _, key, _, _ in curves}) == 1
        units = ""
        for index, (_label, key, name, hist) in enumerate(curves):
            counts = hist.of(name).astype(np.float64)
            if self.model.log_counts:
                counts = np.log10(counts + 1.0)
            colour = CHANNEL_COLOURS.get(name, "#e0e0e0") if single else colours.get(key, QtGui.QColor("white"))
            pen = pg.mkPen(colour, width=1.5)
            if index == len(self._curves):
                curve = pg.PlotCurveItem(hist.edges, counts, stepMode="center", pen=pen)
                self.plot.addItem(curve)
                self._curves.append(curve)
            else:
                self._curves[index].setData(hist.edges, counts, stepMode="center", pen=pen)
            units = hist.span_text()
        self.plot.setLabel("left", "log10(pixels + 1)" if self.model.log_counts else "pixels")
        if not curves:
            wanted = self.model.keys_wanted(keys)
            self.caption.setText("Counting..." if wanted else "Open an image, then hover a panel.")
            return
        if single:
            label = curves[0][0]
            names = ", ".join(name for _, _, name, _ in curves)
            self.caption.setText(f"{label}: {names}, values {units}")
        else:
            self.caption.setText(f"{len(curves)} panels, {curves[0][2]}, in the panels' colours, values {units}")
