"""What a comparison keeps on its device between steps, so an image crosses once.

On a GPU backend the input goes up once, the reference once (or stays where the device
downsampler or the reference method made it), and each result stays until it is
measured. Everything is keyed by what it is (the input, the reference, a method with its
parameters), never by the identity of a NumPy array.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from core.backends.base import Backend


@dataclass(frozen=True)
class Resident:
    """An image held by ``backend`` as its ``handle``."""

    handle: Any
    backend: Backend


class Residency:
    """The device copies of one comparison. Thread-safe: methods of one comparison run in
    several threads at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._input: Resident | None = None
        self._reference: Resident | None = None
        self._results: dict[Hashable, Resident] = {}

    def copy(self, *, keep_reference: bool) -> Residency:
        """A residency for a derived comparison of the same inputs: the input's device
        copy is shared, the reference's too when ``keep_reference``; results are not."""
        other = Residency()
        other._input = self._input
        other._reference = self._reference if keep_reference else None
        return other

    def set_inputs(self, input_handle: Resident, reference: Resident | None) -> None:
        """The input (and the ground truth) as a device downsampler left them."""
        with self._lock:
            self._input, self._reference = input_handle, reference

    def input_on(self, backend: Backend, upload: Callable[[], Any]) -> Any:
        """The input as a handle of ``backend``: made by ``upload()`` the first time."""
        with self._lock:
            if self._input is None or self._input.backend is not backend:
                self._input = Resident(upload(), backend)
            return self._input.handle

    def reference_on(self, backend: Backend, upload: Callable[[], Any], method: Hashable | None = None) -> Any:
        """The reference as a handle of ``backend``: kept from the reference method's
        result when that is on the device (``method`` is its key), else made by
        ``upload()`` once."""
        with self._lock:
            if self._reference is None or self._reference.backend is not backend:
                kept = self._results.get(method) if method is not None else None
                self._reference = kept if kept is not None and kept.backend is backend else Resident(upload(), backend)
            return self._reference.handle

    def keep(self, key: Hashable, resident: Resident) -> None:
        """Hold a result's device copy until it is measured."""
        with self._lock:
            self._results[key] = resident

    def result(self, key: Hashable, *, release: bool) -> Resident | None:
        """A result's device copy (None when not held); ``release`` drops it."""
        with self._lock:
            return self._results.pop(key, None) if release else self._results.get(key)
