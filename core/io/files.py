"""Opening input files so that no input can block or exhaust the reader.

Only regular files are read. A named pipe, a device, a socket or a folder is refused from
its `os.stat` before it is opened, and the file is opened without blocking (``O_NONBLOCK``)
and checked again through its descriptor, so a file swapped for a pipe in between cannot
block either. The size from the same check bounds every read.
"""

from __future__ import annotations

import errno
import io
import os
import stat

from core.common.errors import ImageError, shown_path

# O_NONBLOCK makes opening a named pipe return at once instead of waiting for a writer;
# it changes nothing for a regular file. Windows has neither.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular_file(path: str | os.PathLike, what: str = "image file") -> tuple[io.BufferedReader, int]:
    """Open ``path`` for reading if it is a regular file (symbolic links followed).

    Returns the open binary file and its size in bytes. Raises `ImageError` naming the
    file and why it cannot be read: missing, a symbolic link loop or a link to nothing,
    a folder, a named pipe, a device or a socket ("is a named pipe (FIFO), not an image
    file", with ``what`` as the last words), or no permission. Never blocks.
    """
    shown = shown_path(path)
    try:
        kind = _kind(os.stat(path).st_mode)
    except OSError as exc:
        raise ImageError(f"{shown}: {_stat_failure(path, exc)}") from None
    except ValueError:  # a NUL character in the name
        raise ImageError(f"{shown}: not a valid file name (it contains a NUL character)") from None
    if kind is not None:
        raise ImageError(f"{shown}: is {kind}, not {_article(what)}")
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise ImageError(f"{shown}: {_open_failure(exc)}") from None
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind is not None:  # replaced between the two checks
            raise ImageError(f"{shown}: is {kind}, not {_article(what)}")
        return open(fd, "rb", closefd=True), info.st_size
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: str | os.PathLike, what: str, max_bytes: int) -> bytearray:
    """The whole of a regular file of at most ``max_bytes`` bytes (`open_regular_file`'s
    refusals, and "the file is N bytes; a <what> is at most M" for a larger one)."""
    handle, size = open_regular_file(path, what)
    with handle:
        if size > max_bytes:
            raise ImageError(
                f"{shown_path(path)}: the file is {size:,} bytes; {_article(what)} is at most "
                f"{max_bytes:,} bytes"
            )
        return read_exactly(handle, size, path)


def read_exactly(handle: io.BufferedReader, size: int, path: str | os.PathLike) -> bytearray:
    """Up to ``size`` bytes from the current position of ``handle`` (fewer if the file
    ends first), read into one buffer allocated once. Raises `ImageError` on a read error."""
    data = bytearray(size)
    view = memoryview(data)
    filled = 0
    try:
        while filled < size:
            count = handle.readinto(view[filled:])
            if not count:
                break
            filled += count
    except OSError as exc:
        raise ImageError(f"{shown_path(path)}: cannot be read ({exc.strerror or exc})") from None
    finally:
        view.release()
    if filled < size:
        del data[filled:]
    return data


def read_at(handle: io.BufferedReader, offset: int, length: int) -> bytes:
    """At most ``length`` bytes from ``offset`` (fewer at the end of the file)."""
    handle.seek(offset)
    return handle.read(length)


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def _article(what: str) -> str:
    return f"an {what}" if what[:1] in "aeiou" else f"a {what}"


def _stat_failure(path: str | os.PathLike, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"no such file (a symbolic link to {shown_path(os.readlink(os.fspath(path)))}, which does not exist)"
        return "no such file"
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop (its links lead back to each other and never to a file)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (a folder on its path cannot be searched)"
    if exc.errno == errno.ENOTDIR:
        return "no such file (a part of its path is a file, not a folder)"
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return f"cannot be read ({exc.strerror or exc})"


def _open_failure(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (the file cannot be read)"
    if exc.errno == errno.ENOENT:
        return "no such file"
    return f"cannot be read ({exc.strerror or exc})"

