"""The settings dock: what to compare (mode, scale, methods and their parameters,
reference, metric convention) and how to draw difference maps.

Main thread only. It turns widgets into a `core.ComparisonSettings` and a `DiffOptions`,
and into a plain dict for persistence. The modes, conventions and difference kinds it
offers are core's (`core.MODES`, `core.CONVENTIONS`, `core.DIFF_KINDS`); it only says
them in words.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

import core
from core import ComparisonSettings, MethodChoice, Param

from .._help import rich_tooltip
from .._shown_comparison import DiffOptions
from ._wheel_guard import guard_wheel

#: Ticked when the app starts for the first time: the core's default methods, the same
#: set the command line and `core.ComparisonSettings()` run.
DEFAULT_METHODS = tuple(choice.id for choice in core.default_methods())
GAINS = (1, 2, 4, 8, 16, 32, 64)
ModelIndex = QtCore.QModelIndex | QtCore.QPersistentModelIndex
#: The method list's item data that marks a method the user added (it can be removed).
REMOVABLE_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
#: How the method list names the kinds of method a user adds.
ADDED_FAMILY_TEXT = {"model": "model file", "result": "result image", "plugin": "plugin"}
_AUTO = "auto"
_DEFAULTS = ComparisonSettings()
#: The modes as the list offers them, the default first.
MODES: tuple[core.Mode, ...] = tuple(sorted(core.MODES, key=lambda mode: mode != _DEFAULTS.mode))
#: Each mode in words: its name in the list, and what it does.
MODE_TEXT: dict[core.Mode, tuple[str, str]] = {
    "degrade": ("Degrade, then restore",
                "Shrink the image by the scale, enlarge it back with every method and measure each against the original."),
    "upscale": ("Upscale as it is",
                "Enlarge the image as it is. There is no ground truth: metrics only against a method picked as the reference."),
}
#: Each metric convention in words: its name in the list, and what it measures.
CONVENTION_TEXT: dict[core.Convention, tuple[str, str]] = {
    "all": ("All channels",
            "Every pixel and channel, errors in the image's own levels (0-255, 0-65535, or 0-1 for floating point)."),
    "paper": ("Paper (luma, border shaved)",
              "As super-resolution papers report them: BT.601 luma in the 0-1 range, a border of ceil(scale) pixels shaved off."),
}
#: The first entry of the Reference list in each mode: what "no method" means there.
NO_METHOD_REFERENCE: dict[core.Mode, str] = {"degrade": "Ground truth (the original)", "upscale": "None (no metrics)"}
_REFERENCE_TIPS: dict[core.Mode, str] = {
    "degrade": "Metrics and difference maps measure each method against the ground truth: the original "
    "image that was shrunk and given to the methods. Pick a method to measure against its result instead.",
    "upscale": "Upscale mode has no ground truth, so there are no metrics. Pick a method to make its "
    "result the reference: metrics and difference maps then measure the others against it.",
}
_DOWNSAMPLER_TIP = "How the image is shrunk before the methods enlarge it back."
_DOWNSAMPLER_OFF_TIP = (
    "Upscale mode enlarges the image as it is: nothing is shrunk, so the downsampler is not used. It applies in degrade mode."
)
_SCALE_X_OFF_TIP = "Tick 'separate x / y' to give x a scale of its own; until then x follows the scale above."


def method_tooltip(spec: core.MethodSpec) -> str:
    """A method's description as a rich-text tooltip (Qt wraps it)."""
    also = f"\nAlso called: {', '.join(spec.also_called)}." if spec.also_called else ""
    return rich_tooltip(spec.description + also, f"{spec.label} ({spec.id})")


#: What a field's `validate` answers: the state of the text, the text, the cursor position.
Validation = tuple[QtGui.QValidator.State, str, int]


def _parse_number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


class ScaleSpinBox(QtWidgets.QDoubleSpinBox):
    """A scale field that takes any number typed: Qt's own field drops a key that would
    leave its range (typing 20 under a maximum of 16 gave 2). A number out of range now
    stays on screen until editing ends, and the panel says why it was not taken."""

    def validate(self, text: str, pos: int) -> Validation:
        state, fixed, pos = super().validate(text, pos)
        number = _parse_number(text)
        if state == QtGui.QValidator.State.Invalid and number is not None and not self.minimum() <= number <= self.maximum():
            return (QtGui.QValidator.State.Intermediate, text, pos)
        return (state, fixed, pos)


def _validate_special(box: QtWidgets.QAbstractSpinBox, text: str, pos: int, base: Callable[[str, int], Validation]) -> Validation:
    """Accept the special value text ("auto") and the beginning of it while it is typed."""
    special, typed = box.specialValueText().lower(), text.strip().lower()
    if special and typed and special.startswith(typed):
        state = QtGui.QValidator.State.Acceptable if typed == special else QtGui.QValidator.State.Intermediate
        return (state, text, pos)
    return base(text, pos)


def _is_special(box: QtWidgets.QAbstractSpinBox, text: str) -> bool:
    return bool(box.specialValueText()) and text.strip().lower() == box.specialValueText().lower()


