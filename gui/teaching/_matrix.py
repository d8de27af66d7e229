"""The transposed convolution as a matrix (docs/METHODS.md#transposed-conv).

For a small input (up to 8x8, the top-left corner of the comparison's input, first
channel) and a kernel, stride and padding: the matrix ``C^T`` of the transposed
convolution as a heat map (rows: output pixels, columns: input pixels; non-zero entries
labelled), the input with ``s - 1`` zeros between its pixels and its frame, and ``C^T x``
reshaped, with how far it is from Upscope's own transposed convolution of the same
pixels. Hovering an output pixel outlines the flipped kernel where it sits on the
zero-inserted input and marks its row of ``C^T``. Computed in the runner's task pool.
Main thread only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

import core

from .._runner import LatestTask
from ..docks import guard_wheel

if TYPE_CHECKING:
    from .._main_window import MainWindow

#: Entries labelled with their value at most (a larger matrix shows the colours only).
MAX_LABELS = 400


class HoveredImage(pg.ImageItem):
    """An image item that says which of its pixels the mouse is over."""

    hovered = QtCore.Signal(int, int)  # row, column

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.setAcceptHoverEvents(True)

    def hoverEvent(self, event: Any) -> None:  # noqa: N802 (pyqtgraph's name)
        if not event.isExit():
            point = event.pos()
            self.hovered.emit(int(np.floor(point.y())), int(np.floor(point.x())))


@dataclass(frozen=True)
class MatrixLesson:
    """Everything the view draws: the input ``x`` (h, w) float64, the plan, ``C``
    (h*w, out pixels), ``C^T x`` reshaped, Upscope's own result, and the zero-inserted input."""

    x: np.ndarray
    plan: core.TransposedConvPlan
    matrix: np.ndarray
    product: np.ndarray
    upscope: np.ndarray
    spread: np.ndarray

    @property
    def largest_gap(self) -> float:
        return float(np.abs(self.product - self.upscope).max(initial=0.0))


def matrix_lesson(x: np.ndarray, stride: int, params: dict[str, Any]) -> MatrixLesson | str:
    """The lesson of input ``x`` (h, w) at ``stride`` with transposed-conv ``params``;
    or why there is none. Runs in a worker."""
    h, w = x.shape
    size = (h * stride, w * stride)
    try:
        matrix, plan = core.transposed_conv_matrix((h, w), size, **params)
        upscope = core.upsample(x.astype(np.float32), "transposed-conv", size=size, backend="cpu",
                                **params).astype(np.float64)
    except core.UpscopeError as exc:
        return str(exc)
    product = (matrix.T @ x.ravel()).reshape(plan.out_size)
    return MatrixLesson(x, plan, matrix, product, upscope, core.zero_inserted(x, plan))


