"""The Conventions dock: two methods (two libraries' versions of one, say) side by side on
the comparison's input, the map of where they differ, and a sentence on why
(`core.compare_pair`, docs/METHODS.md#conventions).

The pair is computed in the runner's analysis pool while the dock can be seen; the three
panels share one zoom (a `ComparisonGrid` of their own). Main thread only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtWidgets

import core

from ..canvas import ComparisonGrid
from ..docks import guard_wheel

if TYPE_CHECKING:
    from .._main_window import MainWindow

#: The panel keys (apart from the main grid's, whose zoomed-out copies share the runner).
KEYS = ("lab-first", "lab-second", "lab-difference")
HINT = "Open an image: the two methods chosen above run on its input at the comparison's scale."


@dataclass(frozen=True)
class PairPictures:
    """A `core.PairComparison` with the display copies of its three images."""

    pair: core.PairComparison
    first: np.ndarray
    second: np.ndarray
    difference: core.DifferenceDisplay


def pair_pictures(first: str, second: str, comparison: core.Comparison) -> PairPictures | str:
    """Both methods on the comparison's input at its output size, and what the panels
    show; or why they could not run. Runs in a worker."""
    try:
        pair = core.compare_pair(comparison.input, first, second, size=comparison.output_size)
    except core.UpscopeError as exc:
        return str(exc)
    shown = core.colorize_difference(pair.difference, "abs", pair.first.dtype, gain=8.0)
    return PairPictures(pair, core.to_display(pair.first), core.to_display(pair.second), shown)


class ConventionsLab(QtWidgets.QWidget):
    """Pick two methods; see both and where they differ, with the reason."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.main = window
        self.first, self.second = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        for combo, which in ((self.first, "first"), (self.second, "second")):
            guard_wheel(combo)
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
            combo.setToolTip(f"The {which} method: Upscope's own, or a library's convention (LIBRARY:NAME)")
        self.fill_methods()
        self.choose("opencv:lanczos4", "pillow:lanczos")  # they differ at every scale
        swap = QtWidgets.QToolButton()
        swap.setText("\u21c4")
        swap.setToolTip("Swap the two methods")
        swap.clicked.connect(lambda: self.choose(self.second.currentData(), self.first.currentData()))
        self.grid = ComparisonGrid()
        self.why = QtWidgets.QLabel(HINT)
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.first, 1)
        row.addWidget(swap)
        row.addWidget(self.second, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.why)
        #: What the panels show now (None: nothing yet), for the window's tests.
        self.shown: PairPictures | None = None
        self._asked: tuple[str, str, int] | None = None
        self.first.currentIndexChanged.connect(lambda _i: self.refresh())
        self.second.currentIndexChanged.connect(lambda _i: self.refresh())
        window.runner.prepared.connect(lambda _job: self.refresh())
        self.grid.level_needed.connect(self._on_level_needed)
        window.runner.level_ready.connect(self._on_level_ready)

    def fill_methods(self) -> None:
        """Offer every registered method, the libraries' conventions last."""
        chosen = (self.first.currentData(), self.second.currentData())
        for combo in (self.first, self.second):
            with QtCore.QSignalBlocker(combo):
                combo.clear()
                for spec in core.list_methods():
                    combo.addItem(f"{spec.label} ({spec.id})" if spec.family == "library" else spec.label, spec.id)
        if all(chosen):
            self.choose(*chosen)

    def choose(self, first: str, second: str) -> None:
        """Compare methods ``first`` and ``second`` (ids)."""
        for combo, method in ((self.first, first), (self.second, second)):
            index = combo.findData(method)
            if index >= 0:
                with QtCore.QSignalBlocker(combo):
                    combo.setCurrentIndex(index)
        self.refresh()

    def refresh(self) -> None:
        """Ask for the pair chosen, on the comparison shown, while the dock can be seen."""
        job = self.main.shown.job
        dock = self.main.docks.get("conventions")
        if job is None or dock is None or not dock.isVisible() or dock.visibleRegion().isEmpty():
            return
        asked = (self.first.currentData(), self.second.currentData(), job.job_id)
        if asked == self._asked or None in asked:
            return
        self._asked = asked
        self.why.setText(f"Running {self.first.currentText()} and {self.second.currentText()}...")
        self.main.runner.run_for_job(functools.partial(pair_pictures, asked[0], asked[1]),
                                       functools.partial(self._on_pair, asked))

    def _on_pair(self, asked: tuple[str, str, int], value: object) -> None:
        if asked != self._asked:
            return
        if not isinstance(value, PairPictures):
            self.shown = None
            self.grid.set_panels([], (1, 1))  # the pair before must not stand for this one
            self.why.setText(f"Cannot compare these two here: {value}")
            return
        self.shown = value
        pair = value.pair
        height, width = pair.difference.shape
        entries = [(KEYS[0], self.first.currentText()), (KEYS[1], self.second.currentText()),
                   (KEYS[2], "Where they differ (x8)")]
        self.grid.set_panels(entries, (height, width))
        pictures = ((value.first, pair.first), (value.second, pair.second), (value.difference.rgb, pair.difference))
        for (key, _label), (display, values) in zip(entries, pictures):
            panel = self.grid.panel(key)
            if panel is not None:
                panel.set_image(display, values)
        self.grid.apply_view()
        if pair.differing == 0:
            summary = "They agree on every pixel here."
        else:
            summary = (f"They differ on {pair.differing} of {pair.difference.size} pixels ({pair.share:.1%}), "
                       f"by up to {pair.largest:g}.")
        self.why.setText(f"{summary} {pair.why}")

    def _on_level_needed(self, key: str, source: np.ndarray, window: core.DisplayWindow) -> None:
        panel = self.grid.panel(key)
        if panel is not None and panel.image_item.array is source:
            self.main.runner.reduce(key, source, window)

    def _on_level_ready(self, key: str, source: np.ndarray, window: core.DisplayWindow, level: np.ndarray) -> None:
        panel = self.grid.panel(key)
        if panel is not None and panel.image_item.array is source:
            panel.image_item.set_level(window, level)
