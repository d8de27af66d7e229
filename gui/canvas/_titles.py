"""Labels that shrink with their widget: text is shortened, never allowed to widen the
window.

Main thread only.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets


class ElidedLabel(QtWidgets.QLabel):
    """A one-line plain-text label that elides its text ("...") to the width it is given
    instead of asking for the width of the whole text. The whole text is its tooltip."""

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        self._full = text
        self.setToolTip(text)
        self._elide()
        self.updateGeometry()  # the wanted width changed: the layout gives it, then it re-elides

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        hint = super().sizeHint()
        return QtCore.QSize(min(self.fontMetrics().horizontalAdvance(self._full) + 8, 480), hint.height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return QtCore.QSize(40, super().minimumSizeHint().height())

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, QtCore.Qt.TextElideMode.ElideRight, max(self.width() - 4, 10))
        super().setText(shown)


class PanelTitle(QtWidgets.QWidget):
    """A panel's title: a colour swatch, the label in bold and details in grey.

    ``details`` are given most important first (PSNR and SSIM before the time), which is
    also the order they are shown in. When the label and the first detail do not fit on
    one line, the title takes two lines (label, then details); details that still do
    not fit are dropped from the end, and only then is text elided. So the method and
    its PSNR stay legible in a narrow panel.

    Panels of one grid must stay the same size: `lines_wanted_changed` tells the grid,
    which gives every title the same `set_line_count`.
    """

    lines_wanted_changed = QtCore.Signal()  # the text now needs another number of lines

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = QtGui.QColor("white")
        self.label = ""
        self.details: tuple[str, ...] = ()
        self._short: tuple[str, ...] = ()
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self._bold = QtGui.QFont(self.font())
        self._bold.setBold(True)
        #: A sentence added to the tooltip under the title (what a gesture does).
        self.hint = ""
        self._wanted = 1
        self._count = 1
        self.setFixedHeight(self._line_height())

    def set_title(self, label: str, details: Sequence[str | tuple[str, str]] = (), colour: QtGui.QColor | None = None) -> None:
        """``details`` are texts, or ``(text, short text)`` pairs whose short form is shown
        when the text does not fit ("PSNR 31.82 dB", "31.82 dB")."""
        given = [d if isinstance(d, tuple) else (d, d) for d in details if d]
        self.label = label
        self.details = tuple(long for long, _ in given)
        self._short = tuple(short for _, short in given)
        if colour is not None:
            self.colour = colour
        self.setToolTip("\n".join(t for t in (self.full_text(), self.hint) if t))
        self._fit_lines()
        self.update()

    def full_text(self) -> str:
        """Everything the title says, whether or not it fits."""
        return " ".join([self.label, ", ".join(self.details)]).strip()

    #: The widest first detail a title is laid out for ("PSNR 12.34 dB" and the like), so
    #: the number of lines follows the label and the width only, not numbers that arrive
    #: later (panels do not jump when a result is measured).
    TYPICAL_DETAIL = "PSNR 100.00 dB"

    def _room(self, width: int) -> int:
        return width - self._swatch_width() - 4

    def lines_for(self, width: int) -> int:
        """1 when the label and a typical first detail fit on one line of ``width``
        pixels, else 2."""
        needed = QtGui.QFontMetrics(self._bold).horizontalAdvance(self.label)
        needed += self.fontMetrics().horizontalAdvance(" " + self.TYPICAL_DETAIL)
        return 1 if needed <= self._room(width) else 2

    def layout_lines(self, width: int | None = None) -> list[tuple[str, tuple[str, ...]]]:
        """What is drawn in ``width`` pixels (default: the widget's) on the title's lines:
        one or two ``(label or "", details)``."""
        width = self.width() if width is None else width
        bold, plain = QtGui.QFontMetrics(self._bold), self.fontMetrics()
        room = self._room(width)

        def details_fitting(space: int, prefix: str) -> tuple[str, ...]:
            for keep in range(len(self.details), 0, -1):
                if plain.horizontalAdvance(prefix + ", ".join(self.details[:keep])) <= space:
                    return self.details[:keep]
            if self._short and plain.horizontalAdvance(prefix + self._short[0]) <= space:
                return self._short[:1]  # the most important detail, in its short form
            return ()

        one_line = details_fitting(room - bold.horizontalAdvance(self.label), " ")
        if self._count == 1 or not self.details:
            if bold.horizontalAdvance(self.label) <= room or not self.details:
                label = bold.elidedText(self.label, QtCore.Qt.TextElideMode.ElideRight, max(room, 0))
                return [(label, one_line if label == self.label else ())]
        label = bold.elidedText(self.label, QtCore.Qt.TextElideMode.ElideRight, max(room, 0))
        if not self.details:
            return [(label, ())]
        second = details_fitting(width - 4, "")
        if not second:
            second = (plain.elidedText(self._short[0], QtCore.Qt.TextElideMode.ElideRight, max(width - 4, 0)),)
        return [(label, ()), ("", second)]

    def shown_text(self) -> str:
        """The title as it is drawn now (lines joined by a space)."""
        parts = []
        for label, details in self.layout_lines():
            parts.extend([label, ", ".join(details)])
        return " ".join(p for p in parts if p).strip()

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return QtCore.QSize(200, self.height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        return QtCore.QSize(20, self.height())

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_lines()

    @property
    def lines_wanted(self) -> int:
        """Lines the text needs at the present width (1 or 2)."""
        return self._wanted

    def set_line_count(self, count: int) -> None:
        """Take ``count`` lines of height whatever this title needs (a grid gives all its
        titles the most any of them wants)."""
        if count != self._count:
            self._count = count
            self.setFixedHeight(self._line_height() * count)

    def _fit_lines(self) -> None:
        wanted = self.lines_for(self.width())
        if wanted != self._wanted:
            self._wanted = wanted
            self.lines_wanted_changed.emit()

    def _line_height(self) -> int:
        return self.fontMetrics().height() + 4

    def _swatch_width(self) -> int:
        return self.fontMetrics().height()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QtGui.QPainter(self)
        line = self._line_height()
        side = max(self.fontMetrics().height() - 6, 6)
        swatch = QtCore.QRectF(2.5, (line - side) / 2 + 0.5, side - 1, side - 1)
        painter.fillRect(swatch, self.colour)
        painter.setPen(QtGui.QColor(0, 0, 0, 110))  # a white swatch stays visible on a light theme
        painter.drawRect(swatch)
        align = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        for index, (label, details) in enumerate(self.layout_lines()):
            top = index * line
            x = self._swatch_width() + 2 if index == 0 else 2
            if label:
                painter.setFont(self._bold)
                painter.setPen(self.palette().color(QtGui.QPalette.ColorRole.WindowText))
                painter.drawText(QtCore.QRectF(x, top, self.width() - x, line), align, label)
                x += QtGui.QFontMetrics(self._bold).horizontalAdvance(label)
            if details:
                painter.setFont(self.font())
                painter.setPen(QtGui.QColor("gray"))
                text = (" " if label else "") + ", ".join(details)
                painter.drawText(QtCore.QRectF(x, top, self.width() - x, line), align, text)
        painter.end()
