"""What the analysis views hold, without Qt: each panel's spectrum picture and radial
power profile, kept with the image they were made of, and what has been asked for.

A value is kept per panel key together with its source array: it is shown only while the
panel shows that very array, so a result reused by a derived comparison keeps its
spectrum, and a new image's never shows an old one. Main thread only (no lock).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

import numpy as np

import core

T = TypeVar("T")
#: A radial power profile: ring frequencies (cycles per pixel of the output grid) and
#: mean power (see `core.radial_profile`).
Profile = tuple[np.ndarray, np.ndarray]


class Analysed(Generic[T]):
    """Values made of panels' images, by panel key, each with the array it was made of."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[np.ndarray, T]] = {}
        self._asked: dict[str, np.ndarray] = {}

    def get(self, key: str, source: np.ndarray) -> T | None:
        """The value of panel ``key`` made of ``source`` itself (None: not held)."""
        held = self._held.get(key)
        return held[1] if held is not None and held[0] is source else None

    def ask(self, key: str, source: np.ndarray) -> bool:
        """Whether the value of ``key`` made of ``source`` must be asked for now (it is
        neither held nor asked for already); True records it as asked."""
        if self.get(key, source) is not None or self._asked.get(key) is source:
            return False
        self._asked[key] = source
        return True

    def put(self, key: str, source: np.ndarray, value: T) -> None:
        """Hold ``value``, made of ``source``, for panel ``key``."""
        if self._asked.get(key) is source:
            del self._asked[key]
        self._held[key] = (source, value)

    def forget_asked(self) -> None:
        """Nothing asked is coming any more (the job it was asked for was replaced)."""
        self._asked.clear()

    def keep_only(self, keys: Iterable[str]) -> None:
        """Drop what is held for panels not among ``keys``."""
        wanted = set(keys)
        for key in [k for k in self._held if k not in wanted]:
            del self._held[key]


class ShownAnalysis:
    """Whether the panels show spectra, and the spectra and profiles made so far."""

    def __init__(self) -> None:
        self.spectrum_shown = False
        self.spectra: Analysed[core.SpectrumPicture] = Analysed()
        self.profiles: Analysed[Profile] = Analysed()

    def new_job(self, keys: Iterable[str]) -> None:
        """A comparison with panels ``keys`` is on screen: work asked for the last one
        will not arrive, and values of panels it lacks go."""
        keys = list(keys)
        for held in (self.spectra, self.profiles):
            held.forget_asked()
            held.keep_only(keys)
