"""Every action of the window, and the menus and toolbar built from them.

One place says each command's text, keys, where its keys work and what it calls. The
window's commands answer anywhere in the window; the view keys (F, 1, +, -, the arrows)
only while the grid or a panel has the focus, so the same keys still type into the
settings. The Compute and Help menus keep their own entries (`ComputeMenu`, `HelpMenu`);
this module puts them in the menu bar. Main thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

import core

from .canvas import ZOOM_STEP

if TYPE_CHECKING:
    from ._main_window import MainWindow

Keys = QtGui.QKeySequence.StandardKey | str
#: How far (screen pixels) one press of an arrow key pans the view.
PAN_STEP_PX = 60.0


def make_action(
    owner: QtWidgets.QWidget,
    text: str,
    slot: Callable[..., object],
    keys: Sequence[Keys] = (),
    *,
    checkable: bool = False,
    scope: QtCore.Qt.ShortcutContext = QtCore.Qt.ShortcutContext.WindowShortcut,
) -> QtGui.QAction:
    """An action of ``owner`` saying ``text``, run by ``keys`` where ``scope`` says: a
    checkable one calls ``slot(checked)`` when toggled, any other ``slot()`` when
    triggered."""
    action = QtGui.QAction(text, owner)
    action.setShortcuts([QtGui.QKeySequence(key) for key in keys])
    action.setShortcutContext(scope)
    action.setCheckable(checkable)
    if checkable:
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())
    owner.addAction(action)
    return action


def _one_at_a_time(*actions: QtGui.QAction) -> None:
    """Checking one of ``actions`` unchecks the others."""
    for action in actions:
        others = [other for other in actions if other is not action]

        def uncheck_others(on: bool, others: list[QtGui.QAction] = others) -> None:
            if on:
                for other in others:
                    other.setChecked(False)

        action.toggled.connect(uncheck_others)


class WindowActions:
    """The window's actions, by what they do, and its menus and toolbar."""

    def __init__(self, window: MainWindow) -> None:
        standard = QtGui.QKeySequence.StandardKey
        grid, panel, exporter, sources = window.grid, window.settings_panel, window.exporter, window.sources

        # Files and exports.
        self.open = make_action(window, "&Open...", sources.open_dialog, [standard.Open])
        self.paste = make_action(window, "&Paste image", sources.paste, [standard.Paste])
        self.open_session = make_action(window, "Open &session...", exporter.open_session_dialog)
        self.save_session = make_action(window, "&Save session...", exporter.save_session_dialog, [standard.Save])
        self.input_limit = make_action(window, "&Largest image to open...", sources.limit_dialog)
        own = window.own_methods
        self.add_model = make_action(window, "Add &model...", own.add_model_dialog)
        self.add_model.setToolTip("Compare a network of your own: an ONNX model or a PyTorch checkpoint")
        self.add_result = make_action(window, "Add res&ult image...", own.add_result_dialog)
        self.add_result.setToolTip("Compare an image another tool made from this one (Ctrl+drop an image does the same)")
        self.add_plugin = make_action(window, "Add P&ython methods...", own.add_plugin_dialog)
        self.add_plugin.setToolTip("Run a Python file whose functions register methods with core.register_method")
        self.export_comparison = make_action(window, "&Export comparison PNG...", exporter.export_dialog, ["Ctrl+E"])
        self.export_paper = make_action(window, "Export &paper figure...", exporter.paper_dialog, ["Ctrl+Shift+E"])
        self.export_results = make_action(window, "Export results, maps and me&trics...", exporter.results_dialog)
        self.open_evaluation = make_action(window, "Open e&valuation...", window.evaluation.open_dialog)
        self.open_evaluation.setToolTip("Show the summary and rows of an evaluation made with --evaluate")
        self.quit = make_action(window, "&Quit", window.close, [standard.Quit])
        self.samples = [self._sample(window, chart) for chart in core.list_charts()]

        # The view: keys that act on the panels.
        def view(text: str, slot: Callable[[], object], keys: Sequence[str]) -> QtGui.QAction:
            return make_action(grid, text, slot, keys, scope=QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self.fit = view("&Fit", grid.fit, ["F"])
        self.one_to_one = view("&One to one", grid.one_to_one, ["1"])
        self.zoom_in = view("Zoom &in", lambda: grid.zoom_by(ZOOM_STEP), ["+", "="])
        self.zoom_out = view("Zoom &out", lambda: grid.zoom_by(1 / ZOOM_STEP), ["-"])
        self.pans = [
            view("Pan left", lambda: grid.pan_by_screen(-PAN_STEP_PX, 0), ["Left"]),
            view("Pan right", lambda: grid.pan_by_screen(PAN_STEP_PX, 0), ["Right"]),
            view("Pan up", lambda: grid.pan_by_screen(0, -PAN_STEP_PX), ["Up"]),
            view("Pan down", lambda: grid.pan_by_screen(0, PAN_STEP_PX), ["Down"]),
        ]

        # The grid's tools: both take the drag, so one at a time.
        self.line_tool = make_action(window, "&Line profile tool", grid.set_line_mode, ["L"], checkable=True)
        self.clear_line = make_action(window, "Clear profile line", lambda: grid.set_line(None, None))
        self.region_tool = make_action(window, "Mark &regions (paper figure)", grid.set_region_mode, ["R"], checkable=True)
        self.clear_regions = make_action(window, "Clear regions", lambda: grid.set_regions([]))
        _one_at_a_time(self.line_tool, self.region_tool)

        # Difference maps, the same switch as the settings' checkbox.
        self.difference_maps = make_action(window, "&Difference maps", panel.set_maps_shown, ["D"], checkable=True)
        self.difference_maps.setChecked(panel.maps_shown())
        panel.maps_shown_changed.connect(self.difference_maps.setChecked)
        # Each panel's spectrum instead of its image ("F" fits the view).
        self.spectrum = make_action(window, "&Spectrum view", window.spectrum_view.set_shown, ["Shift+F"], checkable=True)
        self.spectrum.setToolTip("Show each panel's centred log-magnitude spectrum (luma, windowed) instead of its image")
        window.spectrum_view.shown_changed.connect(self.spectrum.setChecked)

        self.recent_menu = QtWidgets.QMenu("Open &recent", window)
        self._build_menus(window)

    @staticmethod
    def _sample(window: MainWindow, chart: core.ChartSpec) -> QtGui.QAction:
        action = make_action(window, chart.label, lambda: window.sources.open_chart(chart.id))
        action.setToolTip(chart.description)
        return action

    def _build_menus(self, window: MainWindow) -> None:
        menu = window.menuBar()
        files = menu.addMenu("&File")
        files.addAction(self.open)
        files.addMenu(self.recent_menu)
        for action in (self.paste, self.open_session, self.save_session):
            files.addAction(action)
        files.addSeparator()
        for action in (self.add_model, self.add_result, self.add_plugin):
            files.addAction(action)
        files.addSeparator()
        files.addAction(self.input_limit)
        files.addAction(self.open_evaluation)
        files.addSeparator()
        for action in (self.export_comparison, self.export_paper, self.export_results):
            files.addAction(action)
        files.addSeparator()
        files.addAction(self.quit)
        samples = menu.addMenu("&Samples")
        for action in self.samples:
            samples.addAction(action)
        view = menu.addMenu("&View")
        for action in (self.fit, self.one_to_one, self.zoom_in, self.zoom_out):
            view.addAction(action)
        pan_menu = view.addMenu("Pan")
        for action in self.pans:
            pan_menu.addAction(action)
        view.addSeparator()
        for action in (self.line_tool, self.clear_line, self.region_tool, self.clear_regions, self.difference_maps):
            view.addAction(action)
        view.addAction(self.spectrum)
        view.addSeparator()
        for dock in window.docks.values():
            view.addAction(dock.toggleViewAction())
        menu.addMenu(window.teaching.menu)
        menu.addMenu(window.compute.menu)
        menu.addMenu(window.help.menu)

        toolbar = window.addToolBar("Main")
        toolbar.setObjectName("toolbar-main")
        for action in (self.open, self.fit, self.one_to_one, self.zoom_in, self.zoom_out, self.line_tool,
                       self.region_tool, self.difference_maps):
            toolbar.addAction(action)
        toolbar.addAction(self.spectrum)

    def show_recent(self, paths: Sequence[str], open_paths: Callable[[list[str]], None]) -> None:
        """List ``paths`` under File > Open recent; choosing one calls ``open_paths``."""
        self.recent_menu.clear()
        for path in paths:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: open_paths([p]))
        self.recent_menu.setEnabled(bool(paths))
