"""A rectangle of whole pixels of the output grid: a crop, a region of interest, the
current view. Figures, sessions, the command line and the window all use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.common.errors import ParameterError


@dataclass(frozen=True)
class Region:
    """A rectangle of the output pixel grid: top-left ``(x, y)``, ``width`` x ``height``."""

    x: int
    y: int
    width: int
    height: int

    @classmethod
    def parse(cls, text: str, what: str = "region") -> Region:
        """``"X,Y,W,H"`` (whole numbers, W and H positive) as a `Region`."""
        parts = [p.strip() for p in str(text).split(",")]
        try:
            x, y, w, h = (int(p) for p in parts)
        except ValueError:
            raise ParameterError(f"{what} must be X,Y,W,H in whole pixels; got {text!r}") from None
        return cls(x, y, w, h).checked(what)

    def checked(self, what: str = "region") -> Region:
        if self.width < 1 or self.height < 1 or self.x < 0 or self.y < 0:
            raise ParameterError(f"{what} {self.as_text()}: needs x, y >= 0 and a width and height of at least 1")
        return self

    def within(self, shape: Sequence[int], what: str = "region") -> Region:
        """This region clipped to an image of ``shape`` ``(H, W, ...)``; an error if
        nothing of it is inside."""
        height, width = shape[0], shape[1]
        x0, y0 = min(self.x, width), min(self.y, height)
        x1, y1 = min(self.x + self.width, width), min(self.y + self.height, height)
        if x1 <= x0 or y1 <= y0:
            raise ParameterError(f"{what} {self.as_text()} lies outside the {width}x{height} image")
        return Region(x0, y0, x1 - x0, y1 - y0)

    def take(self, image: np.ndarray) -> np.ndarray:
        return image[self.y:self.y + self.height, self.x:self.x + self.width]

    def as_text(self) -> str:
        return f"{self.x},{self.y},{self.width},{self.height}"