class AutoSpinBox(QtWidgets.QSpinBox):
    """An integer field whose special value text ("auto", the minimum) can be typed."""

    def validate(self, text: str, pos: int) -> Validation:
        return _validate_special(self, text, pos, super().validate)

    def valueFromText(self, text: str) -> int:  # noqa: N802 (Qt override)
        return self.minimum() if _is_special(self, text) else super().valueFromText(text)


class AutoDoubleSpinBox(QtWidgets.QDoubleSpinBox):
    """A number field whose special value text ("auto", the minimum) can be typed."""

    def validate(self, text: str, pos: int) -> Validation:
        return _validate_special(self, text, pos, super().validate)

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        return self.minimum() if _is_special(self, text) else super().valueFromText(text)


class RemovableMethodDelegate(QtWidgets.QStyledItemDelegate):
    """Draws the method list's entries; an entry of a method the user added (marked with
    `REMOVABLE_ROLE`) gets a remove button at its right end. A widget laid over the entry
    would take the clicks of its tick box, so the delegate draws the button and answers
    its clicks itself."""

    remove_clicked = QtCore.Signal(str)  # the method id of the entry whose button was clicked

    @staticmethod
    def button_rect(entry: QtCore.QRect) -> QtCore.QRect:
        """The remove button's place in an entry drawn over ``entry``: a square at its
        right end."""
        side = max(entry.height() - 2, 12)
        return QtCore.QRect(entry.right() - side - 1, entry.top() + (entry.height() - side) // 2, side, side)

    def paint(self, painter: QtGui.QPainter, option: QtWidgets.QStyleOptionViewItem, index: ModelIndex) -> None:
        if not index.data(REMOVABLE_ROLE):
            super().paint(painter, option, index)
            return
        button = self.button_rect(option.rect)
        entry = QtWidgets.QStyleOptionViewItem(option)
        entry.rect = option.rect.adjusted(0, 0, -(button.width() + 4), 0)
        super().paint(painter, entry, index)
        widget = option.widget
        style = widget.style() if widget is not None else QtWidgets.QApplication.style()
        look = QtWidgets.QStyleOptionButton()
        look.rect = button
        look.text = "\u00d7"
        look.state = QtWidgets.QStyle.StateFlag.State_Enabled
        if option.state & QtWidgets.QStyle.StateFlag.State_MouseOver and widget is not None:
            pointer = widget.mapFromGlobal(QtGui.QCursor.pos())
            if isinstance(widget, QtWidgets.QAbstractScrollArea):
                pointer = widget.viewport().mapFromGlobal(QtGui.QCursor.pos())
            if button.contains(pointer):
                look.state |= QtWidgets.QStyle.StateFlag.State_MouseOver
        style.drawControl(QtWidgets.QStyle.ControlElement.CE_PushButton, look, painter, widget)

    def editorEvent(  # noqa: N802 (Qt override)
        self, event: QtCore.QEvent, model: QtCore.QAbstractItemModel, option: QtWidgets.QStyleOptionViewItem,
        index: ModelIndex,
    ) -> bool:
        if index.data(REMOVABLE_ROLE) and isinstance(event, QtGui.QMouseEvent) and \
                self.button_rect(option.rect).contains(event.position().toPoint()):
            if event.type() == QtCore.QEvent.Type.MouseButtonRelease and event.button() == QtCore.Qt.MouseButton.LeftButton:
                self.remove_clicked.emit(index.data(QtCore.Qt.ItemDataRole.UserRole))
            return True
        return super().editorEvent(event, model, option, index)

    def helpEvent(  # noqa: N802 (Qt override)
        self, event: QtGui.QHelpEvent, view: QtWidgets.QAbstractItemView, option: QtWidgets.QStyleOptionViewItem,
        index: ModelIndex,
    ) -> bool:
        if index.data(REMOVABLE_ROLE) and self.button_rect(option.rect).contains(event.pos()):
            label = index.data(QtCore.Qt.ItemDataRole.DisplayRole)
            QtWidgets.QToolTip.showText(event.globalPos(), f"Remove {label} from Upscope (its panel goes too)", view)
            return True
        return super().helpEvent(event, view, option, index)


class SettingsPanel(QtWidgets.QWidget):
    """Settings widgets. ``settings_changed`` means "recompute"; ``display_changed``
    means only the way difference maps are drawn changed.

    Each mode keeps its own reference: a method picked as the reference in upscale mode
    does not follow the user into degrade mode, where the ground truth is the default.
    """

    settings_changed = QtCore.Signal()  # anything a comparison depends on changed
    display_changed = QtCore.Signal()  # difference-map display options changed
    maps_shown_changed = QtCore.Signal(bool)  # difference maps turned on or off (also while settings load)
    remove_requested = QtCore.Signal(str)  # the remove button of an added method (its id) was pressed

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._params: dict[str, dict[str, Any]] = {}
        self._references: dict[str, str | None] = {mode: None for mode in MODES}
        self._loading = False
        self._typed_scale: dict[QtWidgets.QDoubleSpinBox, str] = {}
        self._scale_error_box: QtWidgets.QDoubleSpinBox | None = None
        self._shown_method: str | None = None
        #: The editors and reset buttons of the selected method's parameters, by name.
        self.param_editors: dict[str, QtWidgets.QWidget] = {}
        self.param_resets: dict[str, QtWidgets.QToolButton] = {}

        self.mode = QtWidgets.QComboBox()
        for mode in MODES:
            _add_item(self.mode, mode, *MODE_TEXT[mode])
        self.scale = self._scale_box()
        self.separate_xy = QtWidgets.QCheckBox("separate x / y")
        self.scale_x = self._scale_box()
        self.scale_x.setEnabled(False)
        self.scale_x.setToolTip(_SCALE_X_OFF_TIP)
        self.scale_label = QtWidgets.QLabel("Scale")
        self.scale_x_label = QtWidgets.QLabel("Scale x")
        self.scale_x_label.setEnabled(False)
        self.scale_error = QtWidgets.QLabel()
        self.scale_error.setWordWrap(True)
        self.scale_error.setStyleSheet("color: #d9534f;")
        self.scale_error.hide()
        self.downsampler = QtWidgets.QComboBox()
        for downsampler in core.list_downsamplers():
            self.downsampler.addItem(downsampler.label, downsampler.id)
            tip = rich_tooltip(downsampler.description, downsampler.label)
            self.downsampler.setItemData(self.downsampler.count() - 1, tip, QtCore.Qt.ItemDataRole.ToolTipRole)
        _select(self.downsampler, ComparisonSettings().downsampler)
        self.downsampler_label = QtWidgets.QLabel("Downsampler")
        self.methods = QtWidgets.QListWidget()
        self.methods.setMouseTracking(True)  # the remove buttons light up under the mouse
        self._method_delegate = RemovableMethodDelegate(self.methods)
        self._method_delegate.remove_clicked.connect(self._on_remove_clicked)
        self.methods.setItemDelegate(self._method_delegate)
        self.reference = QtWidgets.QComboBox()
        self.reference.addItem(NO_METHOD_REFERENCE[MODES[0]], None)
        for spec in core.list_methods():
            self._list_method(spec, spec.id in DEFAULT_METHODS)
        self.param_box = QtWidgets.QGroupBox("Parameters")
        self.param_form = QtWidgets.QFormLayout()
        self.reset_all_button = QtWidgets.QPushButton("Reset all")
        self.reset_all_button.setToolTip("Put every parameter of this method back to its default.")
        self.another_run_button = QtWidgets.QPushButton("Run it again...")
        self.another_run_button.setToolTip(
            "Add another run of this method to the list, to compare it with other parameters "
            "(bicubic at a = -0.5 beside -0.75, two kernels of a transposed convolution)")
        self.another_run_button.clicked.connect(lambda: self._shown_method and self.add_run(self._shown_method))
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.another_run_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reset_all_button)
        param_layout = QtWidgets.QVBoxLayout(self.param_box)
        param_layout.addLayout(self.param_form)
        param_layout.addLayout(buttons)
        self.reference_hint = QtWidgets.QLabel()
        self.reference_hint.setWordWrap(True)
        self.reference_hint.hide()
        self.convention = QtWidgets.QComboBox()
        for convention in core.CONVENTIONS:
            _add_item(self.convention, convention, *CONVENTION_TEXT[convention])
        self.show_diff = QtWidgets.QCheckBox("Show difference maps")
        self.diff_kind = QtWidgets.QComboBox()
        for kind in core.DIFF_KINDS:
            _add_item(self.diff_kind, kind, kind, core.DIFF_FORMULAS[kind])
        self.gain = QtWidgets.QComboBox()
        for gain in GAINS:
            self.gain.addItem(f"x{gain}", gain)

        guard_wheel(self.mode, self.scale, self.scale_x, self.downsampler, self.reference, self.convention,
                    self.diff_kind, self.gain)
        form = QtWidgets.QFormLayout()
        form.addRow("Mode", self.mode)
        form.addRow(self.scale_label, self.scale)
        form.addRow("", self.separate_xy)
        form.addRow(self.scale_x_label, self.scale_x)
        form.addRow(self.scale_error)
        form.addRow(self.downsampler_label, self.downsampler)
        form.addRow("Reference", self.reference)
        form.addRow(self.reference_hint)
        form.addRow("Metrics on", self.convention)
        diff_form = QtWidgets.QFormLayout()
        diff_form.addRow(self.show_diff)
        diff_form.addRow("Difference", self.diff_kind)
        diff_form.addRow("Gain", self.gain)
        diff_box = QtWidgets.QGroupBox("Difference maps")
        diff_box.setLayout(diff_form)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        methods_label = QtWidgets.QLabel("Methods (tick to compare; select to edit parameters)")
        methods_label.setWordWrap(True)
        layout.addWidget(methods_label)
        layout.addWidget(self.methods, 1)
        layout.addWidget(self.param_box)
        layout.addWidget(diff_box)

        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.reference.currentIndexChanged.connect(self._on_reference_chosen)
        for combo in (self.downsampler, self.convention):
            combo.currentIndexChanged.connect(self._changed)
        self.scale.valueChanged.connect(self._on_scale_value)
        self.scale_x.valueChanged.connect(self._on_scale_value)
        for box in (self.scale, self.scale_x):
            box.lineEdit().textEdited.connect(lambda text, b=box: self._on_scale_typed(b, text))
            box.editingFinished.connect(lambda b=box: self._on_scale_edited(b))
        self.separate_xy.toggled.connect(self._on_separate_toggled)
        self.methods.itemChanged.connect(self._changed)
        self.methods.currentItemChanged.connect(self._on_method_selected)
        self.reset_all_button.clicked.connect(self._on_reset_all)
        for widget in (self.diff_kind, self.gain):
            widget.currentIndexChanged.connect(self._display_changed)
        self.show_diff.toggled.connect(self._display_changed)
        self.show_diff.toggled.connect(self.maps_shown_changed)
        self._show_mode()
        self._on_method_selected(self.methods.currentItem())

    # The method list -------------------------------------------------------------------

    def _list_method(self, spec: core.MethodSpec, ticked: bool, entry: str | None = None, row: int | None = None) -> None:
        """Add ``spec`` to the method list (ticked or not) and to the Reference list; a
        method the user added gets a remove button. ``entry`` names another run of an
        already listed method (`add_run`): listed at ``row``, with a remove button, and not
        offered as a reference (a reference runs with its defaults)."""
        entry = entry or spec.id
        item = QtWidgets.QListWidgetItem(self._method_text(entry, {}))
        item.setData(QtCore.Qt.ItemDataRole.UserRole, entry)
        item.setToolTip(method_tooltip(spec))
        item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(QtCore.Qt.CheckState.Checked if ticked else QtCore.Qt.CheckState.Unchecked)
        if row is None:
            self.methods.addItem(item)
        else:
            self.methods.insertItem(row, item)
        item.setData(REMOVABLE_ROLE, spec.source is not None or entry != spec.id)
        if entry == spec.id:
            self.reference.addItem(spec.label, spec.id)
            self.reference.setItemData(self.reference.count() - 1, method_tooltip(spec), QtCore.Qt.ItemDataRole.ToolTipRole)

    def add_run(self, entry: str) -> str:
        """List another run of ``entry``'s method right after its last one, ticked and
        selected, with the same parameters to start from (the comparison shows it once
        they differ). Returns the new entry's name (``bicubic#2``)."""
        method_id = method_of(entry)
        entries = [self.methods.item(i).data(QtCore.Qt.ItemDataRole.UserRole) for i in range(self.methods.count())]
        taken = {e for e in entries if method_of(e) == method_id}
        number = 2
        while f"{method_id}#{number}" in taken:
            number += 1
        new = f"{method_id}#{number}"
        last = max(i for i, e in enumerate(entries) if method_of(e) == method_id)
        self._loading = True
        try:
            self._list_method(core.get_method(method_id), True, new, last + 1)
        finally:
            self._loading = False
        if entry in self._params:
            self._params[new] = dict(self._params[entry])
        self._show_changed(new)
        item = self.method_item(new)
        if item is not None:
            self.methods.setCurrentItem(item)
        self._changed()
        return new

    def _on_remove_clicked(self, entry: str) -> None:
        """Another run of a method goes from the list; an added method's own entry asks
        for the method to be removed from Upscope (`remove_requested`)."""
        if entry == method_of(entry):
            self.remove_requested.emit(entry)
            return
        self._loading = True
        try:
            item = self.method_item(entry)
            if item is not None:
                self.methods.takeItem(self.methods.row(item))
            self._params.pop(entry, None)
        finally:
            self._loading = False
        if self._shown_method == entry:
            self._on_method_selected(self.methods.currentItem())
        self._changed()

    def remove_button_rect(self, method_id: str) -> QtCore.QRect | None:
        """Where the remove button of an added method's entry is, in the method list's
        viewport (None for Upscope's own methods, or one not listed)."""
        item = self.method_item(method_id)
        if item is None or not item.data(REMOVABLE_ROLE):
            return None
        return RemovableMethodDelegate.button_rect(self.methods.visualItemRect(item))

    def list_new_methods(self, ticked: Collection[str] = ()) -> list[str]:
        """Make the method list match the registry: list the methods it lacks and drop
        the entries of methods no longer registered; the methods in ``ticked`` are ticked
        (listed before or not). Returns the ids newly listed. Emits nothing: the caller
        starts the comparison."""
        registered = core.list_methods()
        known = {spec.id for spec in registered}
        for entry in [self.methods.item(i).data(QtCore.Qt.ItemDataRole.UserRole) for i in range(self.methods.count())]:
            if method_of(entry) not in known:
                self.unlist_method(method_of(entry))
        listed = []
        self._loading = True
        try:
            for spec in registered:
                item = self.method_item(spec.id)
                if item is None:
                    self._list_method(spec, spec.id in ticked)
                    listed.append(spec.id)
                elif spec.id in ticked:
                    item.setCheckState(QtCore.Qt.CheckState.Checked)
        finally:
            self._loading = False
        return listed

    def unlist_method(self, method_id: str) -> None:
        """Drop ``method_id`` from the method list, the Reference list (a reference it
        was becomes the mode's default) and the parameters kept. Emits nothing: the
        caller starts the comparison."""
        self._loading = True
        try:
            for entry in self._entries_of(method_id):
                item = self.method_item(entry)
                if item is not None:
                    self.methods.takeItem(self.methods.row(item))
                self._params.pop(entry, None)
            for mode, chosen in self._references.items():
                if chosen == method_id:
                    self._references[mode] = None
            index = self.reference.findData(method_id)
            if index > 0:
                with QtCore.QSignalBlocker(self.reference):  # the mode's reference is set just above
                    self.reference.removeItem(index)
            self._show_mode()
        finally:
            self._loading = False
        if self._shown_method is not None and method_of(self._shown_method) == method_id:
            self._on_method_selected(self.methods.currentItem())

    def _entries_of(self, method_id: str) -> list[str]:
        """The list's entries of ``method_id``: its own and its other runs."""
        entries = [self.methods.item(i).data(QtCore.Qt.ItemDataRole.UserRole) for i in range(self.methods.count())]
        return [e for e in entries if method_of(e) == method_id]

    def _method_text(self, entry: str, params: dict[str, Any]) -> str:
        """A method's entry: its title, and what kind of method it is when the user
        added it ("My net (tile=0) - model file"); another run with the same parameters
        as an earlier entry says so."""
        method_id = method_of(entry)
        title = core.method_title(method_id, params)
        if entry != method_id and any(
            e != entry and self._params.get(e, {}) == params for e in self._entries_of(method_id)
        ):
            title += " \u2013 another run: change a parameter"
        try:
            family = core.get_method(method_id).family
        except core.UpscopeError:
            return title
        added = ADDED_FAMILY_TEXT.get(family)
        return f"{title} \u2013 {added}" if added else title

    @staticmethod
    def _scale_box() -> QtWidgets.QDoubleSpinBox:
        box = ScaleSpinBox()
        box.setRange(1.0, core.limits.max_scale)
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

    def reference_of(self, mode: str) -> str | None:
        """The method id chosen as the reference in ``mode`` (None: the ground truth in
        degrade mode, no reference in upscale mode)."""
        return self._references.get(mode)

    def comparison_settings(self) -> ComparisonSettings:
        """The settings shown. A run of a method with the same parameters as one before it
        is left out until its parameters differ."""
        choices = [MethodChoice(method_of(m), dict(self._params.get(m, {}))) for m in self.checked_methods()]
        keys = [c.key for c in choices]
        methods = tuple(c for i, c in enumerate(choices) if c.key not in keys[:i])
        return ComparisonSettings(
            mode=self.mode.currentData(),
            scale=self.scale_value(),
            downsampler=self.downsampler.currentData(),
            methods=methods,
            reference=self.reference.currentData(),
            convention=self.convention.currentData(),
        )

    def maps_shown(self) -> bool:
        """Whether difference maps are to be shown."""
        return self.show_diff.isChecked()

    def set_maps_shown(self, shown: bool) -> None:
        """Turn difference maps on or off."""
        self.show_diff.setChecked(shown)

    def diff_style(self) -> DiffOptions:
        """The difference maps' kind and gain, whether or not maps are shown (exports
        and sessions draw them so)."""
        return DiffOptions(kind=self.diff_kind.currentData(), gain=float(self.gain.currentData()))

    def diff_options(self) -> DiffOptions | None:
        """The difference-map options, or None when maps are not shown."""
        return self.diff_style() if self.maps_shown() else None

    # Mode, reference and scale ---------------------------------------------------------------

    def _on_mode_changed(self, _index: int) -> None:
        self._show_mode()
        self._changed()

    def _show_mode(self) -> None:
        """Make the reference list, its hint and the downsampler fit the current mode."""
        mode = self.mode.currentData()
        chosen = self._references[mode]
        with QtCore.QSignalBlocker(self.reference):
            self.reference.setItemText(0, NO_METHOD_REFERENCE[mode])
            self.reference.setItemData(0, rich_tooltip(_REFERENCE_TIPS[mode]), QtCore.Qt.ItemDataRole.ToolTipRole)
            self.reference.setCurrentIndex(max(self.reference.findData(chosen), 0) if chosen is not None else 0)
        self.reference.setToolTip(rich_tooltip(_REFERENCE_TIPS[mode], "Reference"))
        degrade = mode == "degrade"
        self.downsampler.setEnabled(degrade)
        self.downsampler_label.setEnabled(degrade)
        tip = rich_tooltip(_DOWNSAMPLER_TIP if degrade else _DOWNSAMPLER_OFF_TIP)
        self.downsampler.setToolTip(tip)
        self.downsampler_label.setToolTip(tip)
        self._show_reference_hint()

    def _on_reference_chosen(self, _index: int) -> None:
        self._references[self.mode.currentData()] = self.reference.currentData()
        self._show_reference_hint()
        self._changed()

    def _show_reference_hint(self) -> None:
        mode, method = self.mode.currentData(), self.reference.currentData()
        label = self.reference.currentText()
        if method is not None and mode == "degrade":
            text = f"Metrics and difference maps measure against {label}, not the ground truth."
        elif method is not None:
            text = f"Metrics and difference maps measure against {label} (upscale mode has no ground truth)."
        elif mode == "upscale":
            text = "Upscale mode has no ground truth: no metrics. Pick a method above to measure the others against it."
        else:
            text = ""
        self.reference_hint.setText(text)
        self.reference_hint.setVisible(bool(text))

    def _on_separate_toggled(self, on: bool) -> None:
        self._show_scale_fields()
        self._changed()

    def _show_scale_fields(self) -> None:
        """Labels follow the checkbox; while x is not separate, its field shows y's scale."""
        separate = self.separate_xy.isChecked()
        self.scale_label.setText("Scale y" if separate else "Scale")
        self.scale_x.setEnabled(separate)
        self.scale_x_label.setEnabled(separate)
        self.scale_x.setToolTip("" if separate else _SCALE_X_OFF_TIP)
        if not separate:
            with QtCore.QSignalBlocker(self.scale_x):
                self.scale_x.setValue(self.scale.value())

    def _on_scale_value(self, _value: float) -> None:
        self._show_scale_error(None, "")  # a scale was taken: an older complaint is void
        if not self.separate_xy.isChecked():
            self._show_scale_fields()
        self._changed()

    def _scale_name(self, box: QtWidgets.QDoubleSpinBox) -> str:
        return "Scale x" if box is self.scale_x else self.scale_label.text()

    def _on_scale_typed(self, box: QtWidgets.QDoubleSpinBox, text: str) -> None:
        """Say at once when the number being typed is above the largest scale."""
        self._typed_scale[box] = text
        number = _parse_number(text)
        if number is not None and number > box.maximum():
            self._show_scale_error(box, self._out_of_range(box, text))
        elif self._scale_error_box is box:
            self._show_scale_error(None, "")

    def _on_scale_edited(self, box: QtWidgets.QDoubleSpinBox) -> None:
        """Editing ended: a number out of range was not taken; say so, naming it."""
        text = self._typed_scale.pop(box, None)
        if text is None:
            return
        number = _parse_number(text)
        if number is not None and not box.minimum() <= number <= box.maximum():
            self._show_scale_error(box, self._out_of_range(box, text))
        elif self._scale_error_box is box:
            self._show_scale_error(None, "")

    def _out_of_range(self, box: QtWidgets.QDoubleSpinBox, text: str) -> str:
        return (
            f"{self._scale_name(box)}: {text.strip()} is out of range; scales go from {box.minimum():g} "
            f"to {box.maximum():g}. The comparison keeps x{box.value():g}."
        )

    def _show_scale_error(self, box: QtWidgets.QDoubleSpinBox | None, text: str) -> None:
        self._scale_error_box = box
        self.scale_error.setText(text)
        self.scale_error.setVisible(bool(text))

    # Parameters of the selected method ---------------------------------------------------

    def set_param(self, method_id: str, name: str, value: Any) -> None:
        """Set one parameter (None, or its default: back to the default) and ask for a
        recompute. Only what differs from the defaults is kept."""
        params = self._params.setdefault(method_id, {})
        if value is None or value == self._default_of(method_of(method_id), name):
            params.pop(name, None)
        else:
            params[name] = value
        if not params:
            self._params.pop(method_id, None)
        self._show_changed(method_id)
        self._changed()

    def reset_param(self, method_id: str, name: str) -> None:
        """Put one parameter back to its default (its editor too, when shown)."""
        self._show_param_value(method_id, name, None)
        self.set_param(method_id, name, None)

    def reset_params(self, method_id: str) -> None:
        """Put every parameter of ``method_id`` back to its default."""
        for name in list(self._params.get(method_id, {})):
            self._show_param_value(method_id, name, None)
        self._params.pop(method_id, None)
        self._show_changed(method_id)
        self._changed()

    def _on_reset_all(self) -> None:
        if self._shown_method is not None:
            self.reset_params(self._shown_method)

    def selected_method(self) -> str | None:
        """The method id of the entry selected in the method list (None: none)."""
        return None if self._shown_method is None else method_of(self._shown_method)

    def params_of(self, method_id: str) -> dict[str, Any]:
        return dict(self._params.get(method_id, {}))

    def method_item(self, method_id: str) -> QtWidgets.QListWidgetItem | None:
        """The method list's entry of ``method_id``."""
        for i in range(self.methods.count()):
            if self.methods.item(i).data(QtCore.Qt.ItemDataRole.UserRole) == method_id:
                return self.methods.item(i)
        return None

    @staticmethod
    def _default_of(method_id: str, name: str) -> Any:
        method_id = method_of(method_id)
        try:
            spec = core.get_method(method_id)
        except core.UpscopeError:
            return None
        return next((p.default for p in spec.params if p.name == name), None)

    def _show_changed(self, method_id: str) -> None:
        """The method list names changed parameters ("Bicubic (a=-0.5)"); reset buttons
        are live only for parameters that differ from their defaults."""
        for entry in self._entries_of(method_of(method_id)):  # another run may name this one's parameters
            item = self.method_item(entry)
            if item is not None:
                with QtCore.QSignalBlocker(self.methods):
                    item.setText(self._method_text(entry, self._params.get(entry, {})))
        if method_id == self._shown_method:
            changed = self._params.get(method_id, {})
            for name, button in self.param_resets.items():
                button.setEnabled(name in changed)
            self.reset_all_button.setEnabled(bool(changed))

    def _on_method_selected(self, item: QtWidgets.QListWidgetItem | None) -> None:
        while self.param_form.rowCount():
            self.param_form.removeRow(0)
        self.param_editors, self.param_resets = {}, {}
        self._shown_method = None
        self.reset_all_button.hide()
        if item is None:
            self.param_box.setTitle("Parameters")
            self.param_form.addRow(QtWidgets.QLabel("Select a method to see its parameters."))
            return
        entry = item.data(QtCore.Qt.ItemDataRole.UserRole)
        spec = core.get_method(method_of(entry))
        self._shown_method = entry
        self.param_box.setTitle(f"Parameters of {spec.label}" + ("" if entry == spec.id else f" (run {entry.split('#')[1]})"))
        editable = [p for p in spec.params if p.user and p.kind in ("float", "int", "choice", "kernel")]
        if not editable:
            self.param_form.addRow(QtWidgets.QLabel("This method has no parameters."))
        for param in editable:
            editor = self._editor_for(entry, param)
            default = _AUTO if param.default is None else core.param_value_text(param.default)
            editor.setToolTip(rich_tooltip(param.description, f"{param.name} (default {default})"))
            reset = QtWidgets.QToolButton()
            reset.setText("Reset")
            reset.setToolTip(f"Back to the default: {default}")
            reset.clicked.connect(lambda _=False, m=entry, n=param.name: self.reset_param(m, n))
            row = QtWidgets.QHBoxLayout()
            row.addWidget(editor, 1)
            row.addWidget(reset)
            self.param_form.addRow(param.name, row)
            self.param_editors[param.name] = editor
            self.param_resets[param.name] = reset
        self.reset_all_button.setVisible(bool(editable))
        self.another_run_button.setVisible(bool(editable))
        self._show_changed(entry)

    def _show_param_value(self, method_id: str, name: str, value: Any) -> None:
        """Show ``value`` (None: the default) in the editor of ``name`` without reporting
        it as an edit; nothing when that method's editors are not shown."""
        editor = self.param_editors.get(name) if method_id == self._shown_method else None
        if editor is None:
            return
        if value is None:
            value = self._default_of(method_id, name)
        with QtCore.QSignalBlocker(editor):
            if isinstance(editor, QtWidgets.QComboBox):
                editor.setCurrentIndex(max(editor.findData(value), 0))
            elif isinstance(editor, QtWidgets.QSpinBox):
                editor.setValue(editor.minimum() if value is None else int(value))
            elif isinstance(editor, QtWidgets.QDoubleSpinBox):
                editor.setValue(editor.minimum() if value is None else float(value))

    def _editor_for(self, method_id: str, param: Param) -> QtWidgets.QWidget:
        current = self._params.get(method_id, {}).get(param.name, param.default)
        if param.kind in ("choice", "kernel"):
            combo = QtWidgets.QComboBox()
            guard_wheel(combo)
            for choice in param.choices:
                combo.addItem(choice, choice)
            combo.setCurrentIndex(max(combo.findData(current), 0))
            combo.currentIndexChanged.connect(lambda _i: self.set_param(method_id, param.name, combo.currentData()))
            return combo
        spin: AutoSpinBox | AutoDoubleSpinBox
        if param.kind == "int":
            spin = AutoSpinBox()
            low = int(param.minimum if param.minimum is not None else 0)
            spin.setRange(low - 1 if param.default is None else low, int(param.maximum or 1024))
            spin.setValue(spin.minimum() if current is None else int(current))
        else:
            spin = AutoDoubleSpinBox()
            spin.setDecimals(3)
            spin.setSingleStep(0.05)
            spin.setRange(-1e6 if param.minimum is None else param.minimum, 1e6 if param.maximum is None else param.maximum)
            spin.setValue(spin.minimum() if current is None else float(current))
        guard_wheel(spin)
        if param.default is None:
            spin.setSpecialValueText(_AUTO)  # the minimum shows "auto": chosen from the scale; typing "auto" picks it
        spin.setKeyboardTracking(False)

        def on_value(value: float) -> None:
            auto = param.default is None and value == spin.minimum()
            self.set_param(method_id, param.name, None if auto else value)

        spin.valueChanged.connect(on_value)
        return spin

    # Events and persistence ---------------------------------------------------------------

    def _changed(self, *_args: Any) -> None:
        if not self._loading:
            self.settings_changed.emit()

    def _display_changed(self, *_args: Any) -> None:
        if not self._loading:
            self.display_changed.emit()

    def to_dict(self) -> dict[str, Any]:
        """Everything the user set, as JSON-able values (``reference`` is the current
        mode's; ``references`` holds each mode's)."""
        return {
            "mode": self.mode.currentData(),
            "scale": self.scale.value(),
            "scale_x": self.scale_x.value() if self.separate_xy.isChecked() else None,
            "downsampler": self.downsampler.currentData(),
            "methods": self.checked_methods(),
            "params": self._params,
            "reference": self.reference.currentData(),
            "references": dict(self._references),
            "convention": self.convention.currentData(),
            "show_diff": self.show_diff.isChecked(),
            "diff_kind": self.diff_kind.currentData(),
            "gain": self.gain.currentData(),
        }

    def apply_session(self, session: core.Session) -> None:
        """Show a session's settings (methods the panel lists in its own order). Its
        reference becomes that of its mode; the other mode keeps its own."""
        self.from_dict({
            **self._settings_dict(session.settings),
            "show_diff": session.show_difference,
            "diff_kind": session.diff_kind,
            "gain": int(session.diff_gain) if float(session.diff_gain).is_integer() else session.diff_gain,
        })

    def apply_settings(self, settings: ComparisonSettings) -> None:
        """Show ``settings`` (from the command line, say); the difference-map display
        stays as it is."""
        self.from_dict({**self.to_dict(), **self._settings_dict(settings), "references": None})

    @staticmethod
    def _settings_dict(settings: ComparisonSettings) -> dict[str, Any]:
        scale = settings.scale
        sy, sx = (scale, None) if isinstance(scale, (int, float)) else (scale[0], scale[1] if scale[1] != scale[0] else None)
        choices = settings.method_choices()
        entries: list[str] = []
        for choice in choices:  # a method's second run is entry "id#2", and so on
            runs = sum(1 for e in entries if method_of(e) == choice.id)
            entries.append(choice.id if runs == 0 else f"{choice.id}#{runs + 1}")
        return {
            "mode": settings.mode,
            "scale": sy,
            "scale_x": sx,
            "downsampler": settings.downsampler,
            "methods": entries,
            "params": {e: dict(c.params) for e, c in zip(entries, choices) if c.params},
            "reference": settings.reference,
            "convention": settings.convention,
        }

    def from_dict(self, data: dict[str, Any]) -> None:
        """Restore `to_dict` output; unknown or invalid entries keep their defaults. With
        no ``references``, ``reference`` is taken as the saved mode's."""
        self._loading = True
        try:
            _select(self.mode, data.get("mode"))
            _select(self.downsampler, data.get("downsampler"))
            self._restore_references(data)
            _select(self.convention, data.get("convention"))
            _select(self.diff_kind, data.get("diff_kind"))
            _select(self.gain, data.get("gain"))
            if isinstance(data.get("scale"), (int, float)):
                self.scale.setValue(float(data["scale"]))
            scale_x = data.get("scale_x")
            self.separate_xy.setChecked(isinstance(scale_x, (int, float)))
            if isinstance(scale_x, (int, float)):
                self.scale_x.setValue(float(scale_x))
            self._show_scale_fields()
            methods = data.get("methods")
            if isinstance(methods, list):
                self._list_runs(methods)
                for i in range(self.methods.count()):
                    item = self.methods.item(i)
                    on = item.data(QtCore.Qt.ItemDataRole.UserRole) in methods
                    item.setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)
            params = data.get("params")
            if isinstance(params, dict):
                known = {spec.id for spec in core.list_methods()}
                self._params = {k: dict(v) for k, v in params.items()
                                if isinstance(k, str) and method_of(k) in known and isinstance(v, dict) and v}
            self.show_diff.setChecked(bool(data.get("show_diff", False)))
        finally:
            self._loading = False
        for spec in core.list_methods():
            self._show_changed(spec.id)
        self._on_method_selected(self.methods.currentItem())

    def _list_runs(self, entries: list[Any]) -> None:
        """List the other runs (``bicubic#2``) that ``entries`` name and the list lacks;
        drop those it does not name."""
        wanted = [e for e in entries if isinstance(e, str) and e != method_of(e)]
        for i in reversed(range(self.methods.count())):
            entry = self.methods.item(i).data(QtCore.Qt.ItemDataRole.UserRole)
            if entry != method_of(entry) and entry not in wanted:
                self.methods.takeItem(i)
                self._params.pop(entry, None)
        for entry in wanted:
            if self.method_item(entry) is not None:
                continue
            try:
                spec = core.get_method(method_of(entry))
            except core.UpscopeError:
                continue
            rows = [i for i in range(self.methods.count())
                    if method_of(self.methods.item(i).data(QtCore.Qt.ItemDataRole.UserRole)) == spec.id]
            if rows:
                self._list_method(spec, True, entry, max(rows) + 1)

    def _restore_references(self, data: dict[str, Any]) -> None:
        known = {spec.id for spec in core.list_methods()}
        saved = data.get("references")
        if isinstance(saved, dict):
            for mode in MODES:
                chosen = saved.get(mode)
                self._references[mode] = chosen if chosen in known else None
        elif "reference" in data:
            chosen = data.get("reference")
            self._references[self.mode.currentData()] = chosen if chosen in known else None
        self._show_mode()


def method_of(entry: str) -> str:
    """The method id of a method list entry: ``bicubic`` of ``bicubic`` and of another run
    of it, ``bicubic#2``."""
    return entry.split("#", 1)[0]


def _add_item(combo: QtWidgets.QComboBox, value: str, text: str, tip: str) -> None:
    """An entry of ``combo`` saying ``text`` for ``value``, explained by ``tip``."""
    combo.addItem(text, value)
    combo.setItemData(combo.count() - 1, rich_tooltip(tip), QtCore.Qt.ItemDataRole.ToolTipRole)


def _select(combo: QtWidgets.QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
