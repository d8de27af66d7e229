"""The main window: the comparison grid in the middle, docks around it, menus on top.

Main thread only. The window holds what is shown (current image, prepared job, results)
and asks `ComparisonRunner` for everything that needs computing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

import core
from core import MethodResult

from ._exporter import Exporter
from ._help import HelpMenu
from ._image_list import ImageList
from ._comparison_grid import REFERENCE_KEY, ComparisonGrid
from ._compute_menu import ComputeMenu
from ._line_profile import LineProfilePlot
from ._metrics_table import MetricsTable
from ._pixel_inspector import PixelInspector
from ._runner import LIMIT_HINT, ComparisonRunner, DiffPayload, LoadedImage, PreparedJob, ResultPayload
from ._settings_panel import SettingsPanel

BACKEND_LABELS = {"cpu": "CPU", "opencl": "OpenCL", "torch": "PyTorch"}

log = logging.getLogger(__name__)

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"
MAX_RECENT = 10
#: Settings changes are applied this long after the last one, so typing "12" in the scale
#: box starts one comparison, not two.
RECOMPUTE_DELAY_MS = 250


def default_window_size(available: QtCore.QRect) -> tuple[int, int]:
    """The first-run window size: 1500x950, or 92% of a smaller screen's free area."""
    return min(1500, int(available.width() * 0.92)), min(950, int(available.height() * 0.92))


def qimage_to_array(image: QtGui.QImage) -> np.ndarray:
    """A copy of a QImage's pixels: ``(H, W, 4)`` RGBA uint8 when it has alpha, else
    ``(H, W, 3)`` RGB uint8."""
    has_alpha = image.hasAlphaChannel()
    fmt = QtGui.QImage.Format.Format_RGBA8888 if has_alpha else QtGui.QImage.Format.Format_RGB888
    converted = image.convertToFormat(fmt)
    channels = 4 if has_alpha else 3
    height, width = converted.height(), converted.width()
    buffer = np.frombuffer(converted.constBits(), np.uint8, count=converted.sizeInBytes())
    rows = buffer.reshape(height, converted.bytesPerLine())
    return rows[:, : width * channels].reshape(height, width, channels).copy()


