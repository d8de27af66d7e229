"""The main window: the comparison grid in the middle, docks around it, menus on top.

Main thread only. The window puts the parts together and keeps its own geometry and
settings; each concern has its own part: what is on screen (`ShownComparison`), the work
off the GUI thread (`ComparisonRunner`), showing what arrives (`ComparisonPresenter`),
where images come from (`ImageSources`), the user's own methods (`OwnMethods`), exports
and sessions (`Exporter`), commands, menus and toolbar (`WindowActions`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

import core
from core import MethodResult

from ._actions import WindowActions
from ._compute_menu import ComputeMenu
from ._evaluation_view import EvaluationView
from ._explain_view import ExplainView
from ._exporter import Exporter
from ._help import HelpMenu
from ._image_sources import ImageSources
from ._message_bar import MessageBar
from ._own_methods import OwnMethods
from ._presenter import ComparisonPresenter
from ._runner import ComparisonRunner
from ._shown_comparison import DiffPayload, PreparedJob, ShownComparison
from ._spectrum_view import SpectrumView
from ._table_analysis import TableAnalysis
from .analysis import AnalysisViews
from .canvas import ComparisonGrid
from .docks import ImageList, LineProfilePlot, MetricsTable, PixelInspector, RadialProfilePlot, SettingsPanel
from .teaching import TeachingViews

log = logging.getLogger(__name__)

#: The smallest height of the contents of a side dock (inspector, histogram, profiles).
SIDE_DOCK_MIN_HEIGHT = 120

#: Settings changes are applied this long after the last one, so typing "12" in the scale
#: box starts one comparison, not two.
RECOMPUTE_DELAY_MS = 250


def default_window_size(available: QtCore.QRect) -> tuple[int, int]:
    """The first-run window size: 1500x950, or 92% of a smaller screen's free area."""
    return min(1500, int(available.width() * 0.92)), min(950, int(available.height() * 0.92))


