"""The Sampling grid dock: where a method samples the input for each output pixel
(`core.sampling_grid`, docs/METHODS.md#explain), drawn over the input's pixel grid.

Input pixels are the squares (their centres dotted, their indices written); output
pixels are the dashed squares; each output pixel's sampling point is a filled dot,
joined to the output pixel's centre (a ring) when the two differ, so half-pixel centres,
corner alignment and nearest's floor mapping can be seen. The coordinates are computed in
the runner's task pool. Main thread only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

import core

from .._runner import LatestTask
from ..docks import guard_wheel

if TYPE_CHECKING:
    from .._main_window import MainWindow

#: The seed examples of the Teach menu: title, method, input (h, w), output (h, w).
EXAMPLES = (
    ("2x2 at x2: half-pixel centres (bilinear)", "bilinear", (2, 2), (4, 4)),
    ("2x2 at x2: corners aligned (align_corners=True)", "bilinear-aligned", (2, 2), (4, 4)),
    ("3x3 to 4x4: nearest's floor mapping", "nearest", (3, 3), (4, 4)),
    ("3x3 to 4x4: nearest by pixel centres", "nearest-exact", (3, 3), (4, 4)),
)
#: The largest input side the view draws (each input pixel must stay readable).
MAX_SIDE = 16


@dataclass(frozen=True)
class Sampling:
    """What the view draws: the method, the sizes, and the source coordinates of the
    output rows and columns (None on an axis without them)."""

    method: str
    in_size: tuple[int, int]
    out_size: tuple[int, int]
    rows: np.ndarray | None
    columns: np.ndarray | None


def sampling(method: str, in_size: tuple[int, int], out_size: tuple[int, int]) -> Sampling | str:
    """`core.sampling_grid` of ``method``, or why there is none. Runs in a worker."""
    try:
        rows, columns = core.sampling_grid(method, in_size, size=out_size)
    except core.UpscopeError as exc:
        return str(exc)
    return Sampling(method, in_size, out_size, rows, columns)


class SamplingGrid(QtWidgets.QWidget):
    """Choose a method and sizes; see where its output pixels sample the input."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.main = window
        self.method = QtWidgets.QComboBox()
        guard_wheel(self.method)
        for spec in core.list_methods():
            if spec.explain is not None and spec.id != "max-unpool":  # max unpooling has no source coordinate
                self.method.addItem(spec.label, spec.id)
        self.sizes = {name: QtWidgets.QSpinBox() for name in ("in_h", "in_w", "out_h", "out_w")}
        for name, box in self.sizes.items():
            guard_wheel(box)
            box.setRange(1, MAX_SIDE if name.startswith("in") else MAX_SIDE * 8)
            box.setToolTip({"in_h": "input height", "in_w": "input width", "out_h": "output height",
                            "out_w": "output width"}[name])
        self.plot = pg.PlotWidget()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "x (input pixels)")
        self.plot.setLabel("left", "y (input pixels)")
        self.caption = QtWidgets.QLabel("")
        self.caption.setWordWrap(True)
        sizes = QtWidgets.QHBoxLayout()
        for text, a, b in (("in", "in_h", "in_w"), ("out", "out_h", "out_w")):
            sizes.addWidget(QtWidgets.QLabel(text))
            sizes.addWidget(self.sizes[a])
            sizes.addWidget(QtWidgets.QLabel("x"))
            sizes.addWidget(self.sizes[b])
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.method)
        layout.addLayout(sizes)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        #: What is drawn now, for the window's tests.
        self.shown: Sampling | None = None
        self._task = LatestTask(window.runner, self._on_task_done, self._on_task_failed, self)
        self._items: list[QtWidgets.QGraphicsItem] = []
        self.show_example(0)
        self.method.currentIndexChanged.connect(lambda _i: self.refresh())
        for box in self.sizes.values():
            box.valueChanged.connect(lambda _v: self.refresh())

    def show_example(self, index: int) -> None:
        """Show seed example ``index`` of `EXAMPLES`."""
        _title, method, (in_h, in_w), (out_h, out_w) = EXAMPLES[index]
        widgets = [self.method, *self.sizes.values()]
        for widget in widgets:
            widget.blockSignals(True)
        self.method.setCurrentIndex(max(self.method.findData(method), 0))
        for name, value in zip(("in_h", "in_w", "out_h", "out_w"), (in_h, in_w, out_h, out_w)):
            self.sizes[name].setValue(value)
        for widget in widgets:
            widget.blockSignals(False)
        self.refresh()

    def show_current(self) -> None:
        """The comparison's method and scale: the method selected in Settings (else the
        first ticked one this view can draw) on the top-left corner of the comparison's
        input, up to 8x8 pixels, at the comparison's scale."""
        panel = self.main.settings_panel
        wanted = [panel.selected_method(), *panel.comparison_settings().method_choices()]
        ids = [c if isinstance(c, str) else c.id for c in wanted if c]
        method = next((i for i in ids if self.method.findData(i) >= 0), self.method.currentData())
        job = self.main.shown.job
        in_h, in_w = (8, 8) if job is None else (min(8, job.comparison.input.shape[0]), min(8, job.comparison.input.shape[1]))
        sy, sx = (4.0, 4.0) if job is None else job.comparison.scale
        widgets = [self.method, *self.sizes.values()]
        for widget in widgets:
            widget.blockSignals(True)
        self.method.setCurrentIndex(max(self.method.findData(method), 0))
        for name, value in (("in_h", in_h), ("in_w", in_w), ("out_h", round(in_h * sy)), ("out_w", round(in_w * sx))):
            self.sizes[name].setValue(value)
        for widget in widgets:
            widget.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Compute the grid for the controls, while the dock can be seen."""
        dock = self.main.docks.get("sampling")
        if dock is None or not dock.isVisible():
            return
        method = self.method.currentData()
        in_size = (self.sizes["in_h"].value(), self.sizes["in_w"].value())
        out_size = (self.sizes["out_h"].value(), self.sizes["out_w"].value())
        self._task.run(lambda: sampling(method, in_size, out_size))

    def _on_task_done(self, value: object) -> None:
        if isinstance(value, Sampling):
            self.draw(value)
        else:
            self.caption.setText(str(value))

    def _on_task_failed(self, message: str) -> None:
        self.caption.setText(message)

    def draw(self, sampling: Sampling) -> None:
        """Input pixels as squares around their centres (pixel i's centre at i, as the source
        coordinates count), output pixels dashed, each output centre a ring and where it
        samples a dot. Lines go in a few batched items, whatever the sizes."""
        self.shown = sampling
        for item in self._items:
            self.plot.removeItem(item)
        self._items.clear()
        (in_h, in_w), (out_h, out_w) = sampling.in_size, sampling.out_size
        ry, rx = in_h / out_h, in_w / out_w
        self._lines([(x - 0.5, -0.5, x - 0.5, in_h - 0.5) for x in range(in_w + 1)]
                    + [(-0.5, y - 0.5, in_w - 0.5, y - 0.5) for y in range(in_h + 1)], pg.mkPen(170, 170, 170, width=1.5))
        self._lines([(x * rx - 0.5, -0.5, x * rx - 0.5, in_h - 0.5) for x in range(out_w + 1)]
                    + [(-0.5, y * ry - 0.5, in_w - 0.5, y * ry - 0.5) for y in range(out_h + 1)],
                    pg.mkPen(90, 160, 255, width=1, style=QtCore.Qt.PenStyle.DashLine))
        cx_in, cy_in = np.meshgrid(np.arange(in_w), np.arange(in_h))
        self._add(pg.ScatterPlotItem(cx_in.ravel(), cy_in.ravel(), size=5, brush=pg.mkBrush(170, 170, 170), pen=None))
        if in_w * in_h <= 36:
            for j in range(in_h):
                for i in range(in_w):
                    label = pg.TextItem(f"({j},{i})", color=(150, 150, 150), anchor=(0.5, -0.3))
                    label.setPos(i, j)
                    self._add(label)
        label = core.get_method(sampling.method).label
        if sampling.rows is None or sampling.columns is None:
            self.caption.setText(f"{label} has no source coordinates to draw.")
            return
        sx, sy = np.meshgrid(sampling.columns, sampling.rows)
        cx, cy = np.meshgrid((np.arange(out_w) + 0.5) * rx - 0.5, (np.arange(out_h) + 0.5) * ry - 0.5)
        moved = (np.abs(sx - cx) > 1e-9) | (np.abs(sy - cy) > 1e-9)
        self._lines(list(zip(cx[moved], cy[moved], sx[moved], sy[moved])), pg.mkPen(255, 200, 0, width=1))
        self._add(pg.ScatterPlotItem(cx.ravel(), cy.ravel(), size=9, brush=None, pen=pg.mkPen(90, 160, 255, width=1.5)))
        self._add(pg.ScatterPlotItem(sx.ravel(), sy.ravel(), size=8, brush=pg.mkBrush(255, 200, 0), pen=None))
        self.plot.getViewBox().setRange(QtCore.QRectF(-1.0, -1.0, in_w + 1, in_h + 1), padding=0)
        first = ", ".join(f"{v:g}" for v in np.round(sampling.columns[: min(out_w, 6)], 4))
        self.caption.setText(
            f"{label}, {in_w}x{in_h} to {out_w}x{out_h}: output columns sample input x = {first}"
            f"{', ...' if out_w > 6 else ''} (input pixel centres at 0, 1, ...). Rings: output pixel centres; "
            "dots: where they sample; dashed: output pixels.")

    def _lines(self, segments: list[tuple[float, float, float, float]], pen: object) -> None:
        """Draw ``segments`` ``(x0, y0, x1, y1)`` as one item."""
        if not segments:
            return
        xs = np.array([[a, c] for a, _b, c, _d in segments], np.float64).ravel()
        ys = np.array([[b, d] for _a, b, _c, d in segments], np.float64).ravel()
        self._add(pg.PlotCurveItem(xs, ys, pen=pen, connect="pairs"))

    def _add(self, item: QtWidgets.QGraphicsItem) -> None:
        self.plot.addItem(item)
        self._items.append(item)

