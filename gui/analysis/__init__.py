"""The analysis views of the window: swipe and blink between two panels, the histogram
dock, and the channel view and exposure applied to every panel.

`AnalysisViews` adds them to a `MainWindow`: a "Compare" and a "Display" toolbar, the
swipe/blink view in place of the grid while it is on, and the histogram dock. Every
picture it needs (a channel, an exposure, a histogram) is made by `core` in the runner's
task pool; what is shown lives in the Qt-free models of `_models`. Main thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

import core

from .._actions import make_action
from ..canvas import REFERENCE_KEY
from ._compare_view import CompareView
from ._histogram_dock import HistogramDock
from ._models import BLINK_RATES, CompareModel, DisplayAdjustment, HistogramModel

if TYPE_CHECKING:
    from .._main_window import MainWindow

__all__ = ["AnalysisViews", "CompareModel", "CompareView", "DisplayAdjustment", "HistogramDock", "HistogramModel"]

_CHANNEL_TEXT = {"rgb": "RGB", "R": "Red", "G": "Green", "B": "Blue", "A": "Alpha", "luma": "Luma"}


class AnalysisViews(QtCore.QObject):
    """Swipe, blink, histograms, channel views and exposure for ``window``."""

    adjusted = QtCore.Signal(str)  # panel key whose picture now follows the display adjustment

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window, self.grid, self.runner, self.shown = window, window.grid, window.runner, window.shown
        self.compare = CompareModel()
        self.adjustment = DisplayAdjustment()
        self.histograms = HistogramModel(histograms={})
        self._tasks: dict[int, Callable[[object], None]] = {}
        self._adjusted: dict[str, tuple[np.ndarray, DisplayAdjustment, np.ndarray]] = {}
        self._adjusting: set[tuple[str, int, DisplayAdjustment]] = set()
        self._counting: set[tuple[str, int]] = set()
        self._counted: dict[str, np.ndarray] = {}
        #: What the swipe/blink view's readout says: panel key, row, column, its values.
        self.hovered_readout: tuple[str, int, int, tuple[float, ...] | None] | None = None
        self._last_compare_hover: tuple[float, float] | None = None

        self.view = CompareView(self.grid, self.compare)
        self.view.hide()
        # Over the grid while it is on: the two share one place, the view on top and opaque,
        # so the grid keeps its layout and coming back to it costs no re-layout of its panels.
        self.view.setAutoFillBackground(True)
        holder = self.grid.parentWidget()
        layout = holder.layout() if holder is not None else None
        if isinstance(layout, QtWidgets.QBoxLayout):
            place = QtWidgets.QWidget(holder)
            stack = QtWidgets.QStackedLayout(place)
            stack.setStackingMode(QtWidgets.QStackedLayout.StackingMode.StackAll)
            stack.setContentsMargins(0, 0, 0, 0)
            layout.insertWidget(layout.indexOf(self.grid), place, 1)
            layout.removeWidget(self.grid)
            stack.addWidget(self.grid)
            stack.addWidget(self.view)
            self.view.hide()
        self.histogram_dock_widget = HistogramDock(self.histograms)
        dock = QtWidgets.QDockWidget("Histogram", window)
        dock.setObjectName("dock-histogram")
        dock.setWidget(self.histogram_dock_widget)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        window.docks["histogram"] = dock
        # A tab beside the pixel inspector, put there when the window is first shown
        # (`MainWindow.tab_side_docks`): the grid keeps its room.
        self.histogram_dock = dock
        # Many changes in one turn of the event loop (every panel's result) draw once.
        self._draw_timer = QtCore.QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(0)
        self._draw_timer.timeout.connect(self._draw_histograms)
        self.blink_timer = QtCore.QTimer(self)
        self.blink_timer.timeout.connect(self._on_blink_tick)
        self._build_controls(window)
        self._connect()

    # Controls ------------------------------------------------------------------------------

    def _build_controls(self, window: MainWindow) -> None:
        self.swipe_action = make_action(window, "&Swipe two panels", lambda on: self._set_mode("swipe", on), checkable=True)
        self.swipe_action.setToolTip("Show two panels in one view, split by a divider you drag (W)")
        self.swipe_action.setShortcut(QtGui.QKeySequence("W"))
        self.blink_action = make_action(window, "B&link two panels", lambda on: self._set_mode("blink", on), checkable=True)
        self.blink_action.setToolTip("Show two panels in one view, in turn, at the rate set")
        self.blink_once_action = make_action(window, "Blink: show the other panel", self.blink_once, ["B"])
        self.blink_once_action.setToolTip("Show the other of the two panels now (starts blinking if it is off)")
        self.orientation_action = make_action(window, "Horizontal divider", self._set_horizontal, checkable=True)
        self.orientation_action.setToolTip("Split the swipe view top and bottom instead of left and right")
        self.pick_a, self.pick_b = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        for combo, which in ((self.pick_a, "first"), (self.pick_b, "second")):
            combo.setToolTip(f"The {which} panel of the swipe or blink view")
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumContentsLength(8)
            combo.activated.connect(self._on_picked)
        self.rate = QtWidgets.QDoubleSpinBox()
        self.rate.setRange(*BLINK_RATES)
        self.rate.setSingleStep(0.5)
        self.rate.setDecimals(2)
        self.rate.setSuffix(" Hz")
        self.rate.setValue(self.compare.blink_hz)
        self.rate.setToolTip("How many times a second blinking changes the image")
        self.rate.valueChanged.connect(self._on_rate)
        self.auto_blink = QtWidgets.QCheckBox("Auto")
        self.auto_blink.setChecked(True)
        self.auto_blink.setToolTip("Blink by itself at the rate set; off, only the B key changes the image")
        self.auto_blink.toggled.connect(lambda _on: self._sync_timer())

        self.channel = QtWidgets.QComboBox()
        for name in core.CHANNEL_VIEWS:
            self.channel.addItem(_CHANNEL_TEXT[name], name)
        self.channel.setToolTip("Show one channel of every panel, as grey (display only)")
        self.exposure = QtWidgets.QDoubleSpinBox()
        self.exposure.setRange(-20.0, 20.0)
        self.exposure.setSingleStep(0.5)
        self.exposure.setDecimals(1)
        self.exposure.setPrefix("EV ")
        self.exposure.setToolTip("Exposure in stops: every value is shown times 2^EV (display only; the inspector keeps "
                                 "the image's values)")
        self.offset = QtWidgets.QDoubleSpinBox()
        self.offset.setRange(-1.0, 1.0)
        self.offset.setSingleStep(0.05)
        self.offset.setDecimals(2)
        self.offset.setPrefix("+")
        self.offset.setToolTip("Offset added after the exposure, as a fraction of full white (display only)")
        self.reset_display = make_action(window, "Reset display", self.reset_adjustment)
        self.reset_display.setToolTip("All channels, exposure 0, offset 0")
        for control in (self.exposure, self.offset):
            control.setKeyboardTracking(False)
            control.valueChanged.connect(self._on_adjustment)
        self.channel.currentIndexChanged.connect(self._on_adjustment)
        self.action_group = [self.swipe_action, self.blink_action]
        for action, short in ((self.swipe_action, "Swipe"), (self.blink_action, "Blink"),
                              (self.orientation_action, "Horizontal"), (self.reset_display, "Reset")):
            action.setIconText(short)

        window.addToolBarBreak()
        compare = window.addToolBar("Compare")
        compare.setObjectName("toolbar-compare")
        compare.addAction(self.swipe_action)
        compare.addAction(self.blink_action)
        compare.addWidget(self.pick_a)
        compare.addWidget(QtWidgets.QLabel(" vs "))
        compare.addWidget(self.pick_b)
        compare.addAction(self.orientation_action)
        compare.addWidget(self.rate)
        compare.addWidget(self.auto_blink)
        display = window.addToolBar("Display")
        display.setObjectName("toolbar-display")
        display.addWidget(QtWidgets.QLabel("Channel "))
        display.addWidget(self.channel)
        display.addWidget(self.exposure)
        display.addWidget(self.offset)
        display.addAction(self.reset_display)
        self.toolbars = (compare, display)
        for action in (window.commands.fit, window.commands.one_to_one, window.commands.zoom_in,
                       window.commands.zoom_out, *window.commands.pans):
            self.view.addAction(action)
        view_menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&View"), None)
        if isinstance(view_menu, QtWidgets.QMenu):
            view_menu.addSeparator()
            for action in (self.swipe_action, self.blink_action, self.blink_once_action, self.orientation_action,
                           self.reset_display, self.histogram_dock.toggleViewAction()):
                view_menu.addAction(action)

    def _connect(self) -> None:
        runner = self.runner
        # Connected after the presenter's slots: the panels hold the new pictures by then.
        runner.prepared.connect(self._on_prepared)
        self.grid.panel_hovered.connect(lambda key, _x, _y: self._set_hovered_key(key))
        runner.result_ready.connect(lambda payload: self._on_panel_changed(payload.result.choice_key))
        runner.diff_ready.connect(lambda key, _payload: self._on_panel_changed(key))
        runner.level_ready.connect(self.view.set_level)
        runner.task_done.connect(self._on_task_done)
        runner.task_failed.connect(self._on_task_failed)
        self.window.settings_panel.display_changed.connect(self._on_all_panels_changed)
        self.view.level_needed.connect(runner.reduce)
        self.view.hovered.connect(self._on_compare_hover)
        self.grid.hovered.connect(self._on_grid_hover)
        self.histogram_dock_widget.changed.connect(self.update_histograms)

    # Work off the GUI thread -----------------------------------------------------------------

    def _run(self, work: Callable[[], object], deliver: Callable[[object], None]) -> None:
        self._tasks[self.runner.run_task(work)] = deliver

    def _on_task_done(self, task_id: int, value: object) -> None:
        deliver = self._tasks.pop(task_id, None)
        if deliver is not None:
            deliver(value)

    def _on_task_failed(self, task_id: int, message: str) -> None:
        if self._tasks.pop(task_id, None) is not None:
            self.window.message_bar.show_message(f"Could not draw the analysis view: {message}")

    # Which values each panel shows ---------------------------------------------------------------

    def panel_keys(self) -> list[str]:
        return list(self.grid.panels)

    def values_of(self, key: str) -> np.ndarray | None:
        """The image a panel shows (its own values: the reference, or a method's result)."""
        job = self.shown.job
        if job is None:
            return None
        if key == REFERENCE_KEY:
            return job.reference_values
        result = self.shown.results.get(key)
        return result.image if result is not None and result.ok else None

    def _plain_display(self, key: str) -> np.ndarray | None:
        job = self.shown.job
        if job is None:
            return None
        return job.reference_display if key == REFERENCE_KEY else self.shown.displays.get(key)

    def _labels(self) -> dict[str, str]:
        return {key: panel.label for key, panel in self.grid.panels.items()}

    # Comparison changes -------------------------------------------------------------------------

    def _on_prepared(self, _job: object) -> None:
        self._adjusted.clear()
        self._counted = {}
        self.histograms.histograms = {}
        keys = self.panel_keys()
        labels = self._labels()
        self.compare.choose(keys, REFERENCE_KEY)
        for combo in (self.pick_a, self.pick_b):
            combo.clear()
            for key in keys:
                combo.addItem(labels[key], key)
        self._show_picks()
        self.histogram_dock_widget.set_panels(keys, labels)
        self._on_all_panels_changed()

    def refresh_panels(self) -> None:
        """Show every panel through the adjustment again (after a view that drew
        something else on them, such as the spectra)."""
        self._on_all_panels_changed()

    def _on_all_panels_changed(self) -> None:
        for key in self.panel_keys():
            self._apply_adjustment(key)
        self._after_panels_changed()

    def _on_panel_changed(self, key: str) -> None:
        self._apply_adjustment(key)
        self._after_panels_changed()

    def _after_panels_changed(self) -> None:
        self.view.refresh()
        self.update_histograms()

    # Channel view and exposure -----------------------------------------------------------------

    def set_adjustment(self, adjustment: DisplayAdjustment) -> None:
        """Show every panel through ``adjustment`` (the pictures come from workers)."""
        self.adjustment = adjustment
        for control, value in ((self.exposure, adjustment.exposure), (self.offset, adjustment.offset)):
            control.blockSignals(True)
            control.setValue(value)
            control.blockSignals(False)
        self.channel.blockSignals(True)
        self.channel.setCurrentIndex(max(self.channel.findData(adjustment.channel), 0))
        self.channel.blockSignals(False)
        self._on_all_panels_changed()

    def reset_adjustment(self) -> None:
        self.set_adjustment(DisplayAdjustment())

    def _on_adjustment(self) -> None:
        self.set_adjustment(DisplayAdjustment(self.channel.currentData() or "rgb", self.exposure.value(), self.offset.value()))

    def _apply_adjustment(self, key: str) -> None:
        """Give panel ``key`` the picture of its values through the adjustment: at once
        when it is plain or already made, else when a worker has made it."""
        panel, values = self.grid.panel(key), self.values_of(key)
        job = self.shown.job
        if panel is None or values is None or job is None or self.shown.shown_diff(key) is not None:
            return
        spectra = getattr(self.window, "spectrum_view", None)
        if spectra is not None and spectra.shown:
            return  # the panels show spectra; the adjustment comes back with the images
        height, width = job.comparison.output_size
        adjustment = self.adjustment
        if adjustment.is_plain:
            plain = self._plain_display(key)
            if plain is not None and panel.image_item.array is not plain:
                panel.set_image(plain, values, width, height)
                self.adjusted.emit(key)
            return
        made = self._adjusted.get(key)
        if made is not None and made[0] is values and made[1] == adjustment:
            if panel.image_item.array is not made[2]:
                panel.set_image(made[2], values, width, height)
            self.adjusted.emit(key)
            return
        request = (key, id(values), adjustment)
        if request in self._adjusting:
            return
        self._adjusting.add(request)

        def work() -> object:
            return core.adjusted_display(values, adjustment.channel, adjustment.exposure, adjustment.offset)

        def deliver(picture: object) -> None:
            self._adjusting.discard(request)
            if self.values_of(key) is values and isinstance(picture, np.ndarray):
                self._adjusted[key] = (values, adjustment, picture)
                if self.adjustment == adjustment:
                    self._apply_adjustment(key)
                    self.view.refresh()

        self._run(work, deliver)

    # Swipe and blink --------------------------------------------------------------------------------

    def _set_mode(self, mode: str, on: bool) -> None:
        if on:
            for action in self.action_group:
                if action is not (self.swipe_action if mode == "swipe" else self.blink_action):
                    action.blockSignals(True)
                    action.setChecked(False)
                    action.blockSignals(False)
            self.compare.mode = "swipe" if mode == "swipe" else "blink"
            if mode == "swipe":
                self._divider_into_view()
        elif self.compare.mode == mode:
            self.compare.mode = "off"
        self._show_mode()

    def set_mode(self, mode: str) -> None:
        """Show "swipe", "blink" or "off" (the grid)."""
        if mode == "off":
            for action in self.action_group:
                action.setChecked(False)
        else:
            (self.swipe_action if mode == "swipe" else self.blink_action).setChecked(True)

    def _show_mode(self) -> None:
        on = self.compare.mode != "off"
        self.view.setVisible(on)
        if on:
            self.view.raise_()
        # Zoom, fit and the zoom shown are the large view's while it stands in for the grid;
        # once the view is laid out, the zoom shown is worked out again from it.
        self.grid.shown_elsewhere = self.view.viewport if on else None
        QtCore.QTimer.singleShot(0, self.grid.view_changed.emit)
        if on:
            self.view.refresh()
            self.view.apply_view()
            self.view.setFocus()
        else:
            self.grid.apply_view()
            self.grid.setFocus()
        self._sync_timer()

    def _sync_timer(self) -> None:
        self.blink_timer.setInterval(self.compare.blink_interval_ms)
        if self.compare.mode == "blink" and self.auto_blink.isChecked():
            self.blink_timer.start()
        else:
            self.blink_timer.stop()

    def _on_blink_tick(self) -> None:
        self.compare.flip()
        self.view.refresh()
        self._refresh_readout()

    def _refresh_readout(self) -> None:
        """The readout names the image shown now under the cursor's last place."""
        if self._last_compare_hover is not None:
            self._on_compare_hover(*self._last_compare_hover)

    def blink_once(self) -> None:
        """Show the other panel now (starting blink mode when it is off)."""
        if self.compare.mode != "blink":
            self.set_mode("blink")
        self.compare.flip()
        self.view.refresh()
        self._refresh_readout()
        if self.blink_timer.isActive():
            self.blink_timer.start()  # the image just shown stays a whole period

    def _on_rate(self, hz: float) -> None:
        self.compare.set_blink_hz(hz)
        self._sync_timer()

    def _set_horizontal(self, on: bool) -> None:
        self.compare.orientation = "horizontal" if on else "vertical"
        self._divider_into_view()
        self.view.refresh()

    def _divider_into_view(self) -> None:
        """Put the divider in the middle of what is in view when it lies outside it
        (zoomed in, a divider across the whole image is often off screen)."""
        job = self.shown.job
        if job is None:
            return
        height, width = job.comparison.output_size
        seen = self.grid.visible_region()
        if self.compare.orientation == "horizontal":
            low, high, extent = seen.y, seen.y + seen.height, height
        else:
            low, high, extent = seen.x, seen.x + seen.width, width
        if extent > 0 and not low <= self.compare.divider * extent <= high:
            self.compare.set_divider((low + high) / 2 / extent)

    def set_pair(self, key_a: str, key_b: str) -> None:
        """Compare panels ``key_a`` and ``key_b``."""
        self.compare.key_a, self.compare.key_b = key_a, key_b
        self._show_picks()
        self.view.refresh()

    def _on_picked(self) -> None:
        self.set_pair(self.pick_a.currentData() or "", self.pick_b.currentData() or "")

    def _show_picks(self) -> None:
        for combo, key in ((self.pick_a, self.compare.key_a), (self.pick_b, self.compare.key_b)):
            combo.setCurrentIndex(max(combo.findData(key), 0))

    def _on_compare_hover(self, x: float, y: float) -> None:
        self._last_compare_hover = (x, y)
        state = self.grid.state
        key = self.compare.key_at(x, y, state.image_width, state.image_height)
        self._set_hovered_key(key)
        self.grid.hover_at(x, y)
        column, row = int(np.floor(x)), int(np.floor(y))
        values = self.values_of(key)
        inside = 0 <= column < state.image_width and 0 <= row < state.image_height
        if values is None or not inside:
            return
        value = core.pixel_values(values, row, column)
        integer = np.issubdtype(values.dtype, np.integer)
        text = " ".join(str(int(v)) if integer else f"{v:.4g}" for v in value or ())
        label = self._labels().get(key, key)
        self.view.readout.setText(f"x={column}, y={row}: {label} {text}")
        self.hovered_readout = (key, row, column, value)

    def _on_grid_hover(self, row: int, column: int) -> None:
        self.view.panel.set_crosshair(column + 0.5 if row >= 0 else None, row + 0.5 if row >= 0 else None)

    # Histograms ------------------------------------------------------------------------------------

    def _set_hovered_key(self, key: str) -> None:
        if key != self.histograms.hovered_key:
            self.histograms.hovered_key = key
            if self.histograms.source == "cursor":
                self.update_histograms()

    def update_histograms(self) -> None:
        """Count the values of the panels the dock shows (those not counted yet, in
        workers) and draw what is counted."""
        keys = [key for key in self.panel_keys() if self.values_of(key) is not None]
        held = self.histograms.histograms
        if held is None:
            held = self.histograms.histograms = {}
        if not self.histogram_dock.isHidden():
            for key in self.histograms.keys_wanted(keys):
                values = self.values_of(key)
                if values is None or (key, id(values)) in self._counting or self._counted.get(key) is values:
                    continue
                self._count(key, values)
        self._draw_timer.start()

    def _draw_histograms(self) -> None:
        keys = [key for key in self.panel_keys() if self.values_of(key) is not None]
        colours = {key: panel.colour for key, panel in self.grid.panels.items()}
        self.histogram_dock_widget.draw(keys, self._labels(), colours)

    def _count(self, key: str, values: np.ndarray) -> None:
        request = (key, id(values))
        self._counting.add(request)

        def deliver(hist: object) -> None:
            self._counting.discard(request)
            if self.values_of(key) is values and isinstance(hist, core.Histogram) and self.histograms.histograms is not None:
                self.histograms.histograms[key] = hist
                self._counted = {**self._counted, key: values}
                self.update_histograms()

        self._run(lambda: core.histogram(values, 256), deliver)
