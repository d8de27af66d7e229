"""The teaching views: the Conventions lab, the sampling grid, the transposed convolution
as a matrix, and the lessons, with the Teach menu that opens them (docs/METHODS.md#explain,
#conventions, #transposed-conv). Each view lives in a dock of the window, hidden until
opened; each computes nothing on the GUI thread. Main thread only.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from ._conventions import ConventionsLab
from ._lessons import LESSONS, Lesson
from ._matrix import MatrixView
from ._sampling_grid import EXAMPLES, SamplingGrid

if TYPE_CHECKING:
    from .._main_window import MainWindow

__all__ = ["LESSONS", "Lesson", "TeachingViews"]


class TeachingViews(QtCore.QObject):
    """The docks of the teaching views and the Teach menu of ``window``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.conventions = ConventionsLab(window)
        self.sampling = SamplingGrid(window)
        self.matrix = MatrixView(window)
        self.lesson_text = QtWidgets.QTextBrowser()
        self.lesson_text.setOpenExternalLinks(True)
        bottom, right = QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, QtCore.Qt.DockWidgetArea.RightDockWidgetArea
        self.docks = {
            "conventions": self._dock("conventions", "Conventions", self.conventions, bottom),
            "sampling": self._dock("sampling", "Sampling grid", self.sampling, right),
            "matrix": self._dock("matrix", "Transposed convolution as a matrix", self.matrix, bottom),
            "lesson": self._dock("lesson", "Lesson", self.lesson_text, right),
        }
        for key, view in (("conventions", self.conventions), ("matrix", self.matrix), ("sampling", self.sampling)):
            self.docks[key].visibilityChanged.connect(functools.partial(self._on_visible, view))
        # The wide views share the bottom with the metrics table, as tabs (`tab_side_docks`).
        self.menu = QtWidgets.QMenu("&Teach", window)
        self.menu.addAction("Conventions lab: two methods side by side", lambda: self.show("conventions"))
        self.menu.addAction("Transposed convolution as a matrix", lambda: self.show("matrix"))
        grid_menu = self.menu.addMenu("Sampling grid")
        grid_menu.addAction("The selected method at the comparison's scale", self.show_current_grid)
        grid_menu.addSeparator()
        for index, (title, *_rest) in enumerate(EXAMPLES):
            grid_menu.addAction(title, functools.partial(self.show_example, index))
        self.menu.addSeparator()
        lessons = self.menu.addMenu("Lessons")
        for lesson in LESSONS:
            lessons.addAction(lesson.title, functools.partial(self.open_lesson, lesson))

    def _dock(self, key: str, title: str, widget: QtWidgets.QWidget, area: QtCore.Qt.DockWidgetArea
              ) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self.window)
        dock.setObjectName(f"dock-{key}")
        dock.setWidget(widget)
        self.window.addDockWidget(area, dock)
        dock.hide()  # opened from the Teach menu (or the View menu's list of docks)
        self.window.docks[key] = dock
        return dock

    @staticmethod
    def _on_visible(view: ConventionsLab | MatrixView | SamplingGrid, visible: bool) -> None:
        """A view computes only while its dock can be seen: it catches up when shown."""
        if visible:
            view.refresh()

    def show(self, key: str) -> QtWidgets.QDockWidget:
        """Show dock ``key`` in front of any it is tabbed with."""
        dock = self.docks[key]
        dock.show()
        dock.raise_()
        if key in ("conventions", "matrix"):  # images and heat maps need room: half the window's height
            self.window.resizeDocks([dock], [int(self.window.height() * 0.45)], QtCore.Qt.Orientation.Vertical)
        if key == "conventions":
            self.conventions.refresh()
        elif key == "matrix":
            self.matrix.refresh()
        elif key == "sampling":
            self.sampling.refresh()
        return dock

    def show_current_grid(self) -> None:
        """Open the Sampling grid on the selected method at the comparison's scale."""
        self.show("sampling")
        self.sampling.show_current()

    def show_example(self, index: int) -> None:
        """Open the Sampling grid on seed example ``index``."""
        self.show("sampling")
        self.sampling.show_example(index)

    def open_lesson(self, lesson: Lesson) -> None:
        """Show ``lesson``'s settings, compare its chart, turn on its views and show its page."""
        window = self.window
        panel = window.settings_panel
        panel.apply_settings(lesson.settings)
        panel.show_diff.setChecked(lesson.difference_maps)
        window.spectrum_view.set_shown(lesson.spectrum)
        # The page's title as a small heading: a dock is narrow.
        self.lesson_text.setMarkdown(lesson.page().replace("# ", "### ", 1))
        self.show("lesson")
        window.open_chart(lesson.chart)
