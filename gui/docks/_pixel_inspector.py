"""The pixel inspector: every image's value at the pixel under the cursor.

Main thread only; it reads single pixels through `core.pixel_report`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PySide6 import QtCore, QtWidgets

import core

_COLUMNS = ("Image", "Value", "Error")
#: The channels a value lists, by channel count.
_CHANNEL_NAMES = {1: "grey", 2: "grey, alpha", 3: "R, G, B", 4: "R, G, B, A"}


def value_header(channels: int) -> str:
    """``"Value (R, G, B)"`` for 3 channels, ``"Value (grey)"`` for 1, and so on."""
    names = _CHANNEL_NAMES.get(channels, f"{channels} channels")
    return f"Value ({names})"


def error_header(dtype: np.dtype | type | None, differences: bool) -> str:
    """The third column's title: ``"Error (levels 0-255)"`` (the unit of images of type
    ``dtype``), or ``"Difference (unscaled)"`` while difference maps are shown."""
    if differences:
        return "Difference (unscaled)"
    return f"Error ({core.image_units(dtype)})" if dtype is not None else "Error"


def format_values(values: tuple[float, ...] | None, integer: bool) -> str:
    """``"12, 200, 3"`` for integer images, ``"0.125, 0.5, 1"`` otherwise; ``"-"`` for None."""
    if values is None:
        return "-"
    if integer:
        return ", ".join(str(int(round(v))) for v in values)
    return ", ".join(f"{v:.4g}" for v in values)


def format_errors(errors: tuple[float, ...] | None, integer: bool) -> str:
    if errors is None:
        return "-"
    if integer:
        return ", ".join(f"{int(round(v)):+d}" for v in errors)
    return ", ".join(f"{v:+.4g}" for v in errors)


class PixelInspector(QtWidgets.QWidget):
    """Coordinates of the hovered pixel, its source pixel in the input, the reference
    value and each method's value and error (or, with difference maps shown, the
    unscaled difference)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.position_label = QtWidgets.QLabel("Move the cursor over an image.")
        self.source_label = QtWidgets.QLabel("")
        self.reference_label = QtWidgets.QLabel("")
        for label in (self.position_label, self.source_label, self.reference_label):
            label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QtWidgets.QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(False)
        self._headers_for: tuple[str, str, str] | None = None
        self._set_headers(None, None, False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.position_label)
        layout.addWidget(self.source_label)
        layout.addWidget(self.reference_label)
        layout.addWidget(self.table, 1)

    def _set_headers(self, channels: int | None, dtype: np.dtype | None, differences: bool) -> None:
        """Name the channels listed and the unit of the errors in the column headers."""
        titles = (_COLUMNS[0], value_header(channels) if channels else _COLUMNS[1], error_header(dtype, differences))
        tips = (
            "The reference and each method's result",
            "The pixel's value, channel by channel" + (f", in {core.image_units(dtype)}" if dtype is not None else ""),
            "The difference map's value at this pixel, before the gain, in image units" if differences
            else "Method value minus reference value, per channel, in the image's own units",
        )
        self._set_header_items(titles, tips)

    def _set_header_items(self, titles: tuple[str, str, str], tips: tuple[str, str, str]) -> None:
        if titles == self._headers_for:
            return
        self._headers_for = titles
        for column, (title, tip) in enumerate(zip(titles, tips, strict=True)):
            item = QtWidgets.QTableWidgetItem(title)
            item.setToolTip(tip)
            self.table.setHorizontalHeaderItem(column, item)

    def header(self, column: int) -> str:
        item = self.table.horizontalHeaderItem(column)
        return item.text() if item is not None else ""

    def clear(self) -> None:
        self.position_label.setText("Move the cursor over an image.")
        self.source_label.setText("")
        self.reference_label.setText("")
        self.table.setRowCount(0)

    def show_pixel(
        self,
        row: int,
        column: int,
        *,
        labels: Mapping[str, str],
        images: Mapping[str, np.ndarray],
        reference: np.ndarray | None,
        reference_name: str,
        input_image: np.ndarray | None,
        differences: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Fill the inspector for output pixel ``(row, column)``.

        ``images`` maps method ids to results on the output grid; ``input_image`` is what
        the methods upsampled (its pixel is the one the output pixel came from). With
        ``differences`` (unscaled maps), their values are listed instead of the errors.
        """
        if row < 0 or column < 0:
            self.clear()
            return
        first_image = next(iter(images.values()), reference)
        output_size = first_image.shape[:2] if first_image is not None else None
        self.position_label.setText(f"Pixel x={column}, y={row}")
        integer_of = {key: np.issubdtype(image.dtype, np.integer) for key, image in images.items()}
        if input_image is not None and output_size is not None:
            sy, sx = core.source_pixel(row, column, output_size, input_image.shape[:2])
            value = core.pixel_values(input_image, sy, sx)
            text = format_values(value, np.issubdtype(input_image.dtype, np.integer))
            self.source_label.setText(f"From input pixel x={sx}, y={sy}: {text}")
        report = core.pixel_report(images, row, column, reference)
        if reference is not None:
            integer = np.issubdtype(reference.dtype, np.integer)
            self.reference_label.setText(f"{reference_name}: {format_values(report.reference, integer)}")
        else:
            self.reference_label.setText("No reference: errors are not measured.")
        first = next(iter(images.values()), reference)
        channels = None if first is None else (1 if first.ndim == 2 else first.shape[2])
        self._set_headers(channels, None if first is None else first.dtype, bool(differences))
        self.table.setRowCount(len(images))
        for index, key in enumerate(images):
            integer = integer_of[key]
            if differences and key in differences:
                diff_value = core.pixel_values(differences[key], row, column)
                error_text = format_errors(diff_value, False)
            else:
                error_text = format_errors(report.errors[key], integer)
            self._set_row(index, key, (labels.get(key, key), format_values(report.values[key], integer), error_text))

    def show_spectrum(
        self,
        row: int,
        column: int,
        *,
        frequency: tuple[float, float],
        labels: Mapping[str, str],
        spectra: Mapping[str, np.ndarray],
        reference: np.ndarray | None,
        reference_name: str,
    ) -> None:
        """Fill the inspector, in the spectrum view, for the frequency at ``(row,
        column)`` of the centred spectra: ``frequency`` is its ``(fx, fy)`` in cycles per
        pixel, ``spectra`` maps method ids to their ``(H, W)`` log10 magnitudes and
        ``reference`` is the reference's (None when it has no spectrum on this grid)."""
        if row < 0 or column < 0:
            self.clear()
            return
        fx, fy = frequency
        self.position_label.setText(f"Frequency fx={fx:+.4f}, fy={fy:+.4f} cycles/pixel (x={column}, y={row})")
        self.source_label.setText("")
        reference_value = _spectrum_value(reference, row, column)
        if reference_value is not None:
            self.reference_label.setText(f"{reference_name}: {reference_value:.3f} {core.SPECTRUM_UNITS}")
        else:
            self.reference_label.setText("No reference spectrum on this grid: differences are not measured.")
        self._set_header_items(
            ("Image", core.SPECTRUM_UNITS, f"Difference ({core.SPECTRUM_UNITS})"),
            ("The reference and each method's result",
             "The magnitude of the luma spectrum at this frequency, as log10 |F|",
             "Method minus reference, in log10 |F|: +1 is ten times the reference's magnitude"),
        )
        self.table.setRowCount(len(spectra))
        for index, (key, values) in enumerate(spectra.items()):
            value = _spectrum_value(values, row, column)
            difference = None if value is None or reference_value is None else value - reference_value
            self._set_row(index, key, (labels.get(key, key), "-" if value is None else f"{value:.3f}",
                                       "-" if difference is None else f"{difference:+.3f}"))

    def _set_row(self, index: int, key: str, cells: tuple[str, str, str]) -> None:
        """Row ``index`` of the table: the image's name, value and error, tagged with its key."""
        for column, text in enumerate(cells):
            item = QtWidgets.QTableWidgetItem(text)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, key)
            self.table.setItem(index, column, item)

    def cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""


def _spectrum_value(values: np.ndarray | None, row: int, column: int) -> float | None:
    """``values[row, column]`` as a float, None outside the array or without one."""
    if values is None or not (0 <= row < values.shape[0] and 0 <= column < values.shape[1]):
        return None
    return float(values[row, column])
