"""Writing files so that a failure never leaves a partial one: lossless images
(`save_image`) and any bytes (`write_bytes_atomically`), through a temporary file in the
destination folder and a rename."""

from __future__ import annotations

import glob
import os
import tempfile
import zlib
from pathlib import Path

import cv2
import numpy as np

from core.common.arrays import SUPPORTED_DTYPES
from core.common.errors import ImageError, last_line
from core.io.tiff_grey_alpha import encode_grey_alpha_tiff

WRITABLE_SUFFIXES = (".png", ".tif", ".tiff")


def save_image(path: str | os.PathLike, image: np.ndarray, *, overwrite: bool = True) -> Path:
    """Write an array as a lossless PNG or TIFF, atomically.

    The pixels are encoded in memory, written to a temporary file in the destination
    folder, flushed and renamed over the destination, so a failure never leaves a partial
    file behind.

    Parameters
    ----------
    path:
        Destination ending in ``.png`` (``uint8`` or ``uint16``) or ``.tif``/``.tiff``
        (``uint8``, ``uint16`` or ``float32``).
    image:
        ``(H, W)`` grey, ``(H, W, 2)`` grey+alpha, ``(H, W, 3)`` RGB or ``(H, W, 4)``
        RGBA. Grey+alpha is written as PNG (8/16-bit) or as 8-bit TIFF, the layouts
        `load_image` reads back exactly.
    overwrite:
        When false, an existing destination raises `ImageError` and is left untouched.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        raise ImageError(
            f"{path}: cannot write '{suffix or 'no extension'}' files; "
            "use .png (8/16-bit) or .tif (8/16-bit or float32), both lossless"
        )
    image = np.asarray(image)
    _check_writable_array(path, image, suffix)
    try:  # a name too long, or a folder on the way that may not be searched, raises here
        if path.is_dir():
            raise ImageError(f"{path}: is a folder, not a file name")
        if not overwrite and path.exists():
            raise ImageError(f"{path}: already exists (not overwritten)")
        if not path.parent.is_dir():
            raise ImageError(f"{path}: the folder {path.parent} does not exist")
    except OSError as exc:
        raise ImageError(f"{path}: cannot write ({exc.strerror or exc})") from None
    if image.ndim == 3 and image.shape[2] == 2:
        try:
            encoded_grey_alpha = _encode_grey_alpha(image, suffix)
        except ValueError as exc:
            raise ImageError(f"{path}: {exc}") from None
        write_bytes_atomically(path, encoded_grey_alpha, overwrite=overwrite)
        return path
    bgr = _to_bgr_order(image)
    try:
        ok, encoded = cv2.imencode(".png" if suffix == ".png" else ".tiff", bgr)
    except cv2.error as exc:
        raise ImageError(f"{path}: cannot encode this image ({last_line(exc)})") from None
    if not ok:
        raise ImageError(f"{path}: cannot encode this image as {suffix}")
    write_bytes_atomically(path, encoded.tobytes(), overwrite=overwrite)
    return path


def _encode_grey_alpha(image: np.ndarray, suffix: str) -> bytes:
    """``(H, W, 2)`` grey+alpha as a PNG (colour type 4, 8 or 16 bits) or a TIFF (8/16-bit
    or float32, unassociated alpha). OpenCV writes neither; the PNG is assembled here with
    zlib, compressed band by band so that no second copy of a large image is held."""
    if suffix != ".png":
        return encode_grey_alpha_tiff(image)
    height, width = image.shape[:2]
    depth = 8 if image.dtype == np.uint8 else 16
    samples = np.ascontiguousarray(image, dtype=">u2" if depth == 16 else np.uint8)
    compressor = zlib.compressobj(6)
    parts = []
    band = max(1, (4 * 1024 * 1024) // samples[0].nbytes)
    for top in range(0, height, band):
        rows = samples[top:top + band].reshape(-1, width * 2).view(np.uint8)
        filtered = np.zeros((rows.shape[0], rows.shape[1] + 1), np.uint8)  # filter type 0 per row
        filtered[:, 1:] = rows
        parts.append(compressor.compress(filtered.tobytes()))
    parts.append(compressor.flush())

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes((depth, 4, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def _process_umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; done once, at import
    os.umask(mask)
    return mask


_UMASK = _process_umask()


#: Characters of the destination's name kept in its temporary file's name, so that the
#: temporary name (a dot, this, a random part and ".part") fits wherever the name itself fits.
_TEMPORARY_NAME_CHARS = 100


def write_bytes_atomically(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file (``.<name>.<random>.part`` in
    the same folder) and a rename.

    Raises `ImageError` naming the file when the folder is missing or not writable (a
    read-only file system, no permission), the name is too long, or the disk is full.
    The temporary file is removed in every failure, including an exception that is not an
    error (``KeyboardInterrupt``, or one a signal handler raises): nothing partial is left.
    """
    path = Path(path)
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".part", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            # mkstemp makes the file private (0600); a saved image gets the usual permissions.
            os.chmod(tmp_name, 0o666 & ~_UMASK)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp_name, path)
        else:
            # link() fails if the destination appeared meanwhile, where rename would clobber it.
            os.link(tmp_name, path)
            os.unlink(tmp_name)
    except FileExistsError:
        _remove_quietly(tmp_name)
        raise ImageError(f"{path}: already exists (not overwritten)") from None
    except FileNotFoundError:
        _remove_quietly(tmp_name)
        raise ImageError(f"{path}: the folder {path.parent} does not exist") from None
    except OSError as exc:
        _remove_quietly(tmp_name)
        raise ImageError(f"{path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        _remove_quietly(tmp_name)
        raise


def unfinished_writes(path: Path) -> list[Path]:
    """The temporary files that writes of ``path`` left behind when their process was
    killed outright (SIGKILL, a crash) before it could remove them; a process that
    outlives such a worker removes them."""
    path = Path(path)
    try:
        return sorted(path.parent.glob(glob.escape(_temporary_prefix(path)) + "*.part"))
    except OSError:
        return []


def _temporary_prefix(path: Path) -> str:
    return f".{path.name[:_TEMPORARY_NAME_CHARS]}."


def _to_bgr_order(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image[:, :, ::-1])
    if image.ndim == 3 and image.shape[2] == 4:
        return np.ascontiguousarray(image[:, :, [2, 1, 0, 3]])
    if image.ndim == 3:
        return np.ascontiguousarray(image[:, :, 0])
    return np.ascontiguousarray(image)


def _check_writable_array(path: Path, image: np.ndarray, suffix: str) -> None:
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 2, 3, 4)):
        raise ImageError(f"{path}: cannot write an array of shape {image.shape} as an image")
    if image.size == 0:
        raise ImageError(f"{path}: cannot write an empty image of shape {image.shape}")
    if image.dtype not in SUPPORTED_DTYPES:
        raise ImageError(f"{path}: cannot write {image.dtype} samples (use uint8, uint16 or float32)")
    if suffix == ".png" and image.dtype == np.float32:
        raise ImageError(f"{path}: PNG cannot hold float32 samples; save as .tif instead")


def _remove_quietly(name: str | None) -> None:
    if name is None:
        return
    try:
        os.unlink(name)
    except OSError:
        pass


def write_text(path: str | Path, text: str, *, overwrite: bool = True) -> Path:
    """Write ``text`` (UTF-8) atomically; `ImageError` names the file when it cannot."""
    path = Path(path)
    write_bytes_atomically(path, text.encode("utf-8"), overwrite=overwrite)
    return path
