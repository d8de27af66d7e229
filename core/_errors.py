"""The exceptions `core` raises. Every message names the file or value and the reason."""

from __future__ import annotations


class UpscopeError(Exception):
    """Base class of every error `core` raises on purpose."""


class ImageError(UpscopeError):
    """An image file could not be read or written (the message names the file and why)."""


class ParameterError(UpscopeError, ValueError):
    """A value given to a `core` function is out of its domain (names the value and why)."""


class UnsupportedScaleError(ParameterError):
    """A method or downsampler cannot take the requested scale (e.g. pooling at x2.5)."""
