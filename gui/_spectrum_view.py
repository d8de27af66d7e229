"""The spectrum view and the radial power profile.

`SpectrumView` shows, while the spectrum view is on, each panel's centred log-magnitude
spectrum (`core.spectrum_picture`) instead of its image, all coloured over one span so
the panels compare, and keeps the Radial power dock (`RadialProfilePlot`) filled with
every image's `core.radial_profile` while the dock is visible. Both are made in the
runner's pool (`ComparisonRunner.run_for_job`) and held in `ShownAnalysis`, so turning
the view off and on again, or a comparison that reuses results, computes nothing again.

It listens to the same runner and settings signals as the `ComparisonPresenter`, and is
connected after it: whatever the presenter puts on a panel, this replaces with the
panel's spectrum while the view is on. Main thread only.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

import core

from ._runner import ResultPayload
from ._shown_analysis import Profile, ShownAnalysis
from ._shown_comparison import DiffPayload, PreparedJob
from .canvas import REFERENCE_KEY

if TYPE_CHECKING:
    from ._main_window import MainWindow

#: Said on a panel whose spectrum is on its way.
COMPUTING = "Spectrum: computing..."
SPECTRUM_BAR_LABEL = f"{core.SPECTRUM_UNITS} of the luma spectrum (zero frequency at the centre)"


def _spectrum_of(image: np.ndarray, _comparison: core.Comparison) -> core.SpectrumPicture:
    """`core.spectrum_picture` of ``image``. Runs in a worker."""
    return core.spectrum_picture(image)


def _profile_of(image: np.ndarray, factor: float, _comparison: core.Comparison) -> Profile:
    """`core.radial_profile` of ``image`` with its frequencies times ``factor`` (cycles
    per pixel of the output grid for an image drawn over it ``1 / factor`` times as
    wide). Runs in a worker."""
    frequency, power = core.radial_profile(image)
    return frequency * factor, power


class SpectrumView(QtCore.QObject):
    """The spectrum view of ``window``'s panels and its Radial power dock."""

    shown_changed = QtCore.Signal(bool)

    def __init__(self, window: MainWindow, dock: QtWidgets.QDockWidget) -> None:
        super().__init__(window)
        self.window, self.dock = window, dock
        self.analysis = ShownAnalysis()
        self._colour_maps: dict[str, pg.ColorMap] = {}
        self.plot = window.radial_profile
        runner = window.runner
        runner.prepared.connect(self._on_prepared)
        runner.result_ready.connect(self._on_result)
        runner.diff_ready.connect(self._on_diff)
        window.settings_panel.display_changed.connect(self._show_all)
        window.grid.hovered.connect(self._on_hover)
        dock.visibilityChanged.connect(self._on_dock_visibility)

    # The panels' images -----------------------------------------------------------------

    def _images(self) -> dict[str, np.ndarray]:
        """The image each panel is of, in panel order: the reference's values, each
        result that ran."""
        job = self.window.shown.job
        if job is None:
            return {}
        images = {REFERENCE_KEY: job.reference_values}
        images.update(self.window.shown.shown_images())
        return images

    @property
    def shown(self) -> bool:
        """Whether the panels show spectra."""
        return self.analysis.spectrum_shown

    def set_shown(self, on: bool) -> None:
        """Show every panel's spectrum (computing those not made yet), or its image again."""
        if on == self.analysis.spectrum_shown:
            return
        self.analysis.spectrum_shown = on
        self.window.grid.hide_regions(on)  # image rectangles mean nothing over frequencies
        self.window.presenter.refresh_inspector()
        if on:
            self._show_all()
        else:
            self.window.presenter.show_panels()
            self.window.analysis.refresh_panels()  # a channel view or exposure in force comes back too
            self.window.statusBar().clearMessage()  # the last frequency under the cursor
        self.shown_changed.emit(on)

    def spectrum(self, key: str) -> core.SpectrumPicture | None:
        """The spectrum held of the image panel ``key`` is of now (None: not made yet)."""
        image = self._images().get(key)
        return None if image is None else self.analysis.spectra.get(key, image)

    # Following the comparison -----------------------------------------------------------

    def _on_prepared(self, job: PreparedJob) -> None:
        self.analysis.new_job([REFERENCE_KEY] + [c.key for c in job.comparison.choices])
        self.plot.clear()
        self._show_all()

    def _on_result(self, payload: ResultPayload) -> None:
        key = payload.result.choice_key
        if payload.result.ok:
            self._show_panel(key)
            self._refresh_profiles()
        self._refresh_colour_bar()

    def _on_diff(self, key: str, _payload: DiffPayload) -> None:
        self._show_panel(key)
        self._refresh_colour_bar()

    def _show_all(self) -> None:
        """Put every panel's spectrum on it (while the view is on), and fill the profiles."""
        if self.analysis.spectrum_shown:
            for key in self._images():
                self._show_panel(key)
            self._refresh_colour_bar()
        self._refresh_profiles()

    def _show_panel(self, key: str) -> None:
        """While the view is on: panel ``key``'s spectrum, or its image saying the
        spectrum is on its way (asked for here)."""
        if not self.analysis.spectrum_shown:
            return
        panel, image, job = self.window.grid.panel(key), self._images().get(key), self.window.shown.job
        if panel is None or image is None or job is None:
            return
        picture = self.analysis.spectra.get(key, image)
        if picture is None:
            panel.set_status(COMPUTING)
            if self.analysis.spectra.ask(key, image):
                self.window.runner.run_for_job(
                    functools.partial(_spectrum_of, image), functools.partial(self._on_spectrum, key, image)
                )
            return
        height, width = job.comparison.output_size
        # The reference of upscale mode is smaller: its spectrum is drawn over the output grid as it is.
        panel.set_image(picture.rgb, picture.values, width, height)
        panel.set_status(None)

    def _on_spectrum(self, key: str, source: np.ndarray, value: object) -> None:
        if isinstance(value, core.SpectrumPicture):
            self.analysis.spectra.put(key, source, value)
            if self._images().get(key) is source:
                self._show_panel(key)
                self._refresh_colour_bar()
                self.window.presenter.refresh_inspector()

    def _refresh_colour_bar(self) -> None:
        """While the view is on, the colour bar gives the span of the spectra shown (the
        first one held: the images of a comparison share one size, so one span)."""
        if not self.analysis.spectrum_shown:
            return
        picture = next((p for k in self._images() if (p := self.spectrum(k)) is not None), None)
        if picture is None:
            return
        window = self.window
        if (window.colour_bar_view.isVisible() and window.colour_bar.axis.labelText == SPECTRUM_BAR_LABEL
                and window.colour_bar.levels() == (picture.low, picture.high)):
            return  # shown already: drawing the bar again costs the GUI thread
        colour_map = self._colour_maps.get(picture.colormap)
        if colour_map is None:  # made once: a pyqtgraph colour map costs the GUI thread milliseconds
            lut = core.colormap_lut(picture.colormap)
            colour_map = self._colour_maps[picture.colormap] = pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)
        window.colour_bar.setColorMap(colour_map)
        window.colour_bar.setLevels((picture.low, picture.high))
        window.colour_bar.axis.setLabel(SPECTRUM_BAR_LABEL)
        window.colour_bar_view.show()

    def _frequency(self, row: int, column: int) -> tuple[float, float]:
        """The ``(fx, fy)`` in cycles per pixel at ``(row, column)`` of the centred spectra."""
        job = self.window.shown.job
        height, width = job.comparison.output_size if job is not None else (1, 1)
        return (column - width // 2) / width, (row - height // 2) / height

    def _on_hover(self, row: int, column: int) -> None:
        """In the spectrum view the status bar reads the frequency under the cursor."""
        if not self.analysis.spectrum_shown or self.window.shown.job is None or row < 0:
            return
        fx, fy = self._frequency(row, column)
        self.window.statusBar().showMessage(f"x={column}, y={row}: frequency fx={fx:+.4f}, fy={fy:+.4f} cycles/pixel")

    def inspect(self, row: int, column: int) -> None:
        """Fill the pixel inspector with each panel's log10 |F| at the frequency under
        the cursor, and its difference from the reference's."""
        job = self.window.shown.job
        if job is None:
            return
        spectra = {key: picture.values for key in self._images() if (picture := self.spectrum(key)) is not None}
        reference = spectra.pop(REFERENCE_KEY, None)
        if reference is not None and reference.shape[:2] != job.comparison.output_size:
            reference = None  # upscale mode: the original's spectrum has other frequencies
        self.window.inspector.show_spectrum(
            row, column, frequency=self._frequency(row, column),
            labels={key: panel.label for key, panel in self.window.grid.panels.items()},
            spectra=spectra, reference=reference, reference_name=self.window.shown.reference_name(),
        )

    # The radial power profile -------------------------------------------------------------

    def _on_dock_visibility(self, visible: bool) -> None:
        if visible:
            self._refresh_profiles()

    def _refresh_profiles(self) -> None:
        """Draw the profiles held of the images shown, asking for the missing ones while
        the dock can be seen."""
        job = self.window.shown.job
        if job is None:
            return
        # A dock behind another's tab counts as visible to Qt, but nothing of it shows.
        wanted = self.dock.isVisible() and not self.dock.visibleRegion().isEmpty()
        width = job.comparison.output_size[1]
        profiles: dict[str, Profile] = {}
        for key, image in self._images().items():
            profile = self.analysis.profiles.get(key, image)
            if profile is not None:
                profiles[key] = profile
            elif wanted and self.analysis.profiles.ask(key, image):
                factor = image.shape[1] / width
                self.window.runner.run_for_job(
                    functools.partial(_profile_of, image, factor), functools.partial(self._on_profile, key, image)
                )
        panels = self.window.grid.panels
        self.plot.show_profiles(profiles, {k: p.label for k, p in panels.items()}, {k: p.colour for k, p in panels.items()})

    def _on_profile(self, key: str, source: np.ndarray, value: object) -> None:
        if isinstance(value, tuple):
            self.analysis.profiles.put(key, source, value)
            if self._images().get(key) is source:
                self._refresh_profiles()
