"""What the metrics table learns after a comparison is measured: the FLIP column, once
FLIP maps are shown, and one row per method and marked region.

`TableAnalysis` fills a result's FLIP from its FLIP map when the map arrives (the map's
mean is the FLIP metric, as `core.flip_map` returns it), and measures every result on
each region the grid marks (`core.Comparison.measure_region`) as results arrive and
whenever the regions change; rows of regions no longer marked go. The work runs in the
runner's pool (`ComparisonRunner.run_for_job`). It listens after the
`ComparisonPresenter`, which puts the whole-image rows in the table. Main thread only.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

import core
from core import MethodResult

from ._runner import ResultPayload
from ._shown_comparison import DiffPayload, PreparedJob

if TYPE_CHECKING:
    from ._main_window import MainWindow

#: Region rows that arrive within this time of each other are added to the table at once.
ROWS_DELAY_MS = 40


def _map_mean(values: np.ndarray, _comparison: core.Comparison) -> float:
    """The mean of a FLIP map (float64 sum): the mean FLIP error. Runs in a worker."""
    return float(np.mean(values, dtype=np.float64))


def _measure_region(result: MethodResult, region: core.Region, comparison: core.Comparison) -> MethodResult:
    """``result`` measured on ``region`` (`core.Comparison.measure_region`). Runs in a worker."""
    return comparison.measure_region(result, region)


class TableAnalysis(QtCore.QObject):
    """Fills ``window``'s metrics table beyond what a comparison measures."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.table = window.metrics_table
        #: Counts the changes of the regions: a region's measure asked before the last
        #: change is not shown.
        self._generation = 0
        self._arrived: list[MethodResult] = []
        self._show_arrived = QtCore.QTimer(self)
        self._show_arrived.setSingleShot(True)
        self._show_arrived.setInterval(ROWS_DELAY_MS)
        self._show_arrived.timeout.connect(self._show_arrived_rows)
        runner = window.runner
        runner.prepared.connect(self._on_prepared)
        runner.result_ready.connect(self._on_result)
        runner.diff_ready.connect(self._on_diff)
        window.grid.regions_changed.connect(self._on_regions_changed)

    @property
    def regions(self) -> tuple[core.Region, ...]:
        return tuple(self.window.grid.regions)

    # Regions --------------------------------------------------------------------------

    def _on_prepared(self, _job: PreparedJob) -> None:
        # The presenter emptied the table; the regions kept on this image get rows again.
        self._generation += 1
        self._arrived.clear()
        self.table.set_regions(self.regions)

    def _on_regions_changed(self, regions: list[core.Region]) -> None:
        self._generation += 1
        self._arrived.clear()
        self.table.set_regions(regions)
        shown = self.window.shown
        for result in shown.results_in_order():
            if shown.is_measured(result.choice_key):
                self._measure_regions(result)

    def _on_result(self, payload: ResultPayload) -> None:
        if payload.measured:
            self._measure_regions(payload.result)

    def _measure_regions(self, result: MethodResult) -> None:
        """Measure ``result`` on every marked region in the pool; each row arrives alone."""
        job = self.window.shown.job
        if not result.ok or job is None or job.comparison.reference is None:
            return
        generation = self._generation
        for region in self.regions:
            self.window.runner.run_for_job(
                functools.partial(_measure_region, result, region),
                functools.partial(self._on_region_measured, generation),
            )

    def _on_region_measured(self, generation: int, value: object) -> None:
        """Rows arriving together are shown together: rebuilding the table costs the GUI
        thread milliseconds a time."""
        if generation == self._generation and isinstance(value, MethodResult):
            self._arrived.append(value)
            self._show_arrived.start()

    def _show_arrived_rows(self) -> None:
        arrived, self._arrived = self._arrived, []
        if arrived:
            self.table.add_region_results(arrived)

    # FLIP from the FLIP maps ----------------------------------------------------------

    def _on_diff(self, key: str, payload: DiffPayload) -> None:
        """A FLIP map arrived: a measured result without its FLIP gets the map's mean."""
        shown = self.window.shown
        result = shown.results.get(key)
        if payload.options.kind != "flip" or result is None or result.flip is not None:
            return
        if not shown.is_measured(key):
            return
        values = payload.values
        self.window.runner.run_for_job(functools.partial(_map_mean, values), functools.partial(self._on_flip, result))

    def _on_flip(self, result: MethodResult, value: object) -> None:
        shown = self.window.shown
        if not isinstance(value, float) or shown.results.get(result.choice_key) is not result:
            return
        filled = replace(result, flip=value)
        shown.add_result(filled, None, None, measured=True)
        self.table.add_result(filled)
        # A region's FLIP is measured where the whole result has one.
        self._measure_regions(filled)
