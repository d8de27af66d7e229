"""Export from the window: comparison PNG, paper figure, results folder, session files.

The dialogs only collect choices. Every figure is drawn and written by `core` in the
runner's export pool, so the window stays responsive and the command line draws the very
same figure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PySide6 import QtCore, QtWidgets

import core
from core.report.session import MAX_SESSION_BYTES, added_methods

from .docks import CONVENTION_TEXT

if TYPE_CHECKING:
    from ._main_window import MainWindow

#: A figure's background and the image format of result files, as `core` takes them.
Background = Literal["light", "dark"]
ImageFormat = Literal["png", "tif"]
#: What a saved session says when it has no image file to reopen.
NO_IMAGE_FILE_NOTE = " It has no image file (a chart or a pasted image), so it reopens the settings only."
#: The convention papers report their numbers in, which the paper figure offers first.
PAPER: core.Convention = "paper"


@dataclass(frozen=True)
class ComparisonExportChoice:
    """What the comparison-PNG dialog asks: extent, extra rows, background."""

    current_view: bool = False
    include_diff: bool = False
    include_metrics: bool = False
    background: Background = "light"
    include_spectrum: bool = False


class ComparisonExportDialog(QtWidgets.QDialog):
    """Options of File > Export comparison PNG."""

    def __init__(
        self, parent: QtWidgets.QWidget | None = None, choice: ComparisonExportChoice = ComparisonExportChoice()
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export comparison PNG")
        self.whole = QtWidgets.QRadioButton("Whole image (every pixel)")
        self.view = QtWidgets.QRadioButton("Current view, magnified as sharp pixels")
        (self.view if choice.current_view else self.whole).setChecked(True)
        self.diff = QtWidgets.QCheckBox("Add the difference maps, with their colour bar")
        self.diff.setChecked(choice.include_diff)
        self.metrics = QtWidgets.QCheckBox("Add the metrics table")
        self.metrics.setChecked(choice.include_metrics)
        self.spectrum = QtWidgets.QCheckBox("Add the spectra, with their colour scale and checkerboard scores")
        self.spectrum.setChecked(choice.include_spectrum)
        self.background = QtWidgets.QComboBox()
        self.background.addItem("Light background", "light")
        self.background.addItem("Dark background", "dark")
        self.background.setCurrentIndex(self.background.findData(choice.background))
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        for widget in (self.whole, self.view, self.diff, self.metrics, self.spectrum, self.background, buttons):
            layout.addWidget(widget)

    def choice(self) -> ComparisonExportChoice:
        return ComparisonExportChoice(
            self.view.isChecked(), self.diff.isChecked(), self.metrics.isChecked(), self.background.currentData(),
            self.spectrum.isChecked(),
        )


class ResultsExportDialog(QtWidgets.QDialog):
    """Options of File > Export results: the folder and the image format."""

    def __init__(self, parent: QtWidgets.QWidget | None, folder: str, image_format: ImageFormat = "png") -> None:
        super().__init__(parent)
        self.setWindowTitle("Export results, maps and metrics")
        self.folder_edit = QtWidgets.QLineEdit(folder)
        browse = QtWidgets.QPushButton("Choose...")
        browse.clicked.connect(self._browse)
        self.format = QtWidgets.QComboBox()
        self.format.addItem("PNG (8 and 16 bits; float images as TIFF)", "png")
        self.format.addItem("TIFF (8 and 16 bits, float)", "tif")
        self.format.setCurrentIndex(max(self.format.findData(image_format), 0))
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form = QtWidgets.QFormLayout()
        form.addRow("Folder", row)
        form.addRow("Images as", self.format)
        note = QtWidgets.QLabel(
            "Writes the reference, the low-resolution input, each result (lossless, in its own "
            "bit depth), each difference map, and metrics.csv / metrics.json. Files of the same "
            "name in the folder are replaced."
        )
        note.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        start = self.folder_edit.text()
        while start and not Path(start).is_dir() and Path(start).parent != Path(start):
            start = str(Path(start).parent)
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export results into a folder", start)
        if folder:
            self.folder_edit.setText(folder)

    def folder(self) -> str:
        return self.folder_edit.text().strip()

    def image_format(self) -> ImageFormat:
        return self.format.currentData()

    def accept(self) -> None:
        if not self.folder():
            QtWidgets.QMessageBox.warning(self, "Export results", "Give a folder to write into.")
            return
        super().accept()


class Exporter(QtCore.QObject):
    """The window's exports and sessions. It reads what is on screen from the window's
    `ShownComparison` (``window.shown``), the marked regions and view from its grid, and
    the settings from its settings panel's public methods; figures and files are written
    in the runner's task pool."""

    finished = QtCore.Signal(str)  # a sentence saying what was written
    failed = QtCore.Signal(str)  # why nothing was written

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.shown = window.shown
        self.choice = ComparisonExportChoice()
        self.results_format: ImageFormat = "png"
        # Exports running: task id to (success sentence from the task's value, target).
        self._pending: dict[int, tuple[Callable[[Any], str], str]] = {}
        # Sessions being read in the task pool: task id to the session file.
        self._sessions: dict[int, str] = {}
        window.runner.task_done.connect(self._on_done)
        window.runner.task_failed.connect(self._on_failed)

    # What there is to export -------------------------------------------------------------

    def _ready(self) -> tuple[core.Comparison, list[core.MethodResult]] | None:
        """The comparison on screen and its results in display order, or None (and a
        message) while there is nothing complete to export."""
        problem = self.shown.export_problem()
        if problem is not None or self.shown.job is None:
            self.failed.emit(problem or "Nothing to export yet: open an image first.")
            return None
        return self.shown.job.comparison, self.shown.results_in_order()

    def _image_name(self) -> str:
        """The name of the image whose comparison is on screen (not one being loaded)."""
        return self.shown.shown_image_name

    def _title(self) -> str:
        name = self._image_name()
        return Path(name).name if name and not name.startswith("chart:") else name.removeprefix("chart:")

    # Comparison PNG ------------------------------------------------------------------------

    def export_dialog(self) -> None:
        if self._ready() is None:
            return
        # The spectra the panels show go into the figure unless the user unticks them.
        shown = self.window.spectrum_view.shown
        dialog = ComparisonExportDialog(self.window, replace(self.choice, include_spectrum=self.choice.include_spectrum or shown))
        accepted = dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
        self.window.grid.setFocus()
        if not accepted:
            return
        self.choice = dialog.choice()
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.window, "Export comparison PNG", self._suggest("comparison.png"), "PNG image (*.png)"
        )
        self.window.grid.setFocus()
        if path:
            self.export_comparison(_with_suffix(path, ".png"), self.choice)

    def export_comparison(self, path: str | Path, choice: ComparisonExportChoice) -> int | None:
        """Write the comparison grid to ``path`` in the background; returns the task id."""
        ready = self._ready()
        if ready is None:
            return None
        comparison, results = ready
        style = self.window.settings_panel.diff_style()
        options = core.GridOptions(
            crop=self.window.grid.visible_region() if choice.current_view else None,
            include_diff=choice.include_diff,
            include_metrics=choice.include_metrics,
            include_spectrum=choice.include_spectrum,
            background=choice.background,
            diff_kind=style.kind,
            diff_gain=style.gain,
        )
        title = self._title()
        return self._write_figure(path, lambda: core.comparison_figure(comparison, results, options, title=title), "Exported")

    # Paper figure --------------------------------------------------------------------------

    def paper_dialog(self) -> None:
        if self._ready() is None:
            return
        if not self.window.grid.regions:
            self.failed.emit("Mark one or two regions first: View > Mark regions (R), then drag on any panel.")
            return
        ready = self._ready()
        if ready is not None:
            height, width = ready[0].output_size
            try:
                for index, region in enumerate(self.window.grid.regions):
                    region.within((height, width), f"region {index + 1}")
            except core.ParameterError as exc:  # before any dialog: the regions are the problem
                self.failed.emit(f"{exc}. Mark the regions again on this image.")
                return
        # The papers' convention first: it is what the figure is for.
        offered = {CONVENTION_TEXT[c][0]: c for c in sorted(core.CONVENTIONS, key=lambda c: c != PAPER)}
        dialog = QtWidgets.QInputDialog(self.window)
        dialog.setWindowTitle("Export paper figure")
        dialog.setLabelText("PSNR/SSIM under each crop:")
        dialog.setComboBoxItems(list(offered))
        dialog.setMinimumWidth(440)  # else the window manager cuts the title
        ok = dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
        convention = offered.get(dialog.textValue(), PAPER)
        self.window.grid.setFocus()
        if not ok:
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.window, "Export paper figure", self._suggest("paper-figure.png"), "PNG image (*.png)"
        )
        self.window.grid.setFocus()
        if path:
            self.export_paper(_with_suffix(path, ".png"), convention, self.choice.background)

    def export_paper(
        self, path: str | Path, convention: core.Convention = PAPER, background: Background = "light"
    ) -> int | None:
        """Write the paper figure of the marked regions to ``path`` in the background."""
        ready = self._ready()
        if ready is None:
            return None
        regions = list(self.window.grid.regions)
        if not regions:
            self.failed.emit("Mark one or two regions first: View > Mark regions (R), then drag on any panel.")
            return None
        comparison, results = ready

        def draw() -> np.ndarray:
            return core.paper_figure(comparison, results, regions, convention=convention, background=background)

        return self._write_figure(path, draw, "Exported the paper figure to")

    # Results folder ------------------------------------------------------------------------

    def results_dialog(self) -> None:
        if self._ready() is None:
            return
        dialog = ResultsExportDialog(self.window, self._suggest_folder(), self.results_format)
        accepted = dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
        self.window.grid.setFocus()
        if accepted:
            self.results_format = dialog.image_format()
            self.export_results(dialog.folder(), self.results_format)

    def _suggest_folder(self) -> str:
        """A new folder beside the image on screen, named after it."""
        image = self._image_name()
        base = Path(image).parent if image and Path(image).is_file() else Path(self.window.sources.dialog_folder())
        stem = Path(image).stem if image and Path(image).is_file() else "comparison"
        return str(base / f"{stem}-results")

    def export_results(self, folder: str | Path, image_format: ImageFormat = "png") -> int | None:
        """Each result (lossless, 16-bit kept), each difference map, metrics CSV and
        JSON, into ``folder``; existing files there are replaced."""
        ready = self._ready()
        if ready is None:
            return None
        comparison, results = ready
        style, name = self.window.settings_panel.diff_style(), self._image_name()
        regional = self.window.metrics_table.region_results()  # the rows the table shows

        def work() -> int:
            written = core.export_results(
                folder, comparison, results, image_format=image_format,
                diff_kind=style.kind, diff_gain=style.gain, overwrite=True, image_name=name,
                region_results=regional,
            )
            return len(written)

        return self._start(work, lambda count: f"Wrote {count} files into {folder}.", folder)

    # Sessions ------------------------------------------------------------------------------

    def session(self) -> core.Session:
        """The comparison on screen as a `core.Session`."""
        window = self.window
        name = self._image_name()
        image = name if name and Path(name).is_file() else None
        state = window.grid.state
        view = None if state.fit else core.View(state.cx, state.cy, state.zoom)
        panel = window.settings_panel
        style = panel.diff_style()
        return core.Session(
            image=image,
            settings=panel.comparison_settings(),
            regions=tuple(window.grid.regions),
            view=view,
            show_difference=panel.maps_shown(),
            diff_kind=style.kind,
            diff_gain=style.gain,
            added=added_methods(),
        )

    def save_session_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.window, "Save session", self._suggest("session.upscope.json"), "Upscope session (*.json)"
        )
        self.window.grid.setFocus()
        if path:
            self.save_session(_with_suffix(path, ".json"))

    def save_session(self, path: str | Path) -> bool:
        session = self.session()
        try:
            core.save_session(path, session)
        except core.UpscopeError as exc:
            self.failed.emit(str(exc))
            return False
        note = "" if session.image is not None else NO_IMAGE_FILE_NOTE
        self.finished.emit(f"Saved the session to {path}.{note}")
        return True

    def open_session_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, "Open session", self.window.sources.dialog_folder(), "Upscope session (*.json);;All files (*)"
        )
        self.window.grid.setFocus()
        if path:
            self.open_session(path)

    def open_session(self, path: str | Path) -> bool:
        """Apply a session: settings, regions and view now, the image when it is read.
        A session that adds the user's own methods again (model files, result images,
        plugins) is read in the task pool, as loading a network takes seconds: True then
        says it is on its way, and a failure arrives through `failed`."""
        if _adds_methods(path):
            task_id = self.window.runner.run_task(lambda: core.load_session(path))
            self._sessions[task_id] = str(path)
            self.window.statusBar().showMessage(f"Opening the session {path}...")
            return True
        try:
            session = core.load_session(path)
        except core.UpscopeError as exc:
            self.failed.emit(str(exc))
            return False
        self.apply_session(session)
        return True

    def apply_session(self, session: core.Session) -> None:
        """Show ``session``'s settings, regions and view now; its image (if any) is read,
        and its view applied, when it arrives. The methods it added again are listed in
        the settings; what reopening found (a changed or missing file) stays in the
        message bar."""
        window = self.window
        window.settings_panel.list_new_methods()
        window.settings_panel.apply_session(session)
        if session.notes:
            window.message_bar.show_message(
                "The session's own methods:\n" + "\n".join(session.notes), keep=True
            )
        self.shown.pending_regions = session.regions
        self.shown.pending_view = session.view
        if session.image is not None:
            window.open_paths([session.image])
        else:
            window.recompute()

    # Plumbing ------------------------------------------------------------------------------

    def _write_figure(self, path: str | Path, draw: Callable[[], np.ndarray], verb: str) -> int:
        """Draw a figure with ``draw`` and save it to ``path``, both in the export pool."""
        target = Path(path)

        def work() -> tuple[int, int]:
            figure = draw()
            core.save_image(target, figure)
            return figure.shape[1], figure.shape[0]

        return self._start(work, lambda size: f"{verb} {target} ({size[0]}x{size[1]} pixels).", target)

    def _start(self, work: Callable[[], object], describe: Callable[[Any], str], target: str | Path) -> int:
        """Run an export writing ``target`` (a file or a folder) in the export pool;
        ``describe`` turns what ``work`` returns into the sentence of success."""
        task_id = self.window.runner.run_task(work)
        self._pending[task_id] = (describe, str(target))
        self.window.statusBar().showMessage(f"Exporting {target}...")
        return task_id

    def _settle_status(self) -> None:
        """The status bar's "Exporting..." goes once no export is left running."""
        if not self._pending and not self._sessions:
            self.window.statusBar().clearMessage()

    def _on_done(self, task_id: int, value: object) -> None:
        if task_id in self._sessions:
            del self._sessions[task_id]
            self._settle_status()
            if isinstance(value, core.Session):
                self.apply_session(value)
            return
        pending = self._pending.pop(task_id, None)
        if pending is not None:
            self._settle_status()
            describe, _target = pending
            self.finished.emit(describe(value))

    def _on_failed(self, task_id: int, message: str) -> None:
        """Say which file failed and why: ``"Export failed: <file>: <reason>"`` (the
        reason alone when it names that file already)."""
        if task_id in self._sessions:
            del self._sessions[task_id]
            self._settle_status()
            self.failed.emit(message)
            return
        pending = self._pending.pop(task_id, None)
        if pending is not None:
            self._settle_status()
            _describe, target = pending
            self.failed.emit(f"Export failed: {message}" if target in message else f"Export failed: {target}: {message}")

    def _suggest(self, name: str) -> str:
        image = self._image_name()
        if image and Path(image).is_file():
            return str(Path(image).with_name(f"{Path(image).stem}-{name}"))
        return str(Path(self.window.sources.dialog_folder()) / name)


def _adds_methods(path: str | Path) -> bool:
    """Whether the session file at ``path`` lists methods to add again (a quick look at a
    regular file of a session's size; `core.load_session` reads it properly)."""
    file = Path(path)
    try:
        if not file.is_file() or file.stat().st_size > MAX_SESSION_BYTES:
            return False
        data = json.loads(file.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and isinstance(data.get("added"), list) and bool(data["added"])


def _with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else path + suffix
