"""Where the images the window compares come from: files (the Open dialog, a drop, File >
Open recent), the built-in charts, the clipboard and the Images list; and the largest
image the window opens.

Main thread only. Files and charts are read by the runner's load pool; the image chosen
goes into the window's `ShownComparison` and is compared.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

import core

from ._runner import LIMIT_HINT, LoadedImage

if TYPE_CHECKING:
    from ._main_window import MainWindow

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"
MAX_RECENT = 10


def qimage_to_array(image: QtGui.QImage) -> np.ndarray:
    """A copy of a QImage's pixels: ``(H, W, 4)`` RGBA uint8 when it has alpha, else
    ``(H, W, 3)`` RGB uint8."""
    has_alpha = image.hasAlphaChannel()
    fmt = QtGui.QImage.Format.Format_RGBA8888 if has_alpha else QtGui.QImage.Format.Format_RGB888
    converted = image.convertToFormat(fmt)
    channels = 4 if has_alpha else 3
    height, width = converted.height(), converted.width()
    buffer = np.frombuffer(converted.constBits(), np.uint8, count=converted.sizeInBytes())
    rows = buffer.reshape(height, converted.bytesPerLine())
    return rows[:, : width * channels].reshape(height, width, channels).copy()


class ImageSources(QtCore.QObject):
    """Opens images for ``window`` (the `MainWindow`) and keeps the pixels of pasted and
    dropped ones (by their Images-list key) and the recent files (in its store)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.shown, self.runner, self.store = window.shown, window.runner, window.store
        self.image_list, self.messages = window.image_list, window.message_bar
        self._pasted: dict[str, np.ndarray] = {}  # pixels of pasted or dropped images, by list key
        self._pasted_count = 0
        self.runner.loaded.connect(self._on_loaded)
        self.runner.load_checked.connect(self._on_load_checked)
        self.image_list.chosen.connect(self._on_image_chosen)
        self.image_list.removed.connect(self._on_image_removed)

    def open_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self.window, "Open images", self.dialog_folder(), IMAGE_FILTER)
        self.window.grid.setFocus()
        if paths:
            self.open_paths(paths)

    def dialog_folder(self) -> str:
        """Where file dialogs start: the folder of the image on screen, else of the most
        recent file, else the home folder (never the process's working directory)."""
        for candidate in [self.shown.shown_image_name, *self.recent_files()]:
            if candidate and Path(candidate).parent.is_dir() and Path(candidate).is_absolute():
                return str(Path(candidate).parent)
        return str(Path.home())

    def open_paths(self, paths: Sequence[str | Path]) -> None:
        """Read ``paths`` in the background; the first readable one is compared, all
        readable ones go into the image list, the others are reported."""
        names = [str(p) for p in paths]
        if names:
            self.window.statusBar().showMessage(f"Reading {len(names)} file(s)...")
            self.runner.max_input_pixels = self.max_input_pixels()
            self.runner.load(names)

    def open_chart(self, chart_id: str) -> None:
        """Compare the built-in chart ``chart_id`` (see `core.list_charts`)."""
        self.runner.make_chart(chart_id)

    def paste(self) -> None:
        """Open what the clipboard holds: image files, else pixels."""
        data = QtWidgets.QApplication.clipboard().mimeData()
        if data is not None and data.hasUrls():
            local = [url.toLocalFile() for url in data.urls() if url.isLocalFile()]
            if local:
                self.open_paths(local)
                return
        if data is not None and data.hasImage():
            image = QtWidgets.QApplication.clipboard().image()
            if not image.isNull():
                self._open_image_data(image, "Pasted image")
                return
        self.messages.show_message("The clipboard holds no image and no image file.")

    def _open_image_data(self, image: QtGui.QImage, what: str) -> None:
        """Compare an image handed over as pixels (pasted or dropped), within the same
        input limit as files."""
        limit = self.max_input_pixels()
        if image.width() * image.height() > limit:
            error = core.ImageTooLargeError(what, image.width(), image.height(), limit)
            self.messages.show_message(error.describe(LIMIT_HINT))
            return
        self._pasted_count += 1
        key = f"pasted:{self._pasted_count}"
        name = f"{what} {self._pasted_count}"
        self._pasted[key] = qimage_to_array(image)
        self.set_image(self._pasted[key], name, key)
        self.window.grid.setFocus()

    def set_image(self, image: np.ndarray, name: str, key: str | None = None) -> None:
        """Make ``image`` the current one and compare it; ``key`` is its entry in the
        Images list (default: ``name``)."""
        key = key or name
        self.shown.choose_image(image, name, key)
        self.image_list.add(key, self._list_label(key, name), name)
        self.image_list.select(key)
        self.window.recompute()

    @staticmethod
    def _list_label(key: str, name: str) -> str:
        return name if key.startswith(("chart:", "pasted:")) else Path(name).name

    def accepts(self, data: QtCore.QMimeData) -> bool:
        """Whether a drop of ``data`` can be opened (files or pixels)."""
        return data.hasUrls() or data.hasImage()

    def drop(self, data: QtCore.QMimeData, as_methods: bool = False) -> None:
        """Open what was dropped: local files, else the pixels; other addresses are
        refused. Model files are added as methods, and so are all files with
        ``as_methods`` (Ctrl held: images become result images, see `OwnMethods`)."""
        urls = list(data.urls())
        local = self.window.own_methods.take_dropped([url.toLocalFile() for url in urls if url.isLocalFile()], as_methods)
        if local:
            self.open_paths(local)
        elif any(url.isLocalFile() for url in urls):
            return
        elif urls:
            self.messages.show_message("Only local files can be opened; got " + ", ".join(u.toString() for u in urls))
        elif data.hasImage():
            self._open_image_data(QtGui.QImage(data.imageData()), "Dropped image")

    def _on_loaded(self, loaded: LoadedImage) -> None:
        key = name = loaded.path
        if name.startswith("chart:"):
            name = next((c.label for c in core.list_charts() if f"chart:{c.id}" == name), name)
        self.set_image(loaded.image, name, key)
        self.window.grid.setFocus()

    def _on_load_checked(self, good: list[str], bad: list[tuple[str, str]], latest: bool) -> None:
        """Readable files go into the Images list and File > Open recent; the others are
        named with the reason (the test chart is shown when nothing else can be)."""
        if latest:
            self.window.statusBar().clearMessage()
        for path in good:
            self.image_list.add(path, Path(path).name, path)
        self.remember(good)
        if not good and latest:
            self.shown.take_pending()  # a session's view and regions belong to its image only
            # The Images list goes back to the image on screen.
            self.image_list.select(self.shown.shown_image_key)
        if bad:
            lines = [message for _path, message in bad]
            fallback = self.shown.image is None and not good and latest
            if fallback:
                kept = "Showing the built-in test chart instead."
                self.open_chart("test-chart")
            else:
                kept = "" if good else "The comparison shown is unchanged."
            text = "Could not open:\n" + "\n".join(lines) + ("\n" + kept if kept else "")
            self.messages.show_message(text, keep=fallback)
        elif good:
            self.messages.clear_error()

    def _on_image_chosen(self, key: str) -> None:
        if key.startswith("chart:"):
            self.open_chart(key.removeprefix("chart:"))
        elif key in self._pasted:
            self.set_image(self._pasted[key], self.image_list.name_of(key) or key, key)
        else:
            self.open_paths([key])

    def _on_image_removed(self, key: str) -> None:
        self._pasted.pop(key, None)  # the pixels of a pasted image go with its entry
        self.image_list.select(self.shown.shown_image_key)

    def max_input_pixels(self) -> int:
        """The largest image (in pixels) the window opens: File > Largest image to open."""
        default = core.limits.max_input_pixels // 1_000_000
        saved = self.store.value("max_input_megapixels", default)
        try:
            value = int(saved) if isinstance(saved, (int, float, str)) else default
        except ValueError:
            value = default
        return max(value, 1) * 1_000_000

    def limit_dialog(self) -> None:
        """Ask for the largest image to open, in megapixels."""
        current = self.max_input_pixels() // 1_000_000
        value, ok = QtWidgets.QInputDialog.getInt(
            self.window, "Largest image to open",
            "Images with more pixels than this are refused before they are decoded\n"
            "(memory grows with every method compared). Megapixels:",
            current, 1, 2000, 10,
        )
        self.window.grid.setFocus()
        if ok:
            self.store.setValue("max_input_megapixels", value)

    # Recent files ---------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        """The files opened lately, newest first (at most `MAX_RECENT`)."""
        value = self.store.value("recent", "[]")
        try:
            recent = json.loads(str(value))
        except (ValueError, RecursionError):
            return []
        return [p for p in recent if isinstance(p, str)] if isinstance(recent, list) else []

    def remember(self, paths: Sequence[str]) -> None:
        """Put ``paths`` first among the recent files (charts are not files)."""
        recent = [p for p in paths if not p.startswith("chart:")] + self.recent_files()
        unique = list(dict.fromkeys(recent))[:MAX_RECENT]
        self.store.setValue("recent", json.dumps(unique))
        self.show_recent()

    def show_recent(self) -> None:
        """List the recent files under File > Open recent."""
        self.window.commands.show_recent(self.recent_files(), self.open_paths)
