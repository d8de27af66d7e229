"""The settings dock: what to compare (mode, scale, methods and their parameters,
reference, metric convention) and how to draw difference maps.

Main thread only. It turns widgets into a `core.ComparisonSettings` and a `DiffOptions`,
and into a plain dict for persistence.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

import core
from core import ComparisonSettings, MethodChoice, Param

from ._runner import DiffOptions

#: Ticked when the app starts for the first time: the core's default methods, the same
#: set the command line and `core.ComparisonSettings()` run.
DEFAULT_METHODS = tuple(choice.id for choice in core.default_methods())
GAINS = (1, 2, 4, 8, 16, 32, 64)
_AUTO = "auto"


class SettingsPanel(QtWidgets.QWidget):
    """Settings widgets. ``settings_changed`` means "recompute"; ``display_changed``
    means only the way difference maps are drawn changed."""

    settings_changed = QtCore.Signal()  # anything a comparison depends on changed
    display_changed = QtCore.Signal()  # difference-map display options changed

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._params: dict[str, dict[str, Any]] = {}
        self._loading = False

        self.mode = QtWidgets.QComboBox()
        self.mode.addItem("Degrade, then restore", "degrade")
        self.mode.addItem("Upscale as it is", "upscale")
        self.scale = self._scale_box()
        self.separate_xy = QtWidgets.QCheckBox("separate x / y")
        self.scale_x = self._scale_box()
        self.scale_x.setEnabled(False)
        self.downsampler = QtWidgets.QComboBox()
        for spec in core.list_downsamplers():
            self.downsampler.addItem(spec.label, spec.id)
            self.downsampler.setItemData(self.downsampler.count() - 1, spec.description, QtCore.Qt.ItemDataRole.ToolTipRole)
        _select(self.downsampler, ComparisonSettings().downsampler)
        self.methods = QtWidgets.QListWidget()
        for spec in core.list_methods():
            item = QtWidgets.QListWidgetItem(spec.label)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, spec.id)
            item.setToolTip(f"{spec.id}: {spec.description}")
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.CheckState.Checked if spec.id in DEFAULT_METHODS else QtCore.Qt.CheckState.Unchecked)
            self.methods.addItem(item)
        self.param_box = QtWidgets.QGroupBox("Parameters")
        self.param_form = QtWidgets.QFormLayout(self.param_box)
        self.reference = QtWidgets.QComboBox()
        self.reference.addItem("Ground truth (degrade mode)", None)
        for spec in core.list_methods():
            self.reference.addItem(spec.label, spec.id)
        self.convention = QtWidgets.QComboBox()
        self.convention.addItem("All channels", "all")
        self.convention.addItem("Paper (luma, border shaved)", "paper")
        self.show_diff = QtWidgets.QCheckBox("Show difference maps")
        self.diff_kind = QtWidgets.QComboBox()
        for kind in ("abs", "signed", "squared"):
            self.diff_kind.addItem(kind, kind)
        self.gain = QtWidgets.QComboBox()
        for gain in GAINS:
            self.gain.addItem(f"x{gain}", gain)

        form = QtWidgets.QFormLayout()
        form.addRow("Mode", self.mode)
        scale_row = QtWidgets.QHBoxLayout()
        scale_row.addWidget(self.scale)
        scale_row.addWidget(self.separate_xy)
        form.addRow("Scale", scale_row)
        form.addRow("Scale x", self.scale_x)
        form.addRow("Downsampler", self.downsampler)
        form.addRow("Reference", self.reference)
        form.addRow("Metrics on", self.convention)
        diff_form = QtWidgets.QFormLayout()
        diff_form.addRow(self.show_diff)
        diff_form.addRow("Difference", self.diff_kind)
        diff_form.addRow("Gain", self.gain)
        diff_box = QtWidgets.QGroupBox("Difference maps")
        diff_box.setLayout(diff_form)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QtWidgets.QLabel("Methods (tick to compare; select to edit parameters)"))
        layout.addWidget(self.methods, 1)
        layout.addWidget(self.param_box)
        layout.addWidget(diff_box)

        for combo in (self.mode, self.downsampler, self.reference, self.convention):
            combo.currentIndexChanged.connect(self._changed)
        self.scale.valueChanged.connect(self._changed)
        self.scale_x.valueChanged.connect(self._changed)
        self.separate_xy.toggled.connect(self._on_separate_toggled)
        self.methods.itemChanged.connect(self._changed)
        self.methods.currentItemChanged.connect(self._on_method_selected)
        for widget in (self.diff_kind, self.gain):
            widget.currentIndexChanged.connect(self._display_changed)
        self.show_diff.toggled.connect(self._display_changed)
        self._on_method_selected(self.methods.currentItem())

    @staticmethod
    def _scale_box() -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox()
        box.setRange(1.1, core.limits.max_scale)
        box.setDecimals(2)
        box.setSingleStep(0.5)
        box.setValue(4.0)
        box.setKeyboardTracking(False)
        return box

    # Reading --------------------------------------------------------------------------

    def checked_methods(self) -> list[str]:
        return [
            self.methods.item(i).data(QtCore.Qt.ItemDataRole.UserRole)
            for i in range(self.methods.count())
            if self.methods.item(i).checkState() == QtCore.Qt.CheckState.Checked
        ]

    def scale_value(self) -> float | tuple[float, float]:
        if self.separate_xy.isChecked():
            return (self.scale.value(), self.scale_x.value())
        return self.scale.value()

    def comparison_settings(self) -> ComparisonSettings:
        methods = tuple(MethodChoice(m, dict(self._params.get(m, {}))) for m in self.checked_methods())
        return ComparisonSettings(
            mode=self.mode.currentData(),
            scale=self.scale_value(),
            downsampler=self.downsampler.currentData(),
            methods=methods,
            reference=self.reference.currentData(),
            convention=self.convention.currentData(),
        )

    def diff_options(self) -> DiffOptions | None:
        """The difference-map options, or None when maps are not shown."""
        if not self.show_diff.isChecked():
            return None
        return DiffOptions(kind=self.diff_kind.currentData(), gain=float(self.gain.currentData()))

    # Parameters of the selected method ---------------------------------------------------

    def set_param(self, method_id: str, name: str, value: Any) -> None:
        """Set one parameter (None: back to its default) and ask for a recompute."""
        params = self._params.setdefault(method_id, {})
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
        self._changed()

    def params_of(self, method_id: str) -> dict[str, Any]:
        return dict(self._params.get(method_id, {}))

    def _on_method_selected(self, item: QtWidgets.QListWidgetItem | None) -> None:
        while self.param_form.rowCount():
            self.param_form.removeRow(0)
        if item is None:
            self.param_form.addRow(QtWidgets.QLabel("Select a method to see its parameters."))
            return
        spec = core.get_method(item.data(QtCore.Qt.ItemDataRole.UserRole))
        self.param_box.setTitle(f"Parameters of {spec.label}")
        editable = [p for p in spec.params if p.user and p.kind in ("float", "int", "choice", "kernel")]
        if not editable:
            self.param_form.addRow(QtWidgets.QLabel("This method has no parameters."))
        for param in editable:
            editor = self._editor_for(spec.id, param)
            editor.setToolTip(param.description)
            self.param_form.addRow(param.name, editor)

    def _editor_for(self, method_id: str, param: Param) -> QtWidgets.QWidget:
        current = self._params.get(method_id, {}).get(param.name, param.default)
        if param.kind in ("choice", "kernel"):
            combo = QtWidgets.QComboBox()
            for choice in param.choices:
                combo.addItem(choice, choice)
            combo.setCurrentIndex(max(combo.findData(current), 0))
            combo.currentIndexChanged.connect(lambda _i: self.set_param(method_id, param.name, combo.currentData()))
            return combo
        if param.kind == "int":
            spin: QtWidgets.QAbstractSpinBox = QtWidgets.QSpinBox()
            low = int(param.minimum if param.minimum is not None else 0)
            spin.setRange(low - 1 if param.default is None else low, int(param.maximum or 1024))
        else:
            spin = QtWidgets.QDoubleSpinBox()
            spin.setDecimals(3)
            spin.setSingleStep(0.05)
            spin.setRange(param.minimum if param.minimum is not None else -1e6, param.maximum if param.maximum is not None else 1e6)
        if param.default is None:
            spin.setSpecialValueText(_AUTO)  # the minimum shows "auto": chosen from the scale
        spin.setKeyboardTracking(False)
        spin.setValue(spin.minimum() if current is None else current)

        def on_value(value: float) -> None:
            auto = param.default is None and value == spin.minimum()
            self.set_param(method_id, param.name, None if auto else value)

        spin.valueChanged.connect(on_value)
        return spin

    # Events and persistence ---------------------------------------------------------------

    def _on_separate_toggled(self, on: bool) -> None:
        self.scale_x.setEnabled(on)
        if on:
            self.scale_x.setValue(self.scale.value())
        self._changed()

    def _changed(self, *_args: Any) -> None:
        if not self._loading:
            self.settings_changed.emit()

    def _display_changed(self, *_args: Any) -> None:
        if not self._loading:
            self.display_changed.emit()

    def to_dict(self) -> dict[str, Any]:
        """Everything the user set, as JSON-able values."""
        return {
            "mode": self.mode.currentData(),
            "scale": self.scale.value(),
            "scale_x": self.scale_x.value() if self.separate_xy.isChecked() else None,
            "downsampler": self.downsampler.currentData(),
            "methods": self.checked_methods(),
            "params": self._params,
            "reference": self.reference.currentData(),
            "convention": self.convention.currentData(),
            "show_diff": self.show_diff.isChecked(),
            "diff_kind": self.diff_kind.currentData(),
            "gain": self.gain.currentData(),
        }

    def apply_session(self, session: core.Session) -> None:
        """Show a session's settings (methods the panel lists in its own order)."""
        settings = session.settings
        scale = settings.scale
        sy, sx = (scale, None) if isinstance(scale, (int, float)) else (scale[0], scale[1] if scale[1] != scale[0] else None)
        choices = settings.method_choices()
        self.from_dict({
            "mode": settings.mode,
            "scale": sy,
            "scale_x": sx,
            "downsampler": settings.downsampler,
            "methods": [c.id for c in choices],
            "params": {c.id: dict(c.params) for c in choices if c.params},
            "reference": settings.reference,
            "convention": settings.convention,
            "show_diff": session.show_difference,
            "diff_kind": session.diff_kind,
            "gain": int(session.diff_gain) if float(session.diff_gain).is_integer() else session.diff_gain,
        })

    def from_dict(self, data: dict[str, Any]) -> None:
        """Restore `to_dict` output; unknown or invalid entries keep their defaults."""
        self._loading = True
        try:
            _select(self.mode, data.get("mode"))
            _select(self.downsampler, data.get("downsampler"))
            _select(self.reference, data.get("reference"))
            _select(self.convention, data.get("convention"))
            _select(self.diff_kind, data.get("diff_kind"))
            _select(self.gain, data.get("gain"))
            if isinstance(data.get("scale"), (int, float)):
                self.scale.setValue(float(data["scale"]))
            scale_x = data.get("scale_x")
            self.separate_xy.setChecked(isinstance(scale_x, (int, float)))
            if isinstance(scale_x, (int, float)):
                self.scale_x.setValue(float(scale_x))
            self.scale_x.setEnabled(self.separate_xy.isChecked())
            methods = data.get("methods")
            if isinstance(methods, list):
                for i in range(self.methods.count()):
                    item = self.methods.item(i)
                    on = item.data(QtCore.Qt.ItemDataRole.UserRole) in methods
                    item.setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)
            params = data.get("params")
            if isinstance(params, dict):
                known = {spec.id for spec in core.list_methods()}
                self._params = {k: dict(v) for k, v in params.items() if k in known and isinstance(v, dict)}
            self.show_diff.setChecked(bool(data.get("show_diff", False)))
        finally:
            self._loading = False
        self._on_method_selected(self.methods.currentItem())


def _select(combo: QtWidgets.QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