class MatrixView(QtWidgets.QWidget):
    """Controls for the input size, stride, kernel and padding, and three heat maps."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.main = window
        self.spins: dict[str, QtWidgets.QSpinBox] = {}
        form = QtWidgets.QHBoxLayout()
        for name, low, high, value, tip in (
            ("height", 1, 8, 3, "input rows (the top-left corner of the comparison's input)"),
            ("width", 1, 8, 3, "input columns"),
            ("stride", 1, 4, 2, "the stride s: the scale"),
            ("kernel_size", 0, 8, 0, "taps per axis (0: the default for the kernel and stride)"),
            ("padding", -1, 8, -1, "rows and columns cropped from each side (-1: the default)"),
        ):
            box = QtWidgets.QSpinBox()
            guard_wheel(box)
            box.setRange(low, high)
            box.setValue(value)
            box.setToolTip(tip)
            box.valueChanged.connect(lambda _v: self.refresh())
            form.addWidget(QtWidgets.QLabel({"kernel_size": "k", "padding": "p", "stride": "s",
                                             "height": "h", "width": "w"}[name]))
            form.addWidget(box)
            self.spins[name] = box
        self.kernel = QtWidgets.QComboBox()
        guard_wheel(self.kernel)
        for name in ("bilinear", "box"):
            self.kernel.addItem(name, name)
        self.kernel.currentIndexChanged.connect(lambda _i: self.refresh())
        form.addWidget(self.kernel)
        self.maps = pg.GraphicsLayoutWidget()
        self.boxes: dict[str, pg.ViewBox] = {}
        self.images: dict[str, pg.ImageItem] = {}
        for column, (key, title) in enumerate((("matrix", "C\u1d40 (rows: output pixels, columns: input pixels)"),
                                               ("spread", "input with zeros inserted, and its frame"),
                                               ("product", "C\u1d40 x, reshaped"))):
            self.maps.addLabel(title, row=0, col=column)
            box = self.maps.addViewBox(row=1, col=column, lockAspect=True, invertY=True, enableMenu=False)
            image = HoveredImage(axisOrder="row-major")
            image.setColorMap(pg.colormap.get("viridis"))
            box.addItem(image)
            self.boxes[key], self.images[key] = box, image
        self.caption = QtWidgets.QLabel("")
        self.caption.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(self.maps, 1)
        layout.addWidget(self.caption)
        self._labels: list[tuple[str, pg.TextItem]] = []
        self._footprint = QtWidgets.QGraphicsRectItem()
        self._footprint.setPen(pg.mkPen(255, 80, 80, width=2, cosmetic=True))
        self.boxes["spread"].addItem(self._footprint)
        self._row = QtWidgets.QGraphicsRectItem()
        self._row.setPen(pg.mkPen(255, 80, 80, width=2, cosmetic=True))
        self.boxes["matrix"].addItem(self._row)
        self.images["product"].hovered.connect(self.show_output_pixel)
        #: What is drawn now, for the window's tests.
        self.shown: MatrixLesson | None = None
        self._task = LatestTask(window.runner, self._on_task_done, self.caption.setText, self)
        window.runner.prepared.connect(lambda _job: self.refresh())

    def params(self) -> dict[str, Any]:
        """The transposed convolution's parameters the controls say."""
        size, padding = self.spins["kernel_size"].value(), self.spins["padding"].value()
        return {"kernel": self.kernel.currentData(), "kernel_size": size or None,
                "padding": None if padding < 0 else padding}

    def refresh(self) -> None:
        """Compute the lesson for the controls and the comparison shown, while the dock can be seen."""
        dock = self.main.docks.get("matrix")
        if dock is None or not dock.isVisible():
            return
        h, w = self.spins["height"].value(), self.spins["width"].value()
        job = self.main.shown.job
        if job is not None:
            source = job.comparison.input
            crop = np.asarray(source[:h, :w], dtype=np.float64)
            x = crop[:, :, 0] if crop.ndim == 3 else crop
        else:
            x = np.arange(h * w, dtype=np.float64).reshape(h, w) + 1
        if x.shape != (h, w):  # an input smaller than asked: a ramp of the size asked
            x = np.arange(h * w, dtype=np.float64).reshape(h, w) + 1
        stride, params = self.spins["stride"].value(), self.params()
        self._task.run(lambda: matrix_lesson(x, stride, params))

    def _on_task_done(self, value: object) -> None:
        if isinstance(value, MatrixLesson):
            self.draw(value)
        else:
            self.shown = None
            self.caption.setText(str(value))

    def draw(self, lesson: MatrixLesson) -> None:
        self.shown = lesson
        for key, label in self._labels:
            self.boxes[key].removeItem(label)
        self._labels.clear()
        transposed = lesson.matrix.T
        self.images["matrix"].setImage(transposed, levels=_levels(transposed))
        self.images["spread"].setImage(lesson.spread, levels=_levels(lesson.spread))
        self.images["product"].setImage(lesson.product, levels=_levels(lesson.product))
        rows, cols = np.nonzero(transposed)
        if rows.size <= MAX_LABELS:
            for r, c in zip(rows, cols):
                self._label("matrix", c + 0.5, r + 0.5, f"{transposed[r, c]:.3g}")
        if lesson.spread.size <= MAX_LABELS:
            for (r, c), value in np.ndenumerate(lesson.spread):
                self._label("spread", c + 0.5, r + 0.5, f"{value:.3g}" if value else "0")
        for key in self.boxes:
            self.boxes[key].autoRange(padding=0.02)
        self._footprint.hide()
        self._row.hide()
        plan = lesson.plan
        self.caption.setText(
            f"{lesson.x.shape[1]}x{lesson.x.shape[0]} input, kernel {plan.kernel.shape[1]}x{plan.kernel.shape[0]}, "
            f"stride {plan.strides[1]}, padding {plan.padding[1]}: C is {lesson.matrix.shape[0]}x{lesson.matrix.shape[1]}, "
            f"C\u1d40 x is {plan.out_size[1]}x{plan.out_size[0]} and equals Upscope's transposed convolution of the same "
            f"pixels to within {lesson.largest_gap:.2g}. Hover an output pixel to see its row of C\u1d40 and the "
            "flipped kernel on the zero-inserted input.")

    def show_output_pixel(self, y: int, x: int) -> None:
        """Outline output pixel ``(y, x)``'s row of ``C^T`` and its kernel window."""
        lesson = self.shown
        if lesson is None or not (0 <= y < lesson.plan.out_size[0] and 0 <= x < lesson.plan.out_size[1]):
            return
        width = lesson.matrix.shape[0]
        row = y * lesson.plan.out_size[1] + x
        self._row.setRect(QtCore.QRectF(0, row, width, 1))
        kh, kw = lesson.plan.kernel.shape
        self._footprint.setRect(QtCore.QRectF(x, y, kw, kh))
        self._row.show()
        self._footprint.show()

    def _label(self, key: str, x: float, y: float, text: str) -> None:
        label = pg.TextItem(text, color=(255, 255, 255), anchor=(0.5, 0.5))
        label.setPos(x, y)
        label.setFont(QtGui.QFont("", 7))
        self.boxes[key].addItem(label)
        self._labels.append((key, label))


def _levels(values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
    return (low, high) if high > low else (low, low + 1.0)
