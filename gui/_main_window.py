"""The main window: the comparison grid in the middle, docks around it, menus on top.

Main thread only. What is on screen lives in a `ShownComparison` (``window.shown``);
everything that needs computing is asked of `ComparisonRunner`, whose deliveries the
window records there and shows on the grid and the docks. The actions and menus are
made by `WindowActions`, exports and sessions by `Exporter`.
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
from ._exporter import Exporter
from ._help import HelpMenu
from ._message_bar import MessageBar
from ._runner import LIMIT_HINT, ComparisonRunner, LoadedImage, ResultPayload
from ._shown_comparison import DiffChange, DiffPayload, PreparedJob, ShownComparison
from .canvas import REFERENCE_KEY, ComparisonGrid, ImagePanel
from .docks import ImageList, LineProfilePlot, MetricsTable, PixelInspector, SettingsPanel

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
        self._messages_at_start = 0
        self._shown_once = False
        self._first_run_docks = False
        self._hovered = (-1, -1)  # image row, column under the cursor
        self._pasted: dict[str, np.ndarray] = {}  # pixels of pasted or dropped images, by list key
        self._pasted_count = 0

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
        }
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
        self.exporter = Exporter(self)
        self.commands = WindowActions(self)
        self._connect()
        self._restore()

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
        self.runner.prepared.connect(self._on_prepared)
        self.runner.result_ready.connect(self._on_result)
        self.runner.diff_ready.connect(self._on_diff)
        self.runner.failed.connect(self._on_failed)
        self.runner.loaded.connect(self._on_loaded)
        self.runner.load_checked.connect(self._on_load_checked)
        self.runner.level_ready.connect(self._on_level_ready)
        self.settings_panel.settings_changed.connect(self._recompute_timer.start)
        self.settings_panel.display_changed.connect(self._on_display_changed)
        self.grid.hovered.connect(self._on_hover)
        self.grid.line_changed.connect(self._on_line_changed)
        self.grid.view_changed.connect(self._on_view_changed)
        self.grid.maximise_requested.connect(self.grid.toggle_maximise)
        self.grid.level_needed.connect(self._on_level_needed)
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
        self._show_recent()

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
        self._show_recent()

    def _show_recent(self) -> None:
        self.commands.show_recent(self.recent_files(), self.open_paths)

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
            self.tabifyDockWidget(self.docks["inspector"], self.docks["profile"])
            self.docks["inspector"].raise_()
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

    # Opening images ---------------------------------------------------------------------

    def open_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Open images", self.dialog_folder(), IMAGE_FILTER)
        self.grid.setFocus()
        if paths:
            self.open_paths(paths)

    def dialog_folder(self) -> str:
        """Where file dialogs start: the folder of the image on screen, else of the most
        recent file, else the home folder (never the process's working directory)."""
        for candidate in [self.shown.shown_image_name, *self.recent_files()]:
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
        self.shown.choose_image(image, name, key)
        self.image_list.add(key, self._list_label(key, name), name)
        self.image_list.select(key)
        self.recompute()

    @staticmethod
    def _list_label(key: str, name: str) -> str:
        return name if key.startswith(("chart:", "pasted:")) else Path(name).name

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802 (Qt override)
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
            self.shown.take_pending()  # a session's view and regions belong to its image only
            # The Images list goes back to the image on screen.
            self.image_list.select(self.shown.shown_image_key)
        if bad:
            lines = [message for _path, message in bad]
            fallback = self.shown.image is None and not good and latest
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
        self.image_list.select(self.shown.shown_image_key)

    # Limits -------------------------------------------------------------------------------

    def max_input_pixels(self) -> int:
        """The largest image (in pixels) the window opens: File > Largest image to open."""
        default = core.limits.max_input_pixels // 1_000_000
        saved = self.store.value("max_input_megapixels", default)
        try:
            value = int(saved) if isinstance(saved, (int, float, str)) else default
        except ValueError:
            value = default
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
        shown = self.shown
        if shown.image is None:
            return
        settings = self.settings_panel.comparison_settings()
        if not settings.methods:
            self.message_bar.show_message("No method is ticked in Settings: tick at least one to compare.")
            return
        diff = self.settings_panel.diff_options()
        # Settings loaded from a session say nothing as they change: what they show is taken here.
        shown.set_diff_options(diff)
        reused = shown.reusable_results(settings)
        if reused is not None and shown.job is not None:
            self.runner.derive(shown.job, reused, dict(shown.displays), settings, diff)
        else:
            self.runner.start(shown.image, settings, diff, name=shown.image_name, key=shown.image_key)
        self._messages_at_start = self.message_bar.generation
        self.progress.setRange(0, 0)
        self.progress.show()
        for panel in self.grid.panels.values():
            if panel.key != REFERENCE_KEY:
                panel.set_status("Computing...")

    def _on_failed(self, _job_id: int, message: str) -> None:
        """The current job could not go on (the runner passes on only the current job's)."""
        self.progress.hide()
        for panel in self.grid.panels.values():
            panel.set_status(None if panel.key == REFERENCE_KEY or panel.shown_array is not None else "Not computed")
        if self.shown.keep_image_on_screen():
            # The new image could not be compared: the window keeps the one it shows.
            self.image_list.select(self.shown.image_key)
        self.message_bar.show_message(message)

    def _on_prepared(self, job: PreparedJob) -> None:
        self.shown.show_job(job)
        comparison = job.comparison
        self.metrics_table.clear_results([c.id for c in comparison.choices], comparison.settings.reference)
        height, width = comparison.output_size
        entries = [(REFERENCE_KEY, job.reference_label)]
        entries += [(c.id, core.method_title(c.id, c.params)) for c in comparison.choices]
        self.grid.set_panels(entries, (height, width))
        reference_panel = self.grid.panel(REFERENCE_KEY)
        if reference_panel is not None:
            reference_panel.set_image(job.reference_display, job.reference_values, width, height)
            rh, rw = job.reference_values.shape[:2]
            details: list[str | tuple[str, str]] = [core.size_text(rh, rw)]
            if (rh, rw) != (height, width):
                details.append(f"shown on the {core.size_text(height, width)} output grid")
            reference_panel.set_title(job.reference_label, details)
        self.grid.request_levels()
        self._refresh_inspector()
        for choice in comparison.choices:
            panel = self.grid.panel(choice.id)
            if panel is not None:
                panel.set_status("Computing...")
        self.progress.setRange(0, self.shown.expected)
        self.progress.setValue(0)
        self.progress.show()
        scale = comparison.scale
        scale_text = f"x{scale[0]:g}" if scale[0] == scale[1] else f"x{scale[1]:g} (x) by x{scale[0]:g} (y)"
        mode = "degrade, then restore" if comparison.ground_truth is not None else "upscale"
        self.setWindowTitle(f"Upscope - {job.image_name} - {mode} {scale_text}")
        self.image_list.select(job.image_key)
        self.message_bar.clear_error(since=self._messages_at_start)
        self.statusBar().showMessage(" ".join(comparison.notes))
        self._refresh_colour_bar()
        self._on_line_changed(*(self.grid.line or (None, None)))
        view, regions = self.shown.take_pending()
        if regions is not None:
            self.grid.set_regions(regions)
        if view is not None:  # a session's saved view, once its image is shown
            # A view saved on a larger image is kept on this one, as a pan would keep it.
            self.grid.look_at(min(max(view.cx, 0.0), float(width)), min(max(view.cy, 0.0), float(height)), view.zoom)

    def _on_result(self, payload: ResultPayload) -> None:
        result = payload.result
        self.shown.add_result(result, payload.display, payload.diff, payload.measured)
        if result.backend_notice and payload.measured:  # a backend failed: told once, here
            self.message_bar.show_message(result.backend_notice)
            self.compute.refresh()
        panel = self.grid.panel(result.method_id)
        if panel is not None:
            self._show_result(panel, result)
        self._refresh_inspector()
        if not payload.measured:
            return
        self.metrics_table.add_result(result)
        self.progress.setValue(self.shown.measured_count)
        if self.shown.all_measured:
            self.progress.hide()
            self.comparison_finished.emit(payload.job_id)
        self._refresh_colour_bar()
        if self.grid.line is not None:
            self._on_line_changed(*self.grid.line)

    def _show_result(self, panel: ImagePanel, result: MethodResult) -> None:
        """Show ``result`` on ``panel``: its difference map when maps are shown and it
        has one, else the result itself (saying when its map is on its way)."""
        title = core.method_title(result.method_id, result.params)
        if not result.ok:
            panel.set_image(None, None)
            panel.set_title(title, ["cannot run"])
            panel.set_status(result.reason)
            return
        panel.set_title(title, self.shown.title_details(result))
        diff = self.shown.shown_diff(result.method_id)
        if diff is not None:
            panel.set_image(diff.display.rgb, diff.values)
            panel.set_status(None)
        elif self.shown.maps_wanted():
            panel.set_image(self.shown.displays[result.method_id], result.image)
            panel.set_status(result.note or "Difference map: computing...")
        else:
            panel.set_image(self.shown.displays[result.method_id], result.image)
            panel.set_status(None)
        if result.note and diff is None:
            panel.setToolTip(result.note)
        self.grid.request_levels()

    def _on_display_changed(self) -> None:
        """Difference maps turned on or off, or drawn another way: another kind is
        computed anew, another gain only recolours the values held."""
        options = self.settings_panel.diff_options()
        change = self.shown.set_diff_options(options)
        self.runner.set_diff_options(options)
        if options is not None and change is DiffChange.COMPUTE:
            self.runner.make_differences(list(self.shown.results.values()), options)
        elif options is not None and change is DiffChange.RECOLOUR:
            self.runner.recolour(self.shown.diff_values(), options)
        if options is not None and (self.shown.job is None or self.shown.job.comparison.reference is None):
            self.message_bar.show_message(
                "Difference maps need a reference: use degrade mode, or pick a method as the reference.", error=False
            )
        for key, result in self.shown.results.items():
            panel = self.grid.panel(key)
            if panel is not None:
                self._show_result(panel, result)
        self._refresh_colour_bar()
        self._refresh_inspector()

    def _on_diff(self, method_id: str, payload: DiffPayload) -> None:
        self.shown.set_diff(method_id, payload)
        panel, result = self.grid.panel(method_id), self.shown.results.get(method_id)
        if panel is not None and result is not None:
            self._show_result(panel, result)
        self._refresh_inspector()
        self._refresh_colour_bar()

    def _refresh_colour_bar(self) -> None:
        """The colour bar of the maps shown, labelled with what they show and their gain."""
        shown = next(iter(self.shown.diffs.values()), None) if self.shown.diff_options is not None else None
        if shown is None:
            self.colour_bar_view.hide()
            return
        lut = core.colormap_lut(shown.display.colormap)
        colour_map = pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)
        self.colour_bar.setColorMap(colour_map)
        self.colour_bar.setLevels((shown.display.low, shown.display.high))
        formula = core.DIFF_FORMULAS[shown.options.kind]
        self.colour_bar.axis.setLabel(f"{formula}, gain x{shown.options.gain:g}, image units")
        self.colour_bar_view.show()

    # Inspection -------------------------------------------------------------------------

    def _labels(self) -> dict[str, str]:
        return {key: panel.label for key, panel in self.grid.panels.items()}

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
        job = self.shown.job
        if job is None:
            return
        comparison = job.comparison
        self.inspector.show_pixel(
            row,
            column,
            labels=self._labels(),
            images=self.shown.shown_images(),
            reference=comparison.reference,
            reference_name=self.shown.reference_name(),
            input_image=comparison.input,
            differences=self.shown.diff_values() if self.shown.diff_options is not None else None,
        )

    def _on_line_changed(self, start: tuple[float, float] | None, end: tuple[float, float] | None) -> None:
        job = self.shown.job
        if job is None:
            return
        images: dict[str, np.ndarray] = {}
        height, width = job.comparison.output_size
        if job.reference_values.shape[:2] == (height, width):
            images[REFERENCE_KEY] = job.reference_values
        images.update(self.shown.shown_images())
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
