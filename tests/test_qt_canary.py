"""Canary for a PySide6 fault seen on this stack (see pyproject's version pins).

PySide6 6.12.0 on Python 3.11 leaks a reference to True on every Signal.emit() made from
Python; after some hundreds of emits the interpreter aborts. A release with that fault
makes this test fail instead of crashing a run at random.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(bool)


def test_signal_emit_does_not_leak_references_to_true(qtbot):
    emitter = _Emitter()
    count = [0]

    def on_fired(value: bool) -> None:  # keeps no reference to the value it receives
        count[0] += 1

    emitter.fired.connect(on_fired)
    emitter.fired.emit(True)  # warm-up: first emits may allocate caches
    before = sys.getrefcount(True)
    for _ in range(500):
        emitter.fired.emit(True)
    assert count[0] == 501
    assert sys.getrefcount(True) - before < 50