class MessageBar(QtWidgets.QFrame):
    """A dismissable line at the top of the window for errors and notes.

    It never grows past a few lines (longer text scrolls), so a long message cannot make
    the window taller. Notes go away by themselves after `NOTE_MS`, errors after
    `ERROR_MS` or as soon as a later step succeeds (`clear_error`).
    """

    NOTE_MS = 8_000
    ERROR_MS = 30_000

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.label)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setStyleSheet("background: transparent;")
        self._scroll = scroll
        close = QtWidgets.QToolButton()
        close.setText("\u00d7")
        close.setToolTip("Dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(scroll, 1)
        layout.addWidget(close, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.error = False
        #: Counts messages shown, so a caller can tell whether one came after it started.
        self.generation = 0
        self.hide()

    def show_message(self, text: str, error: bool = True, *, keep: bool = False) -> None:
        """Show ``text`` (replacing what was shown) until dismissed or timed out; with
        ``keep``, a later success does not dismiss it (it explains that success)."""
        colour = "#5c1f1f" if error else "#1f3d5c"
        self.setStyleSheet(f"MessageBar {{ background: {colour}; }} QLabel {{ color: white; }}")
        self.label.setText(text)
        self.error = error and not keep
        self.generation += 1
        self._timer.start(self.ERROR_MS if error else self.NOTE_MS)
        self.show()
        self._fit_height()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as the wrapped text, at most four lines (the rest scrolls)."""
        needed = self.label.heightForWidth(max(self._scroll.viewport().width(), 100))
        most = 4 * self.fontMetrics().lineSpacing() + 8
        self._scroll.setFixedHeight(max(min(needed, most), self.fontMetrics().lineSpacing()))

    def clear_error(self, since: int | None = None) -> None:
        """A later step succeeded: an error shown now is out of date. With ``since`` (a
        `generation` read when that step started), only an error shown before it goes."""
        if self.error and not self.isHidden() and (since is None or self.generation <= since):
            self.hide()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()


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
        self.image: np.ndarray | None = None
        self.image_name = ""
        self.image_key = ""
        self._messages_at_start = 0
        self._shown_once = False
        self._first_run_docks = False
        self._hovered = (-1, -1)  # image row, column under the cursor
        self._pasted: dict[str, np.ndarray] = {}  # pixels of pasted or dropped images, by list key
        self._pasted_count = 0
        self.job: PreparedJob | None = None
        self.results: dict[str, MethodResult] = {}
        self.displays: dict[str, np.ndarray] = {}
        self.diffs: dict[str, DiffPayload] = {}
        self._expected = 0
        self._measured: set[str] = set()
        self.pending_view: core.View | None = None
        #: A session's regions, marked once its image is shown (they are pixels of it).
        self.pending_regions: tuple[core.Region, ...] | None = None

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

        self.settings_panel = SettingsPanel()
        self.image_list = ImageList()
        self.inspector = PixelInspector()
        self.metrics_table = MetricsTable()
        self.profile = LineProfilePlot()
        settings_scroll = QtWidgets.QScrollArea()
        settings_scroll.setWidget(self.settings_panel)
        settings_scroll.setWidgetResizable(True)
        settings_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self._docks = {
            # The settings scroll: on a short screen the dock must not set the window's height.
            "settings": self._dock("Settings", settings_scroll, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea),
            "images": self._dock("Images", self.image_list, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea),
            "inspector": self._dock("Pixel inspector", self.inspector, QtCore.Qt.DockWidgetArea.RightDockWidgetArea),
            "profile": self._dock("Line profile", self.profile, QtCore.Qt.DockWidgetArea.RightDockWidgetArea),
            "metrics": self._dock("Metrics", self.metrics_table, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea),
        }
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.setFormat("%v / %m methods")
        self.progress.hide()
        self.zoom_label = QtWidgets.QLabel()
        self.compute = ComputeMenu(self, self.runner, self.store)
        self.statusBar().addPermanentWidget(self.compute.label)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.statusBar().addPermanentWidget(self.progress)

        self._recompute_timer = QtCore.QTimer(self)
        self._recompute_timer.setSingleShot(True)
        self._recompute_timer.setInterval(RECOMPUTE_DELAY_MS)
        self._recompute_timer.timeout.connect(self.recompute)
        self._build_actions()
        self._connect()
        self._restore()

    # Construction ---------------------------------------------------------------------

    def _dock(self, title: str, widget: QtWidgets.QWidget, area: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut: Any = None, *, checkable: bool = False) -> QtGui.QAction:  # noqa: ANN001
        action = QtGui.QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        keys = QtGui.QKeySequence
        self.open_action = self._action("&Open...", self.open_dialog, keys.StandardKey.Open)
        self.paste_action = self._action("&Paste image", self.paste, keys.StandardKey.Paste)
        quit_action = self._action("&Quit", self.close, keys.StandardKey.Quit)
        view_actions = self.grid.view_actions
        self.fit_action, self.one_action = view_actions["fit"], view_actions["one"]
        zoom_in, zoom_out = view_actions["zoom_in"], view_actions["zoom_out"]
        pans = [view_actions[name] for name in ("left", "right", "up", "down")]
        self.line_action = self._action("&Line profile tool", self.grid.set_line_mode, "L", checkable=True)
        self.diff_action = self._action("&Difference maps", self.settings_panel.show_diff.setChecked, "D", checkable=True)
        clear_line = self._action("Clear profile line", lambda: self.grid.set_line(None, None))
        self.exporter = Exporter(self)
        self.region_action = self.exporter.region_action
        # The line and region tools both take the drag: one at a time.
        self.line_action.toggled.connect(lambda on: on and self.region_action.setChecked(False))
        self.region_action.toggled.connect(lambda on: on and self.line_action.setChecked(False))

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addAction(self.paste_action)
        file_menu.addAction(self.exporter.open_session_action)
        file_menu.addAction(self.exporter.save_session_action)
        file_menu.addSeparator()
        self.limit_action = self._action("&Largest image to open...", self.limit_dialog)
        file_menu.addAction(self.limit_action)
        file_menu.addSeparator()
        for action in (self.exporter.export_action, self.exporter.paper_action, self.exporter.results_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        samples = menu.addMenu("&Samples")
        for chart in core.list_charts():
            action = samples.addAction(chart.label)
            action.setToolTip(chart.description)
            action.triggered.connect(lambda _=False, c=chart.id: self.open_chart(c))
        view = menu.addMenu("&View")
        for action in (self.fit_action, self.one_action, zoom_in, zoom_out):
            view.addAction(action)
        pan_menu = view.addMenu("Pan")
        for action in pans:
            pan_menu.addAction(action)
        view.addSeparator()
        view.addAction(self.line_action)
        view.addAction(clear_line)
        view.addAction(self.region_action)
        view.addAction(self.exporter.clear_regions_action)
        view.addAction(self.diff_action)
        view.addSeparator()
        for dock in self._docks.values():
            view.addAction(dock.toggleViewAction())
        menu.addMenu(self.compute.menu)
        self.help = HelpMenu(self, self.compute)
        menu.addMenu(self.help.menu)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar-main")
        for action in (self.open_action, self.fit_action, self.one_action, zoom_in, zoom_out, self.line_action, self.region_action, self.diff_action):
            toolbar.addAction(action)

    def _connect(self) -> None:
        self.runner.prepared.connect(self._on_prepared)
        self.runner.result_ready.connect(self._on_result)
        self.runner.diff_ready.connect(self._on_diff)
        self.runner.failed.connect(self._on_failed)
        self.runner.loaded.connect(self._on_loaded)
        self.runner.load_checked.connect(self._on_load_checked)
        self.settings_panel.settings_changed.connect(self._recompute_timer.start)
        self.settings_panel.display_changed.connect(self._on_display_changed)
        self.settings_panel.show_diff.toggled.connect(self.diff_action.setChecked)
        self.grid.hovered.connect(self._on_hover)
        self.grid.line_changed.connect(self._on_line_changed)
        self.grid.view_changed.connect(self._on_view_changed)
        self.grid.maximise_requested.connect(self.grid.toggle_maximise)
        self.grid.level_needed.connect(self._on_level_needed)
        self.runner.level_ready.connect(self._on_level_ready)
        self.metrics_table.method_clicked.connect(self.grid.toggle_maximise)
        self.image_list.chosen.connect(self._on_image_chosen)
        self.image_list.removed.connect(self._on_image_removed)
        self.exporter.finished.connect(lambda text: self.message_bar.show_message(text, error=False))
        self.exporter.failed.connect(self.message_bar.show_message)

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
        self.diff_action.setChecked(self.settings_panel.show_diff.isChecked())
        self._update_recent_menu()

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
                    problem = f"{named} cannot be used; {'its default is' if len(refused) == 1 else 'their defaults are'} used instead"
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

    def recent_files(self) -> list[str]:
        value = self.store.value("recent", "[]")
        try:
            recent = json.loads(str(value))
        except (ValueError, RecursionError):
            return []
        return [p for p in recent if isinstance(p, str)] if isinstance(recent, list) else []

    def _remember(self, paths: Sequence[str]) -> None:
        recent = [p for p in paths if not p.startswith("chart:")] + self.recent_files()
        unique = list(dict.fromkeys(recent))[:MAX_RECENT]
        self.store.setValue("recent", json.dumps(unique))
        self._update_recent_menu()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_paths([p]))
        self.recent_menu.setEnabled(bool(recent))

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._shown_once:
            # The frame (title bar, borders) is known only now: fit it, not just the inside.
            self._shown_once = True
            QtCore.QTimer.singleShot(0, self.fit_to_screen)
            if self._first_run_docks:
                QtCore.QTimer.singleShot(0, self._first_dock_sizes)

    def _first_dock_sizes(self) -> None:
        """Dock sizes of a first run, in proportion to the window: the grid gets about
        half the width and two thirds of the height; the Images list a few lines."""
        width, height = self.width(), self.height()
        horizontal = QtCore.Qt.Orientation.Horizontal
        if height < 900:
            # Stacked, the inspector and the profile would each get a few rows: tabs give
            # each the whole height (the inspector in front).
            self.tabifyDockWidget(self._docks["inspector"], self._docks["profile"])
            self._docks["inspector"].raise_()
        settings_width = self.settings_panel.minimumSizeHint().width() + self.style().pixelMetric(
            QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent) + 8
        self.resizeDocks([self._docks["settings"], self._docks["inspector"]],
                         [min(max(settings_width, int(width * 0.22)), int(width * 0.3)), min(400, int(width * 0.24))],
                         horizontal)
        self.resizeDocks([self._docks["metrics"]], [min(200, int(height * 0.2))], QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([self._docks["settings"], self._docks["images"]],
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
        central = self.centralWidget()
        width, height = self.width(), self.height()
        area = QtCore.Qt.DockWidgetArea

        def first_in(where: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget | None:
            """One visible dock of an area stands for its column or row."""
            return next((d for d in self._docks.values()
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

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
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

    # Opening images ---------------------------------------------------------------------

    def open_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Open images", self.dialog_folder(), IMAGE_FILTER)
        self.grid.setFocus()
        if paths:
            self.open_paths(paths)

    def dialog_folder(self) -> str:
        """Where file dialogs start: the folder of the image on screen, else of the most
        recent file, else the home folder (never the process's working directory)."""
        for candidate in [self.job.image_name if self.job else "", *self.recent_files()]:
            if candidate and Path(candidate).parent.is_dir() and Path(candidate).is_absolute():
                return str(Path(candidate).parent)
        return str(Path.home())

    def open_paths(self, paths: Sequence[str | Path]) -> None:
        """Read ``paths`` in the background; the first readable one is compared, all
        readable ones go into the image list, the others are reported."""
        paths = [str(p) for p in paths]
        if paths:
            self.statusBar().showMessage(f"Reading {len(paths)} file(s)...")
            self.runner.max_input_pixels = self.max_input_pixels()
            self.runner.load(paths)

    def open_chart(self, chart_id: str) -> None:
        self.runner.make_chart(chart_id)

    def paste(self) -> None:
        data = QtWidgets.QApplication.clipboard().mimeData()
        if data is not None and data.hasUrls():
            local = [url.toLocalFile() for url in data.urls() if url.isLocalFile()]
            if local:
                self.open_paths(local)
                return
        if data is not None and data.hasImage():
            image = QtWidgets.QApplication.clipboard().image()
            if not image.isNull():
                self._open_image_data(image, "Pasted image")
                return
        self.message_bar.show_message("The clipboard holds no image and no image file.")

    def _open_image_data(self, image: QtGui.QImage, what: str) -> None:
        """Compare an image handed over as pixels (pasted or dropped), within the same
        input limit as files."""
        limit = self.max_input_pixels()
        if image.width() * image.height() > limit:
            error = core.ImageTooLargeError(what, image.width(), image.height(), limit)
            self.message_bar.show_message(error.describe(LIMIT_HINT))
            return
        self._pasted_count += 1
        key = f"pasted:{self._pasted_count}"
        name = f"{what} {self._pasted_count}"
        self._pasted[key] = qimage_to_array(image)
        self.set_image(self._pasted[key], name, key)
        self.grid.setFocus()

    def set_image(self, image: np.ndarray, name: str, key: str | None = None) -> None:
        """Make ``image`` the current one and compare it; ``key`` is its entry in the
        Images list (default: ``name``)."""
        key = key or name
        self.image, self.image_name, self.image_key = image, name, key
        self.image_list.add(key, self._list_label(key, name), name)
        self.image_list.select(key)
        self.recompute()

    @staticmethod
    def _list_label(key: str, name: str) -> str:
        return name if key.startswith(("chart:", "pasted:")) else Path(name).name

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802
        data = event.mimeData()
        urls = [url for url in data.urls()]
        local = [url.toLocalFile() for url in urls if url.isLocalFile()]
        if local:
            self.open_paths(local)
        elif urls:
            self.message_bar.show_message("Only local files can be opened; got " + ", ".join(u.toString() for u in urls))
        elif data.hasImage():
            self._open_image_data(QtGui.QImage(data.imageData()), "Dropped image")
        event.acceptProposedAction()

    def _on_loaded(self, loaded: LoadedImage) -> None:
        key = name = loaded.path
        if name.startswith("chart:"):
            name = next((c.label for c in core.list_charts() if f"chart:{c.id}" == name), name)
        self.set_image(loaded.image, name, key)
        self.grid.setFocus()

    def _on_load_checked(self, good: list[str], bad: list[tuple[str, str]], latest: bool) -> None:
        if latest:
            self.statusBar().clearMessage()
        for path in good:
            self.image_list.add(path, Path(path).name, path)
        self._remember(good)
        if not good and latest:
            self.pending_view = None  # a session's view and regions belong to its image only
            self.pending_regions = None
            # The Images list goes back to the image on screen.
            self.image_list.select(self.job.image_key if self.job else None)
        if bad:
            lines = [message for _path, message in bad]
            fallback = self.image is None and not good and latest
            if fallback:
                kept = "Showing the built-in test chart instead."
                self.open_chart("test-chart")
            else:
                kept = "" if good else "The comparison shown is unchanged."
            text = "Could not open:\n" + "\n".join(lines) + ("\n" + kept if kept else "")
            self.message_bar.show_message(text, keep=fallback)
        elif good:
            self.message_bar.clear_error()

    def _on_image_chosen(self, key: str) -> None:
        if key.startswith("chart:"):
            self.open_chart(key.removeprefix("chart:"))
        elif key in self._pasted:
            label = next((self.image_list.item(i).toolTip() for i in range(self.image_list.count())
                          if self.image_list.item(i).data(QtCore.Qt.ItemDataRole.UserRole) == key), key)
            self.set_image(self._pasted[key], label, key)
        else:
            self.open_paths([key])

    def _on_image_removed(self, key: str) -> None:
        self._pasted.pop(key, None)  # the pixels of a pasted image go with its entry
        self.image_list.select(self.job.image_key if self.job else None)

    # Limits -------------------------------------------------------------------------------

    def max_input_pixels(self) -> int:
        """The largest image (in pixels) the window opens: File > Largest image to open."""
        try:
            value = int(self.store.value("max_input_megapixels", core.limits.max_input_pixels // 1_000_000))
        except (TypeError, ValueError):
            value = core.limits.max_input_pixels // 1_000_000
        return max(value, 1) * 1_000_000

    def limit_dialog(self) -> None:
        """Ask for the largest image to open, in megapixels."""
        current = self.max_input_pixels() // 1_000_000
        value, ok = QtWidgets.QInputDialog.getInt(
            self, "Largest image to open",
            "Images with more pixels than this are refused before they are decoded\n"
            "(memory grows with every method compared). Megapixels:",
            current, 1, 2000, 10,
        )
        self.grid.setFocus()
        if ok:
            self.store.setValue("max_input_megapixels", value)

    # Computing --------------------------------------------------------------------------

    def recompute(self) -> None:
        """Start comparing the current image with the current settings (cancelling the
        comparison in flight)."""
        self._recompute_timer.stop()
        if self.image is None:
            return
        settings = self.settings_panel.comparison_settings()
        if not settings.methods:
            self.message_bar.show_message("No method is ticked in Settings: tick at least one to compare.")
            return
        diff = self.settings_panel.diff_options()
        reused = self._reusable_results(settings)
        if reused is not None:
            self.runner.derive(self.job, reused, dict(self.displays), settings, diff)
        else:
            self.runner.start(self.image, settings, diff, name=self.image_name, key=self.image_key)
        self._messages_at_start = self.message_bar.generation
        self.progress.setRange(0, 0)
        self.progress.show()
        for panel in self.grid.panels.values():
            if panel.key != REFERENCE_KEY:
                panel.set_status("Computing...")

    def _reusable_results(self, settings: core.ComparisonSettings) -> list[MethodResult] | None:
        """The results of the finished comparison on screen that ``settings`` would
        compute again unchanged, when ``settings`` differ from it only in the methods (or
        their parameters), the reference or the metric convention; None when anything
        else changed (the image, mode, scale, downsampler, backend), which needs a new
        comparison."""
        job = self.job
        if job is None or not self.comparison_complete or self.image is not job.comparison.original:
            return None
        old = job.comparison.settings
        if (old.mode, old.scale, old.downsampler, old.backend) != (settings.mode, settings.scale, settings.downsampler, settings.backend):
            return None
        before = {c.id: dict(c.params) for c in old.method_choices()}
        kept = [c.id for c in settings.method_choices() if c.id in before and before[c.id] == dict(c.params)]
        return [self.results[key] for key in kept if key in self.results]

    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id == self.runner.job_id:
            self.progress.hide()
            for panel in self.grid.panels.values():
                panel.set_status(None if panel.key == REFERENCE_KEY or panel.shown_array is not None else "Not computed")
            if self.job is not None and self.image is not self.job.comparison.original:
                # The new image could not be compared: the window keeps the one it shows.
                self.image, self.image_name, self.image_key = self.job.comparison.original, self.job.image_name, self.job.image_key
                self.image_list.select(self.image_key)
            self.message_bar.show_message(message)

    @property
    def comparison_complete(self) -> bool:
        """Whether every method of the comparison on screen is shown and measured."""
        return self.job is not None and not self.runner.busy and len(self._measured) >= self._expected

    def _on_prepared(self, job: PreparedJob) -> None:
        self.job = job
        self.results.clear()
        self.displays.clear()
        self.diffs.clear()
        self._measured.clear()
        comparison = job.comparison
        self.metrics_table.clear_results([c.id for c in comparison.choices], comparison.settings.reference)
        height, width = comparison.output_size
        entries = [(REFERENCE_KEY, job.reference_label)]
        entries += [(c.id, core.method_title(c.id, c.params)) for c in comparison.choices]
        self.grid.set_panels(entries, (height, width))
        reference_panel = self.grid.panel(REFERENCE_KEY)
        reference_panel.set_image(job.reference_display, job.reference_values, width, height)
        rh, rw = job.reference_values.shape[:2]
        details = [core.size_text(rh, rw)]
        if (rh, rw) != (height, width):
            details.append(f"shown on the {core.size_text(height, width)} output grid")
        reference_panel.set_title(job.reference_label, details)
        self.grid.request_levels()
        self._refresh_inspector()
        for choice in comparison.choices:
            self.grid.panel(choice.id).set_status("Computing...")
        self._expected = len(comparison.choices)
        self.progress.setRange(0, self._expected)
        self.progress.setValue(0)
        self.progress.show()
        scale = comparison.scale
        scale_text = f"x{scale[0]:g}" if scale[0] == scale[1] else f"x{scale[1]:g} (x) by x{scale[0]:g} (y)"
        mode = "degrade, then restore" if comparison.ground_truth is not None else "upscale"
        self.setWindowTitle(f"Upscope - {job.image_name} - {mode} {scale_text}")
        self.image_list.select(job.image_key)
        self.message_bar.clear_error(since=self._messages_at_start)
        notes = " ".join(comparison.notes)
        self.statusBar().showMessage(notes)
        self._refresh_colour_bar()
        self._on_line_changed(*(self.grid.line or (None, None)))
        if self.pending_regions is not None:
            regions, self.pending_regions = self.pending_regions, None
            self.grid.set_regions(regions)
        if self.pending_view is not None:  # a session's saved view, once its image is shown
            view, self.pending_view = self.pending_view, None
            # A view saved on a larger image is kept on this one, as a pan would keep it.
            self.grid.look_at(min(max(view.cx, 0.0), float(width)), min(max(view.cy, 0.0), float(height)), view.zoom)

    def _on_result(self, payload: ResultPayload) -> None:
        result = payload.result
        panel = self.grid.panel(result.method_id)
        self.results[result.method_id] = result
        if payload.display is not None:
            self.displays[result.method_id] = payload.display
        if payload.diff is not None:
            self.diffs[result.method_id] = payload.diff
        if payload.measured:
            self._measured.add(result.method_id)
        if result.backend_notice and payload.measured:  # a backend failed: told once, here
            self.message_bar.show_message(result.backend_notice)
            self.compute.refresh()
        if panel is not None:
            self._show_result(panel, result)
        self._refresh_inspector()
        if not payload.measured:
            return
        self.metrics_table.add_result(result)
        self.progress.setValue(len(self._measured))
        if len(self._measured) >= self._expected:
            self.progress.hide()
            self.comparison_finished.emit(payload.job_id)
        self._refresh_colour_bar()
        if self.grid.line is not None:
            self._on_line_changed(*self.grid.line)

    def _show_result(self, panel, result: MethodResult) -> None:  # noqa: ANN001
        if not result.ok:
            panel.set_image(None, None)
            panel.set_title(core.method_title(result.method_id, result.params), ["cannot run"])
            panel.set_status(result.reason)
            return
        panel.set_title(core.method_title(result.method_id, result.params), self._title_details(result))
        diff = self.diffs.get(result.method_id) if self.settings_panel.show_diff.isChecked() else None
        if diff is not None:
            panel.set_image(diff.display.rgb, diff.values)
            panel.set_status(None)
        elif self.settings_panel.show_diff.isChecked() and self.job is not None and self.job.comparison.reference is not None:
            panel.set_image(self.displays[result.method_id], result.image)
            panel.set_status(result.note or "Difference map: computing...")
        else:
            panel.set_image(self.displays[result.method_id], result.image)
            panel.set_status(None)
        if result.note and diff is None:
            panel.setToolTip(result.note)
        self.grid.request_levels()

    def _title_details(self, result: MethodResult) -> list[str | tuple[str, str]]:
        """A result panel's details, most important first: PSNR (with its short form for a
        narrow panel), SSIM, time, backend."""
        details: list[str | tuple[str, str]] = []
        if result.metrics is not None:
            psnr = "\u221e" if result.metrics.psnr == float("inf") else f"{result.metrics.psnr:.2f}"
            details.append((f"PSNR {psnr} dB", f"{psnr} dB"))
            if result.metrics.ssim is not None:
                details.append(f"SSIM {result.metrics.ssim:.4f}")
        elif result.method_id not in self._measured:
            details.append("measuring...")
        time_text = f"{result.seconds * 1000:.1f} ms"
        if self.job is not None and self.job.comparison.backend.name != "cpu":
            time_text += f" on {BACKEND_LABELS.get(result.backend, result.backend)}"
        details.append(time_text)
        return details

    def _on_display_changed(self) -> None:
        options = self.settings_panel.diff_options()
        self.diff_action.setChecked(options is not None)
        self.diffs.clear()
        self.runner.recolour(list(self.results.values()), options)
        if options is not None and (self.job is None or self.job.comparison.reference is None):
            self.message_bar.show_message(
                "Difference maps need a reference: use degrade mode, or pick a method as the reference.", error=False
            )
        for key, result in self.results.items():
            panel = self.grid.panel(key)
            if panel is not None:
                self._show_result(panel, result)
        self._refresh_colour_bar()
        self._refresh_inspector()

    def _on_diff(self, method_id: str, payload: DiffPayload) -> None:
        self.diffs[method_id] = payload
        panel, result = self.grid.panel(method_id), self.results.get(method_id)
        if panel is not None and result is not None:
            self._show_result(panel, result)
        self._refresh_inspector()
        self._refresh_colour_bar()

    def _refresh_colour_bar(self) -> None:
        options = self.settings_panel.diff_options()
        shown = next(iter(self.diffs.values()), None) if options is not None else None
        if shown is None:
            self.colour_bar_view.hide()
            return
        lut = core.colormap_lut(shown.display.colormap)
        colour_map = pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)
        self.colour_bar.setColorMap(colour_map)
        self.colour_bar.setLevels((shown.display.low, shown.display.high))
        units = {"abs": "|method - reference|", "signed": "method - reference", "squared": "(method - reference)\u00b2"}
        self.colour_bar.axis.setLabel(f"{units[options.kind]}, gain x{options.gain:g}, image units")
        self.colour_bar_view.show()

    # Inspection -------------------------------------------------------------------------

    def shown_images(self) -> dict[str, np.ndarray]:
        """Each method's result, in panel order."""
        if self.job is None:
            return {}
        return {c.id: self.results[c.id].image for c in self.job.comparison.choices if c.id in self.results and self.results[c.id].ok}

    def _labels(self) -> dict[str, str]:
        labels = {key: panel.label for key, panel in self.grid.panels.items()}
        return labels

    def _on_hover(self, row: int, column: int) -> None:
        self._hovered = (row, column)
        self._refresh_inspector()
        if row >= 0:
            self.statusBar().showMessage(f"x={column}, y={row}")

    def _refresh_inspector(self) -> None:
        """Describe the hovered pixel with every result shown now. Called on each move
        and whenever a result or a difference map arrives, so no row ever describes
        another pixel or misses a method that came in under a resting cursor."""
        row, column = self._hovered
        if self.job is None:
            return
        comparison = self.job.comparison
        differences = {k: d.values for k, d in self.diffs.items()} if self.settings_panel.show_diff.isChecked() else None
        reference = comparison.reference
        name = self.job.reference_label if comparison.settings.reference is None else core.get_method(comparison.settings.reference).label
        self.inspector.show_pixel(
            row,
            column,
            labels=self._labels(),
            images=self.shown_images(),
            reference=reference,
            reference_name=name,
            input_image=comparison.input,
            differences=differences,
        )

    def _on_line_changed(self, start: Any, end: Any) -> None:
        if self.job is None:
            return
        images: dict[str, np.ndarray] = {}
        height, width = self.job.comparison.output_size
        if self.job.reference_values.shape[:2] == (height, width):
            images[REFERENCE_KEY] = self.job.reference_values
        images.update(self.shown_images())
        colours = {key: panel.colour for key, panel in self.grid.panels.items()}
        self.profile.update_profile(start, end, images, self._labels(), colours)

    def _on_level_needed(self, key: str, source: np.ndarray, window: core.DisplayWindow) -> None:
        panel = self.grid.panel(key)
        if panel is not None and panel.image_item.array is source:
            self.runner.reduce(key, source, window)

    def _on_level_ready(self, key: str, source: np.ndarray, window: core.DisplayWindow, level: np.ndarray) -> None:
        panel = self.grid.panel(key)
        if panel is not None and panel.image_item.array is source:
            panel.image_item.set_level(window, level)

    def _on_view_changed(self) -> None:
        self.zoom_label.setText(f"zoom {self.grid.zoom() * 100:.0f}%")


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
