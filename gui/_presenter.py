"""Shows the comparison as it arrives.

`ComparisonPresenter` starts comparisons, records what the runner delivers in the window's
`ShownComparison`, and draws it: the grid's panels and titles, the metrics table, the
pixel inspector, the line profile, the colour bar of the difference maps, the progress
bar. It decides when a difference map is computed (another kind) and when the values held
are only recoloured (another gain). Main thread only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

import core
from core import MethodResult

from ._runner import ResultPayload
from ._shown_comparison import DiffChange, DiffPayload, PreparedJob
from .canvas import REFERENCE_KEY, ImagePanel

if TYPE_CHECKING:
    from ._main_window import MainWindow


class ComparisonPresenter(QtCore.QObject):
    """Shows ``window``'s comparison (the `MainWindow`) on its grid and docks."""

    finished = QtCore.Signal(int)  # job id whose results have all arrived

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.shown, self.runner = window.shown, window.runner
        self.grid, self.settings_panel = window.grid, window.settings_panel
        self.metrics_table, self.inspector, self.profile = window.metrics_table, window.inspector, window.profile
        self.image_list, self.message_bar, self.compute = window.image_list, window.message_bar, window.compute
        self.colour_bar, self.colour_bar_view = window.colour_bar, window.colour_bar_view
        self.progress, self.zoom_label = window.progress, window.zoom_label
        self._messages_at_start = 0
        self._hovered = (-1, -1)  # image row, column under the cursor
        self.runner.prepared.connect(self._on_prepared)
        self.runner.result_ready.connect(self._on_result)
        self.runner.diff_ready.connect(self._on_diff)
        self.runner.failed.connect(self._on_failed)
        self.runner.level_ready.connect(self._on_level_ready)
        self.runner.method_progress.connect(self._on_method_progress)
        self.settings_panel.display_changed.connect(self._on_display_changed)
        self.grid.hovered.connect(self._on_hover)
        self.grid.line_changed.connect(self._on_line_changed)
        self.grid.view_changed.connect(self._on_view_changed)
        self.grid.level_needed.connect(self._on_level_needed)

    # Comparing ---------------------------------------------------------------------------

    def recompute(self) -> None:
        """Start comparing the current image with the current settings (cancelling the
        comparison in flight)."""
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

    def _on_method_progress(self, method_id: str, done: int, total: int) -> None:
        """A model file runs in tiles: say how far it is, while it runs."""
        if total > 1:
            panel = self.grid.panel(method_id)  # the run of the method with its default parameters
            label = panel.label if panel is not None else method_id
            self.window.statusBar().showMessage(f"{label}: tile {done} of {total}", 3000)

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
        """A new comparison is on screen: its panels, its reference, empty tables."""
        self.shown.show_job(job)
        comparison = job.comparison
        self.metrics_table.clear_results([c.key for c in comparison.choices], comparison.settings.reference)
        height, width = comparison.output_size
        entries = [(REFERENCE_KEY, job.reference_label)]
        entries += [(c.key, core.method_title(c.id, c.params)) for c in comparison.choices]
        self.grid.set_panels(entries, (height, width))
        reference_panel = self._show_reference(job)
        if reference_panel is not None:
            rh, rw = job.reference_values.shape[:2]
            details: list[str | tuple[str, str]] = [core.size_text(rh, rw)]
            if (rh, rw) != (height, width):
                details.append(f"shown on the {core.size_text(height, width)} output grid")
            reference_panel.set_title(job.reference_label, details)
        self.grid.request_levels()
        self.refresh_inspector()
        for choice in comparison.choices:
            panel = self.grid.panel(choice.key)
            if panel is not None:
                panel.set_status("Computing...")
        self.progress.setRange(0, self.shown.expected)
        self.progress.setValue(0)
        self.progress.show()
        scale = comparison.scale
        scale_text = f"x{scale[0]:g}" if scale[0] == scale[1] else f"x{scale[1]:g} (x) by x{scale[0]:g} (y)"
        mode = "degrade, then restore" if comparison.ground_truth is not None else "upscale"
        self.window.setWindowTitle(f"Upscope - {job.image_name} - {mode} {scale_text}")
        self.image_list.select(job.image_key)
        self.message_bar.clear_error(since=self._messages_at_start)
        self.window.statusBar().showMessage(" ".join(comparison.notes))
        self._refresh_colour_bar()
        self._on_line_changed(*(self.grid.line or (None, None)))
        view, regions = self.shown.take_pending()
        if regions is not None:
            for reason in self.grid.set_regions(regions):
                self.message_bar.show_message(f"The session's {reason}.")
        if view is not None:  # a session's saved view, once its image is shown
            # A view saved on a larger image is kept on this one, as a pan would keep it.
            self.grid.look_at(min(max(view.cx, 0.0), float(width)), min(max(view.cy, 0.0), float(height)), view.zoom)

    def _show_reference(self, job: PreparedJob) -> ImagePanel | None:
        """Show ``job``'s reference on its panel (over the output grid); the panel, if any."""
        panel = self.grid.panel(REFERENCE_KEY)
        if panel is not None:
            height, width = job.comparison.output_size
            panel.set_image(job.reference_display, job.reference_values, width, height)
        return panel

    def show_panels(self) -> None:
        """Show again on every panel what it shows of the comparison: the reference, each
        result or its difference map (after a view that drew something else on them)."""
        job = self.shown.job
        if job is None:
            return
        self._show_reference(job)
        for key, result in self.shown.results.items():
            panel = self.grid.panel(key)
            if panel is not None:
                self._show_result(panel, result)
        self._refresh_colour_bar()

    def _on_result(self, payload: ResultPayload) -> None:
        """A method's result arrived (first its image, then measured)."""
        result = payload.result
        self.shown.add_result(result, payload.display, payload.diff, payload.measured)
        if result.backend_notice and payload.measured:  # a backend failed: told once, here
            self.message_bar.show_message(result.backend_notice)
            self.compute.refresh()
        panel = self.grid.panel(result.choice_key)
        if panel is not None:
            self._show_result(panel, result)
        self.refresh_inspector()
        if not payload.measured:
            return
        self.metrics_table.add_result(result)
        self.progress.setValue(self.shown.measured_count)
        if self.shown.all_measured:
            self.progress.hide()
            self.finished.emit(payload.job_id)
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
        diff = self.shown.shown_diff(result.choice_key)
        if diff is not None:
            panel.set_image(diff.display.rgb, diff.values)
            panel.set_status(None)
        elif self.shown.maps_wanted():
            panel.set_image(self.shown.displays[result.choice_key], result.image)
            panel.set_status(result.note or "Difference map: computing...")
        else:
            panel.set_image(self.shown.displays[result.choice_key], result.image)
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
        # Said of a comparison on screen only: with none yet, the next one may well have a reference.
        if options is not None and self.shown.job is not None and self.shown.job.comparison.reference is None:
            self.message_bar.show_message(
                "Difference maps need a reference: use degrade mode, or pick a method as the reference.", error=False
            )
        for key, result in self.shown.results.items():
            panel = self.grid.panel(key)
            if panel is not None:
                self._show_result(panel, result)
        self._refresh_colour_bar()
        self.refresh_inspector()

    def _on_diff(self, key: str, payload: DiffPayload) -> None:
        self.shown.set_diff(key, payload)
        panel, result = self.grid.panel(key), self.shown.results.get(key)
        if panel is not None and result is not None:
            self._show_result(panel, result)
        self.refresh_inspector()
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
        kind, gain = shown.options.kind, shown.options.gain
        formula = core.DIFF_FORMULAS[kind]
        if kind == "ssim":  # a measure in its own units; the gain magnifies the top of the scale
            text = formula if gain == 1 else f"{formula}, from {1 - 1 / gain:.3g} (gain x{gain:g})"
        elif kind == "flip":
            text = formula if gain == 1 else f"{formula}, gain x{gain:g}"
        else:
            text = f"{formula}, gain x{gain:g}, image units"
        self.colour_bar.axis.setLabel(text)
        self.colour_bar_view.show()

    # Inspection -------------------------------------------------------------------------

    def _labels(self) -> dict[str, str]:
        return {key: panel.label for key, panel in self.grid.panels.items()}

    def _on_hover(self, row: int, column: int) -> None:
        self._hovered = (row, column)
        self.refresh_inspector()
        if row >= 0:
            self.window.statusBar().showMessage(f"x={column}, y={row}")

    def refresh_inspector(self) -> None:
        """Describe the hovered pixel with every result shown now. Called on each move
        and whenever a result or a difference map arrives, so no row ever describes
        another pixel or misses a method that came in under a resting cursor. In the
        spectrum view, each spectrum's value at the frequency under the cursor instead."""
        row, column = self._hovered
        job = self.shown.job
        if job is None:
            return
        if self.window.spectrum_view.shown:
            self.window.spectrum_view.inspect(row, column)
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