class MainWindow(QtWidgets.QMainWindow):
    """Upscope's window. ``settings`` stores settings, layout and recent files."""

    comparison_finished = QtCore.Signal(int)  # job id whose results have all arrived

    def __init__(self, settings: QtCore.QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Upscope")
        # Below this the grid and the docks cannot all be used; the README promises 1000x640.
        self.setMinimumSize(900, 560)
        self.setAcceptDrops(True)
        self.store = settings if settings is not None else QtCore.QSettings("Upscope", "Upscope")
        self.runner = ComparisonRunner(self)
        #: What is on screen. A comparison is complete only once the runner is idle.
        self.shown = ShownComparison(work_running=lambda: self.runner.busy)
        self._shown_once = False
        self._first_run_docks = False

        self.grid = ComparisonGrid()
        self.message_bar = MessageBar()
        self.colour_bar_view = pg.GraphicsLayoutWidget()
        self.colour_bar_view.setFixedHeight(70)
        self.colour_bar = pg.ColorBarItem(values=(0, 1), interactive=False, orientation="horizontal", width=14)
        self.colour_bar_view.addItem(self.colour_bar)
        self.colour_bar_view.hide()
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.colour_bar_view)
        self.setCentralWidget(central)
        self._central = central

        self.settings_panel = SettingsPanel()
        self.image_list = ImageList()
        self.inspector = PixelInspector()
        self.metrics_table = MetricsTable()
        self.profile = LineProfilePlot()
        self.radial_profile = RadialProfilePlot()
        settings_scroll = QtWidgets.QScrollArea()
        settings_scroll.setWidget(self.settings_panel)
        settings_scroll.setWidgetResizable(True)
        settings_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.docks = {
            # The settings scroll: on a short screen the dock must not set the window's height.
            "settings": self._dock("Settings", settings_scroll, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea),
            "images": self._dock("Images", self.image_list, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea),
            "inspector": self._dock("Pixel inspector", self.inspector, QtCore.Qt.DockWidgetArea.RightDockWidgetArea),
            "profile": self._dock("Line profile", self.profile, QtCore.Qt.DockWidgetArea.RightDockWidgetArea),
            "metrics": self._dock("Metrics", self.metrics_table, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea),
            "radial": self._dock("Radial power", self.radial_profile, QtCore.Qt.DockWidgetArea.RightDockWidgetArea),
        }
        # The radial power dock goes behind the line profile, and the histogram behind the
        # inspector, once the window's size is known (`tab_side_docks`).
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.setFormat("%v / %m methods")
        self.progress.hide()
        self.zoom_label = QtWidgets.QLabel()
        self.compute = ComputeMenu(self, self.runner, self.store)
        self.help = HelpMenu(self, self.compute)
        self.statusBar().addPermanentWidget(self.compute.label)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.statusBar().addPermanentWidget(self.progress)

        self._recompute_timer = QtCore.QTimer(self)
        self._recompute_timer.setSingleShot(True)
        self._recompute_timer.setInterval(RECOMPUTE_DELAY_MS)
        self._recompute_timer.timeout.connect(self.recompute)
        self.sources = ImageSources(self)
        self.presenter = ComparisonPresenter(self)
        # After the presenter: they add to what it shows.
        self.spectrum_view = SpectrumView(self, self.docks["radial"])
        self.table_analysis = TableAnalysis(self)
        self.explain = ExplainView(self)
        self.teaching = TeachingViews(self)
        self.evaluation = EvaluationView(self)
        self.exporter = Exporter(self)
        self.own_methods = OwnMethods(self)
        self.commands = WindowActions(self)
        self.analysis = AnalysisViews(self)
        self._connect()
        self._restore()
        self.tab_side_docks()

    # What is on screen (read from `shown`) ------------------------------------------------

    @property
    def job(self) -> PreparedJob | None:
        return self.shown.job

    @property
    def results(self) -> dict[str, MethodResult]:
        return self.shown.results

    @property
    def displays(self) -> dict[str, np.ndarray]:
        return self.shown.displays

    @property
    def diffs(self) -> dict[str, DiffPayload]:
        return self.shown.diffs

    @property
    def comparison_complete(self) -> bool:
        """Whether every method of the comparison on screen is shown and measured."""
        return self.shown.comparison_complete

    @property
    def image(self) -> np.ndarray | None:
        """The image the window compares (on screen, or on its way there)."""
        return self.shown.image

    @property
    def image_name(self) -> str:
        return self.shown.image_name

    def shown_images(self) -> dict[str, np.ndarray]:
        """Each method's result, in panel order."""
        return self.shown.shown_images()

    # Construction ---------------------------------------------------------------------

    def _dock(self, title: str, widget: QtWidgets.QWidget, area: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        self.presenter.finished.connect(self.comparison_finished)
        self.settings_panel.settings_changed.connect(self._recompute_timer.start)
        self.grid.maximise_requested.connect(self.grid.toggle_maximise)
        self.metrics_table.method_clicked.connect(self.grid.toggle_maximise)
        self.exporter.finished.connect(lambda text: self.message_bar.show_message(text, error=False))
        self.exporter.failed.connect(self.message_bar.show_message)

    # What the window does (each in its part) -----------------------------------------------

    def recompute(self) -> None:
        """Start comparing the current image with the current settings (cancelling the
        comparison in flight)."""
        self._recompute_timer.stop()
        self.presenter.recompute()

    def open_paths(self, paths: Sequence[str | Path]) -> None:
        """Read ``paths`` in the background and compare the first readable one."""
        self.sources.open_paths(paths)

    def open_chart(self, chart_id: str) -> None:
        """Compare the built-in chart ``chart_id``."""
        self.sources.open_chart(chart_id)

    def paste(self) -> None:
        """Open the image (or image files) on the clipboard."""
        self.sources.paste()

    def set_image(self, image: np.ndarray, name: str, key: str | None = None) -> None:
        """Compare ``image`` (called ``name``, listed under ``key``)."""
        self.sources.set_image(image, name, key)

    def recent_files(self) -> list[str]:
        """The files opened lately, newest first."""
        return self.sources.recent_files()

    # Persistence ----------------------------------------------------------------------

    def _restore(self) -> None:
        self._restore_settings()
        geometry = self.store.value("geometry")
        if isinstance(geometry, QtCore.QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
            self.fit_to_screen()
        else:
            self.resize(*default_window_size(self._available_geometry()))
            self._first_run_docks = True
        state = self.store.value("windowState")
        if isinstance(state, QtCore.QByteArray) and not state.isEmpty():
            self.restoreState(state)
        self.sources.show_recent()

    def _restore_settings(self) -> None:
        """Show the saved settings. Saved settings that are not a JSON object, or values
        the panel cannot take as saved (a scale of 1000, NaN, an unknown mode), are named
        once in the message bar and replaced by the defaults in the store, so the next
        launch starts clean."""
        text = self.store.value("settings", "")
        if not text:
            return
        panel = self.settings_panel
        defaults = panel.to_dict()
        problem = None
        try:
            data = json.loads(str(text))
        except (ValueError, RecursionError):
            data, problem = None, "not valid JSON; the defaults are used instead"
        if problem is None and not isinstance(data, dict):
            problem = f"{_json_kind(data)} instead of an object of settings; the defaults are used instead"
        if problem is None:
            try:
                panel.from_dict(data)
                refused = _values_not_taken(data, panel.to_dict())
                if refused:
                    named = ", ".join(f"{key} {data[key]!r}"[:80] for key in refused)
                    defaults_are = "its default is" if len(refused) == 1 else "their defaults are"
                    problem = f"{named} cannot be used; {defaults_are} used instead"
                    panel.from_dict({**data, **{key: defaults[key] for key in refused}})
            except Exception as exc:  # whatever is in the file, the window must open
                log.warning("saved settings refused: %s", exc)
                problem = f"values of the wrong kind ({type(exc).__name__}: {exc}); the defaults are used instead"
                panel.from_dict(defaults)
        if problem is not None:
            self.store.setValue("settings", json.dumps(panel.to_dict()))
            self.message_bar.show_message(f"Saved settings ({self.store.fileName()}): {problem}.", keep=True)

    def _available_geometry(self) -> QtCore.QRect:
        screen = self.screen() or QtGui.QGuiApplication.primaryScreen()
        return screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, 1600, 1000)

    def fit_to_screen(self) -> None:
        """Keep the window inside the screen it is on: a size saved on a larger screen
        (or by an older version that could only grow) is clamped, and a window that
        would start off-screen is moved back."""
        if self.isMaximized() or self.isFullScreen():
            return
        available = self._available_geometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width = min(self.width(), available.width() - extra_w)
        height = min(self.height(), available.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(max(width, self.minimumSizeHint().width()), max(height, self.minimumSizeHint().height()))
        x = min(max(frame.x(), available.x()), available.right() - frame.width() + 1)
        y = min(max(frame.y(), available.y()), available.bottom() - frame.height() + 1)
        if (x, y) != (frame.x(), frame.y()):
            self.move(max(x, available.x()), max(y, available.y()))

    def save_state(self) -> None:
        self.store.setValue("settings", json.dumps(self.settings_panel.to_dict()))
        self.store.setValue("geometry", self.saveGeometry())
        self.store.setValue("windowState", self.saveState())
        self.store.sync()

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._shown_once:
            # The frame (title bar, borders) is known only now: fit it, not just the inside.
            self._shown_once = True
            QtCore.QTimer.singleShot(0, self.fit_to_screen)
            if self._first_run_docks:
                QtCore.QTimer.singleShot(0, self._first_dock_sizes)

    def tab_side_docks(self) -> None:
        """Tab the side docks, once, when the window's size is known and before it is
        shown: the histogram and Explain pixel behind the pixel inspector, the radial power
        behind the line profile (its profiles are computed only while it is in front) and,
        on a screen less than 950 pixels high, the profiles behind the inspector too
        (stacked, each would get a few rows). A dock moved from one tab group into another after the window is shown
        leaves Qt's old tab bar drawn over the grid, so it is done in one pass. A window
        restored from saved settings keeps its saved arrangement; docks it did not know
        join it as above. The inspector and the line profile end in front."""
        inspector, profile = self.docks["inspector"], self.docks["profile"]
        for name in ("inspector", "histogram", "explain", "profile", "radial"):
            dock = self.docks.get(name)
            if dock is not None and dock.widget() is not None:
                # Plots and tables ask for more height than they need to be usable; stacked
                # on a tall screen they would keep the window from shrinking to 1000x640.
                dock.widget().setMinimumHeight(SIDE_DOCK_MIN_HEIGHT)
        # Decided by the screen, not the window: the window may still be resized before it
        # is shown (a restored geometry, a test), and moving docks between groups later
        # would leave the old tab bar behind.
        short = self._available_geometry().height() < 950
        pairs = [(inspector, "explain"), (inspector, "histogram")]
        pairs += [(inspector, "profile"), (inspector, "radial")] if short else [(profile, "radial")]
        # The wide views (hidden until opened) share the bottom with the metrics table: in this
        # same pass, as a tab group formed earlier leaves its old tab bar over the grid.
        metrics = self.docks["metrics"]
        pairs += [(metrics, name) for name in ("conventions", "matrix", "evaluation")]
        for first, name in pairs:
            dock = self.docks.get(name)
            if dock is not None and not dock.isFloating() and dock not in self.tabifiedDockWidgets(first):
                self.tabifyDockWidget(first, dock)
        profile.raise_()
        inspector.raise_()
        metrics.raise_()

    def _first_dock_sizes(self) -> None:
        """Dock sizes of a first run, in proportion to the window: the grid gets about
        half the width and two thirds of the height; the Images list a few lines."""
        width, height = self.width(), self.height()
        horizontal = QtCore.Qt.Orientation.Horizontal
        settings_width = self.settings_panel.minimumSizeHint().width() + self.style().pixelMetric(
            QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent) + 8
        self.resizeDocks([self.docks["settings"], self.docks["inspector"]],
                         [min(max(settings_width, int(width * 0.22)), int(width * 0.3)), min(400, int(width * 0.24))],
                         horizontal)
        self.resizeDocks([self.docks["metrics"]], [min(200, int(height * 0.2))], QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["settings"], self.docks["images"]],
                         [int(height * 0.5), 5 * self.fontMetrics().lineSpacing()], QtCore.Qt.Orientation.Vertical)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        smaller = event.size().width() < event.oldSize().width() or event.size().height() < event.oldSize().height()
        if self._shown_once and smaller:
            # After Qt has laid the docks out for the new size.
            QtCore.QTimer.singleShot(0, self._keep_grid_room)

    def _keep_grid_room(self) -> None:
        """When the window is made smaller, the docks give way too: Qt would shrink only
        the grid, down to nothing. The side dock areas shrink to leave the grid at least
        45% of the width, the bottom area to leave it half the height."""
        central = self._central
        width, height = self.width(), self.height()
        area = QtCore.Qt.DockWidgetArea

        def first_in(where: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget | None:
            """One visible dock of an area stands for its column or row."""
            return next((d for d in self.docks.values()
                         if self.dockWidgetArea(d) == where and d.isVisible() and not d.isFloating()), None)

        sides = [d for d in (first_in(area.LeftDockWidgetArea), first_in(area.RightDockWidgetArea)) if d is not None]
        if sides and central.width() < 0.45 * width:
            excess = 0.45 * width - central.width()
            total = sum(d.width() for d in sides) or 1
            self.resizeDocks(sides, [max(150, int(d.width() - excess * d.width() / total)) for d in sides],
                             QtCore.Qt.Orientation.Horizontal)
        bottoms = [d for d in (first_in(area.BottomDockWidgetArea), first_in(area.TopDockWidgetArea)) if d is not None]
        if bottoms and central.height() < 0.5 * height:
            excess = 0.5 * height - central.height()
            self.resizeDocks(bottoms, [max(80, int(d.height() - excess / len(bottoms))) for d in bottoms],
                             QtCore.Qt.Orientation.Vertical)

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if self.sources.accepts(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802 (Qt override)
        # With Ctrl held, dropped images are added as result images instead of opened.
        as_methods = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier)
        self.sources.drop(event.mimeData(), as_methods=as_methods)
        event.acceptProposedAction()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Save the settings, cancel the comparison and wait briefly for the workers (an
        export being written is finished); the window is hidden meanwhile."""
        self.save_state()
        self._recompute_timer.stop()
        self.hide()
        if not self.runner.shutdown():
            log.info("closed with a cancelled step still running; it delivers nothing")
        super().closeEvent(event)

    def open_at_start(
        self, images: Sequence[str] = (), session: str | None = None, settings: core.ComparisonSettings | None = None
    ) -> None:
        """What the window shows first: a ``session`` (then ``images``, if any), else
        ``images``, else the built-in test chart; ``settings`` (the command line's) apply
        over the saved ones and the session's. A session that cannot be opened is named
        with the reason in the message bar, and the window goes on without it."""
        if settings is not None and session is None:
            self.settings_panel.apply_settings(settings)
        if session is not None:
            try:
                loaded = core.load_session(session)
            except core.UpscopeError as exc:
                problem = str(exc)
            except Exception as exc:  # whatever the file holds, the window must open
                log.exception("session %s refused", session)
                problem = f"{session}: cannot be opened as a session ({type(exc).__name__}: {exc})"
            else:
                if settings is not None:
                    loaded = dataclasses.replace(loaded, settings=settings)
                self.exporter.apply_session(loaded)
                if images:
                    self.open_paths(list(images))
                return
            kept = "" if images else "\nShowing the built-in test chart instead."
            self.message_bar.show_message(f"Could not open the session {problem}{kept}", keep=True)
        if images:
            self.open_paths(list(images))
        else:
            self.open_chart("test-chart")


#: Saved settings whose value must be taken exactly as saved (else it is named and replaced).
_REFUSED_KEYS = ("mode", "scale", "scale_x", "downsampler", "convention", "diff_kind", "gain")


def _values_not_taken(saved: dict[str, Any], applied: dict[str, Any]) -> list[str]:
    """The keys of `_REFUSED_KEYS` whose saved value the settings panel did not take as
    saved (out of range, unknown, NaN)."""
    return [key for key in _REFUSED_KEYS if key in saved and saved[key] != applied[key]]  # NaN != NaN


def _json_kind(value: Any) -> str:
    """How a person names a JSON value's kind: "a list", "a number", "null"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else type(value).__name__
