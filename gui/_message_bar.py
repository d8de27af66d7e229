"""The message bar: a dismissable line at the top of the window for errors and notes.

Main thread only.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets


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
