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


class ModelError(UpscopeError):
    """A model file is missing, damaged, not a model Upscope can run, or not the model
    its card describes (the message names the file and the reason). Not a usage error:
    the command line exits 1 for it, as for an unreadable image."""


class ParameterError(UpscopeError, ValueError):
    """A value given to a `core` function is out of its domain (names the value and why)."""


class OutputExistsError(ParameterError):
    """Files an export would write exist already and replacing them was not asked for;
    ``paths`` lists them. A command line says which option replaces them."""

    def __init__(self, paths: list) -> None:
        self.paths = list(paths)
        names = ", ".join(str(p) for p in self.paths[:3]) + (" ..." if len(self.paths) > 3 else "")
        super().__init__(f"{names}: already exists (not replaced)")


class UnsupportedScaleError(ParameterError):
    """A method or downsampler cannot take the requested scale (e.g. pooling at x2.5)."""


def shown_path(path: object) -> str:
    """A file name as a message shows it: as typed, except that control characters (a
    newline, a tab, an escape) are written as in a Python string literal (``\\n``,
    ``\\t``, ``\\x1b``) and bytes that are not valid in the file system's encoding as
    ``\\xNN``, so a message stays on one line and can always be printed."""
    text = path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else str(path)
    return "".join(_shown_char(c) for c in text)


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown_char(char: str) -> str:
    if char.isprintable():
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def last_line(exc: BaseException) -> str:
    """The last line of an exception's message (a library's own words, without its
    traceback-like preamble), or the exception's type when it says nothing."""
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


class PluginError(UpscopeError):
    """A plugin (a user's Python file or installed package of methods) could not be loaded,
    or one of its methods raised, returned the wrong thing or did not finish in time. The
    message names the plugin file, the method and the reason; the rest of a comparison
    runs on."""
