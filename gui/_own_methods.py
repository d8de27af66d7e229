"""The user's own methods in the window: File > Add model..., Add result image... and Add
Python methods..., files dropped onto the window, and the remove buttons of the settings'
method list.

Loading a model file or running a plugin can take seconds, so `core` does it in the
runner's task pool (`ComparisonRunner.run_task`). What it adds arrives ticked and is
compared at once; results already on screen are kept (`ComparisonPresenter.recompute`
computes only what changed). A file that cannot be added is named with the reason in the
message bar, and the comparison on screen stays as it is. Main thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

import core

from ._image_sources import IMAGE_FILTER

if TYPE_CHECKING:
    from ._main_window import MainWindow

#: The file dialog's filter for model files: every suffix `core.add_model` reads.
MODEL_FILTER = (
    "Model files (" + " ".join(f"*{suffix}" for suffix in core.MODEL_SUFFIXES) + ");;All files (*)"
)
PLUGIN_FILTER = "Python files (*.py);;All files (*)"
#: What a failure says for each kind of method, before the file and the reason.
_FAILED = {
    "model": "Could not add the model",
    "result": "Could not add the result image",
    "plugin": "Could not load the plugin",
}
_LOADING = {"model": "Loading the model", "result": "Reading the result image", "plugin": "Running the plugin"}


def is_model_file(path: str | Path) -> bool:
    """Whether ``path`` names a model file by its suffix (`core.MODEL_SUFFIXES`): such a
    file is never an image to compare."""
    return Path(path).suffix.lower() in core.MODEL_SUFFIXES


class OwnMethods(QtCore.QObject):
    """Adds and removes the user's own methods for ``window`` (the `MainWindow`)."""

    #: Ids of methods just added and ticked (emitted after the comparison is asked for).
    added = QtCore.Signal(list)
    #: Why a file could not be added (also shown in the message bar).
    failed = QtCore.Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.runner, self.panel, self.messages = window.runner, window.settings_panel, window.message_bar
        # Loads running: task id to (kind, path).
        self._pending: dict[int, tuple[str, str]] = {}
        self.runner.task_done.connect(self._on_done)
        self.runner.task_failed.connect(self._on_failed)
        self.panel.remove_requested.connect(self.remove)

    @property
    def loading(self) -> bool:
        """Whether a model, result image or plugin is being added now."""
        return bool(self._pending)

    # Dialogs ------------------------------------------------------------------------------

    def add_model_dialog(self) -> None:
        """Ask for model files and add each as a method."""
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self.window, "Add model files", self.window.sources.dialog_folder(), MODEL_FILTER
        )
        self.window.grid.setFocus()
        for path in paths:
            self.add_model(path)

    def add_result_dialog(self) -> None:
        """Ask for an image made by another tool, then for its label (the file's name by
        default), and add it as a method."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, "Add a result image", self.window.sources.dialog_folder(), IMAGE_FILTER
        )
        self.window.grid.setFocus()
        if not path:
            return
        label, ok = QtWidgets.QInputDialog.getText(
            self.window, "Add a result image", f"Label of its panel ({Path(path).name}):", text=Path(path).stem
        )
        if ok:
            self.add_result(path, label.strip() or Path(path).stem)

    def add_plugin_dialog(self) -> None:
        """Ask for Python files whose functions register methods, and run each."""
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self.window, "Add Python methods", self.window.sources.dialog_folder(), PLUGIN_FILTER
        )
        self.window.grid.setFocus()
        for path in paths:
            self.add_plugin(path)

    # Adding -------------------------------------------------------------------------------

    def add_model(self, path: str | Path, label: str | None = None) -> int:
        """Load the model file at ``path`` in the background and add it as a method
        (``label``, else the file's name); returns the task id."""
        return self._start("model", path, lambda: [core.add_model(path, label)])

    def add_result(self, path: str | Path, label: str | None = None) -> int:
        """Read the image at ``path`` in the background and add it as a result image
        labelled ``label`` (else the file's name without its suffix); returns the task id."""
        return self._start("result", path, lambda: [core.add_result(label or Path(path).stem, path)])

    def add_plugin(self, path: str | Path) -> int:
        """Run the Python file at ``path`` in the background; the methods it registers are
        added. Returns the task id."""
        return self._start("plugin", path, lambda: core.load_plugin(path))

    def take_dropped(self, paths: Sequence[str], as_methods: bool) -> list[str]:
        """Add the dropped files that are methods and return the others (images to open).
        A model file is always added as a method; with ``as_methods`` (Ctrl held), a
        Python file is run as a plugin and any other file is added as a result image."""
        others = []
        for path in paths:
            if is_model_file(path):
                self.add_model(path)
            elif as_methods and Path(path).suffix.lower() == ".py":
                self.add_plugin(path)
            elif as_methods:
                self.add_result(path)
            else:
                others.append(path)
        return others

    def _start(self, kind: str, path: str | Path, work: Callable[[], list[str]]) -> int:
        task_id = self.runner.run_task(work)
        self._pending[task_id] = (kind, str(path))
        self.window.statusBar().showMessage(f"{_LOADING[kind]} {Path(path).name}...")
        return task_id

    def _settle_status(self) -> None:
        if not self._pending:
            self.window.statusBar().clearMessage()

    def _on_done(self, task_id: int, ids: object) -> None:
        pending = self._pending.pop(task_id, None)
        if pending is None:
            return
        self._settle_status()
        added = [method_id for method_id in ids if isinstance(method_id, str)] if isinstance(ids, list) else []
        self.panel.list_new_methods(ticked=added)
        self.window.recompute()
        labels = ", ".join(self._described(method_id) for method_id in added)
        self.messages.show_message(f"Added {labels}.", error=False)
        self.added.emit(added)

    @staticmethod
    def _described(method_id: str) -> str:
        try:
            spec = core.get_method(method_id)
        except core.UpscopeError:
            return method_id
        return f"\u201c{spec.label}\u201d ({spec.description})"

    def _on_failed(self, task_id: int, message: str) -> None:
        """Say which file failed and why (the reason alone when it names that file)."""
        pending = self._pending.pop(task_id, None)
        if pending is None:
            return
        self._settle_status()
        kind, path = pending
        named = Path(path).name in message
        text = f"{_FAILED[kind]}: {message}" if named else f"{_FAILED[kind]} {path}: {message}"
        self.messages.show_message(text)
        self.failed.emit(text)

    # Removing -----------------------------------------------------------------------------

    def remove(self, method_id: str) -> None:
        """Remove an added method: its entry in the settings, its panel, and what `core`
        holds of it (`core.forget_method`)."""
        self.panel.unlist_method(method_id)
        try:
            core.forget_method(method_id)
        except core.UpscopeError as exc:
            self.messages.show_message(str(exc))
        self.window.recompute()
