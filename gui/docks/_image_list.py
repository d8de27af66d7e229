"""The Images dock: every image opened this session (files, charts, pasted images).

Main thread only. Each entry has a key: the file's path, ``chart:<id>`` for a built-in
chart, or ``pasted:<n>`` for an image pasted or dropped as data. The entry of the image
on screen is the highlighted one; choosing another entry asks the window to show it.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

KEY_ROLE = QtCore.Qt.ItemDataRole.UserRole


class ImageList(QtWidgets.QListWidget):
    """A list of opened images; Delete or the context menu removes entries."""

    chosen = QtCore.Signal(str)  # key of the entry the user picked
    removed = QtCore.Signal(str)  # key of an entry the user removed

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        self.currentItemChanged.connect(self._on_current_changed)
        self.setToolTip("Images opened in this session. Pick one to compare it; Delete removes it from the list.")
        self.remove_action = QtGui.QAction("Remove from the list", self)
        self.remove_action.setShortcut(QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.Delete))
        self.remove_action.setShortcutContext(QtCore.Qt.ShortcutContext.WidgetShortcut)
        self.remove_action.triggered.connect(self.remove_current)
        self.addAction(self.remove_action)

    def keys(self) -> list[str]:
        return [self.item(i).data(KEY_ROLE) for i in range(self.count())]

    def labels(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def name_of(self, key: str) -> str | None:
        """The full name of the entry of ``key`` (its tooltip: a path, "Pasted image 2"),
        None when it is not listed."""
        return next((self.item(i).toolTip() for i in range(self.count()) if self.item(i).data(KEY_ROLE) == key), None)

    def current_key(self) -> str | None:
        item = self.currentItem()
        return None if item is None else item.data(KEY_ROLE)

    def add(self, key: str, label: str, tooltip: str = "") -> None:
        """Add an entry unless one with ``key`` is listed (no signal)."""
        if key in self.keys():
            return
        item = QtWidgets.QListWidgetItem(label)
        item.setData(KEY_ROLE, key)
        item.setToolTip(tooltip or label)
        self.blockSignals(True)
        try:
            self.addItem(item)
        finally:
            self.blockSignals(False)

    def select(self, key: str | None) -> None:
        """Highlight the entry of ``key`` (the image on screen) without asking to open it."""
        self.blockSignals(True)
        try:
            keys = self.keys()
            self.setCurrentRow(keys.index(key) if key in keys else -1)
        finally:
            self.blockSignals(False)

    def remove_current(self) -> None:
        row = self.currentRow()
        if row < 0:
            return
        self.blockSignals(True)
        try:
            item = self.takeItem(row)
            self.setCurrentRow(-1)
        finally:
            self.blockSignals(False)
        self.removed.emit(item.data(KEY_ROLE))

    def _on_current_changed(self, item: QtWidgets.QListWidgetItem | None, _previous: object) -> None:
        if item is not None:
            self.chosen.emit(item.data(KEY_ROLE))

    def _on_context_menu(self, position: QtCore.QPoint) -> None:
        item = self.itemAt(position)
        if item is None:
            return
        self.setCurrentItem(item)
        menu = QtWidgets.QMenu(self)
        menu.addAction(self.remove_action)
        menu.exec(self.viewport().mapToGlobal(position))
