"""The Compute menu and the status-bar line that says where pixels are computed.

Which backends can run is answered without importing PyTorch (`core.unavailable_backends`:
its package being installed is enough). Choosing a backend constructs it, which for PyTorch
means importing it (seconds), and the automatic choice may run a backend's self-test, so
all of it happens in the runner's task pool; the menu and the label only show the answers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets

import core

from ._runner import ComparisonRunner, LatestTask
from .canvas import ElidedLabel

#: The automatic choice, then every backend by its name for people (`core.BACKEND_LABELS`).
AUTOMATIC = "auto"
CHOICES = ((AUTOMATIC, "&Automatic (GPU when there is one)"),
           *((name, f"&{core.BACKEND_LABELS[name]}") for name in core.BACKEND_NAMES))
#: The backend that runs every method: the processor (`core.BACKEND_NAMES` lists it first).
CPU = core.BACKEND_NAMES[0]


@dataclass(frozen=True)
class BackendState:
    """What the probe found: the backend now in use, and why others cannot run."""

    current: core.BackendInfo
    unavailable: dict[str, str]


def probe(choice: str | None) -> BackendState:
    """Apply ``choice`` (None leaves the session's) and report; runs off the GUI thread.
    A choice that cannot run here falls back to the automatic one."""
    if choice is not None:
        try:
            core.set_backend(choice)
        except core.UpscopeError:
            core.set_backend(AUTOMATIC)
    return BackendState(core.current_backend().info(), core.unavailable_backends())


class ComputeMenu(QtCore.QObject):
    """A "Compute" menu of backends (one checked) and a permanent status-bar label."""

    changed = QtCore.Signal(object)  # BackendState

    def __init__(self, window: QtWidgets.QMainWindow, runner: ComparisonRunner, store: QtCore.QSettings) -> None:
        super().__init__(window)
        self.runner, self.store = runner, store
        self.menu = QtWidgets.QMenu("&Compute", window)
        self.menu.setToolTipsVisible(True)  # a greyed-out backend says why on hover
        self.group = QtGui.QActionGroup(self)
        self.actions: dict[str, QtGui.QAction] = {}
        for name, text in CHOICES:
            action = self.menu.addAction(text)
            action.setCheckable(True)
            action.setData(name)
            self.group.addAction(action)
            self.actions[name] = action
        self.actions[CPU].setToolTip("NumPy and OpenCV on the processor: runs every method.")
        self.label = ElidedLabel("Compute: checking...")
        self.state: BackendState | None = None
        self._probe = LatestTask(runner, self._on_done, self._on_failed, self)
        # The UPSCOPE_BACKEND variable (or --backend) rules this session over the saved choice.
        saved = os.environ.get(core.ENVIRONMENT_VARIABLE) or str(self.store.value("backend", AUTOMATIC) or AUTOMATIC)
        self.actions.get(saved, self.actions[AUTOMATIC]).setChecked(True)
        self.group.triggered.connect(lambda action: self.choose(action.data()))
        self.refresh(saved)

    def choose(self, name: str) -> None:
        """Use backend ``name`` (or ``"auto"``) from the next comparison on."""
        self.store.setValue("backend", name)
        self.refresh(name)

    def refresh(self, choice: str | None = None) -> None:
        """Probe again (after a choice, or after a backend failed)."""
        self.label.setText("Compute: checking...")
        self._probe.run(lambda: probe(choice))

    def _on_failed(self, message: str) -> None:
        self.label.setText(f"Compute: cannot tell ({message})")

    def _on_done(self, value: object) -> None:
        if not isinstance(value, BackendState):
            return
        self.state = value
        info = value.current
        self.label.setText(f"Compute: {info.device_text()}")  # the versions are in the tooltip
        self.label.setToolTip(f"{info.summary()}\nWhere the methods, metrics and difference maps are computed (Compute menu).")
        for name, action in self.actions.items():
            reason = value.unavailable.get(name)
            action.setEnabled(reason is None)
            if reason:
                action.setToolTip(f"Cannot run here: {reason}")
                action.setStatusTip(f"{action.text().replace('&', '')} cannot run here: {reason}")
        wanted = str(self.store.value("backend", AUTOMATIC) or AUTOMATIC)
        if wanted != AUTOMATIC and wanted in value.unavailable:
            self.actions[AUTOMATIC].setChecked(True)
        self.changed.emit(value)
