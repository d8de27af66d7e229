"""Wheel scrolling that never changes a setting by accident.

Main thread only. In a scrolled panel, a drop-down list or a number field that passes
under the cursor would take the wheel and change its value. A guarded field takes the
wheel only once it has the keyboard focus (a click or Tab); otherwise the wheel scrolls
the panel around it.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class WheelGuard(QtCore.QObject):
    """An event filter: wheel events over an unfocused guarded field go to the nearest
    scrolled area around it instead."""

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() != QtCore.QEvent.Type.Wheel or not isinstance(watched, QtWidgets.QWidget) or watched.hasFocus():
            return False
        area = _scroll_area_around(watched)
        if area is not None:
            QtCore.QCoreApplication.sendEvent(area.verticalScrollBar(), event)
        return True  # never a change of value


_GUARD: WheelGuard | None = None


def guard_wheel(*widgets: QtWidgets.QWidget) -> None:
    """Let ``widgets`` (combo boxes, spin boxes) take the wheel only when focused."""
    global _GUARD
    if _GUARD is None:
        _GUARD = WheelGuard()
    for widget in widgets:
        widget.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(_GUARD)


def _scroll_area_around(widget: QtWidgets.QWidget) -> QtWidgets.QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QtWidgets.QScrollArea):
            return parent
        parent = parent.parentWidget()
    return None
