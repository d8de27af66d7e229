"""The exceptions `core` raises. Every message names the file or value and the reason."""

from __future__ import annotations


class UpscopeError(Exception):
    """Base class of every error `core` raises on purpose."""


class ImageError(UpscopeError):
    """An image file could not be read or written (the message names the file and why)."""


class ImageTooLargeError(ImageError):
    """An image has more pixels than the input limit allows (checked from its header,
    before decoding). ``hint`` says how to raise the limit; a viewer or a command line
    replaces it with its own setting or option."""

    def __init__(self, path: object, width: int, height: int, limit: int,
                 hint: str = "raise core.limits.max_input_pixels to open it") -> None:
        self.path, self.width, self.height, self.limit = path, width, height, limit
        super().__init__(self.describe(hint))

    def describe(self, hint: str) -> str:
        """The message with ``hint`` as its last part."""
        pixels = self.width * self.height
        return (
            f"{self.path}: {self.width}x{self.height} = {pixels:,} pixels, over the limit of "
            f"{self.limit:,} pixels ({self.limit / 1e6:g} megapixels); {hint}"
        )


class ParameterError(UpscopeError, ValueError):
    """A value given to a `core` function is out of its domain (names the value and why)."""


class UnsupportedScaleError(ParameterError):
    """A method or downsampler cannot take the requested scale (e.g. pooling at x2.5)."""
