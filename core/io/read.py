"""Reading image files: `load_image`, bounded and exact.

`load_image` returns arrays in the layout every other `core` function takes: ``(H, W)``
for grey, ``(H, W, 2)`` grey+alpha, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA, dtype
``uint8``, ``uint16`` or ``float32``.

Reading is bounded before any pixel is decoded: only regular files are opened
(`core.io.files`); the format is recognised from its magic bytes and its header read from
the first bytes (`core.io.headers`); the declared pixel count is checked against the input limit, and the file's
size against what such an image can take up (`max_file_bytes`), before the rest is read.
OpenCV decodes the pixels (it reads 16-bit and float TIFF, which Pillow does not), except
the TIFF layouts it would change: 8-bit RGBA with unassociated alpha and 8-bit grey+alpha
(Pillow decodes them exactly), 16-bit and float grey+alpha (`core.io.tiff_grey_alpha`).
The libraries' console messages are captured (`core.io.quiet`) and replaced by Upscope's
own.
"""

from __future__ import annotations

import io
import os
import warnings

import cv2
import numpy as np
from PIL import TiffImagePlugin

from core.common.arrays import SUPPORTED_DTYPES
from core.common.errors import ImageError, ImageTooLargeError, last_line, shown_path
from core.common.limits import limits
from core.io.files import open_regular_file, read_at, read_exactly
from core.io.headers import (
    HEAD_BYTES,
    SUPPORTED_FORMATS,
    HeaderError,
    ImageHeader,
    complete_header,
    name_of_other_format,
    read_header,
)
from core.io.quiet import library_output_captured
from core.io.tiff_grey_alpha import decode_grey_alpha_tiff

READABLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".webp")

FILE_SIZE_MARGIN = 256 * 1024 * 1024
"""Bytes a file may hold beyond four times its pixels uncompressed (see `max_file_bytes`)."""

_UNASSOCIATED_ALPHA = 2


def max_file_bytes(header: ImageHeader) -> int:
    """The largest file accepted for ``header``: 256 MiB plus four times the pixels
    uncompressed. Compressed pixels are smaller than that, and the margin holds metadata
    (colour profiles, thumbnails) and the further pages of a TIFF; anything larger is data
    the image does not need, refused before it is read."""
    return FILE_SIZE_MARGIN + 4 * header.stored_bytes


def load_image(path: str | os.PathLike, *, max_pixels: int | None = None) -> np.ndarray:
    """Read an image file into an RGB(A)-ordered array.

    Parameters
    ----------
    path:
        A PNG, JPEG, TIFF, BMP or WebP file, recognised from its content whatever its
        extension. Any characters are allowed in the path.
    max_pixels:
        Refuse images with more than this many pixels (height x width), checked from the
        header before decoding. Defaults to ``core.limits.max_input_pixels``.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` grey, ``(H, W, 2)`` grey+alpha, ``(H, W, 3)`` RGB or ``(H, W, 4)``
        RGBA; dtype ``uint8``, ``uint16`` or ``float32`` as stored (float64 TIFFs become
        float32), the samples exactly as stored (alpha is never premultiplied). EXIF
        orientation is applied, so the array is upright as a viewer shows it.

    Raises
    ------
    ImageError
        The message names the file (control characters escaped) and the reason: missing,
        a symbolic link loop, no permission, a folder, a named pipe, a device or a socket
        (all refused without reading), empty, another format, corrupt or truncated, too
        many pixels (`ImageTooLargeError`), a file far larger than its image, an
        unsupported sample type or layout, or float samples that are NaN or infinite.
        Bytes read are bounded by `max_file_bytes` of the declared header.
    """
    shown = shown_path(path)
    limit = limits.max_input_pixels if max_pixels is None else int(max_pixels)
    header, data = _read_checked(path, shown, limit)
    try:
        decoded, messages = _decode(header, data)
    except HeaderError as problem:
        raise ImageError(f"{shown}: {problem}") from None
    except MemoryError:
        raise ImageError(
            f"{shown}: not enough memory to decode this {header.width}x{header.height} image"
        ) from None
    del data
    if decoded is None or _truncation_reported(header, messages):
        raise ImageError(f"{shown}: the {header.format} file is corrupt or truncated{_detail(messages)}")
    if decoded.shape[:2] != (header.height, header.width):
        raise ImageError(
            f"{shown}: the {header.format} file is corrupt (its header says {header.width}x{header.height} "
            f"pixels, its data {decoded.shape[1]}x{decoded.shape[0]})"
        )
    image = _to_supported_dtype(shown, decoded)
    if header.orientation not in (None, 1):
        image = _apply_orientation(image, header.orientation)
    return np.ascontiguousarray(image)


def _read_checked(path: str | os.PathLike, shown: str, limit: int) -> tuple[ImageHeader, bytearray]:
    """The header and the whole file, after every check a header allows."""
    handle, size = open_regular_file(path, "image file")
    with handle:
        if size == 0:
            raise ImageError(f"{shown}: the file is empty (0 bytes)")
        head = read_at(handle, 0, HEAD_BYTES)
        try:
            header = read_header(head, lambda offset, length: read_at(handle, offset, length))
        except HeaderError as problem:
            raise ImageError(f"{shown}: {problem}") from None
        except OSError as exc:
            raise ImageError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
        if header is None:
            raise ImageError(f"{shown}: {_not_supported(head)}")
        if header.pixels > limit:
            raise ImageTooLargeError(shown, header.width, header.height, limit)
        if size > max_file_bytes(header):
            raise ImageError(
                f"{shown}: the file is {size:,} bytes, more than a {header.width}x{header.height} "
                f"{header.format} image can take up ({max_file_bytes(header):,} bytes at most); it "
                "holds something else besides the image"
            )
        handle.seek(0)
        try:
            data = read_exactly(handle, size, path)
        except MemoryError:
            raise ImageError(f"{shown}: not enough memory to read this file ({size:,} bytes)") from None
    try:
        return complete_header(header, data), data
    except HeaderError as problem:
        raise ImageError(f"{shown}: {problem}") from None


def _not_supported(head: bytes) -> str:
    other = name_of_other_format(head)
    if other is not None:
        article = "an" if other[0] in "AEIOU" else "a"
        return f"is {article} {other} image; Upscope reads {SUPPORTED_FORMATS} (convert it to PNG first)"
    return f"not an image Upscope can read (it reads {SUPPORTED_FORMATS})"


def _decode(header: ImageHeader, data: bytearray) -> tuple[np.ndarray | None, list[str]]:
    """Pixels in RGB(A) order (grey+alpha as 2 channels), or None, and what the libraries
    printed meanwhile."""
    if header.tiff is not None and header.tiff.orientation_offset is not None:
        # OpenCV applies a TIFF's orientation itself (other formats' not); neutralised here
        # so that every format is turned upright once, below, the same way.
        at, size = header.tiff.orientation_offset, header.tiff.orientation_size
        data[at:at + size] = (1).to_bytes(size, "little" if data[:2] == b"II" else "big")
    if header.grey_alpha and header.tiff is not None and header.bits > 8:
        return decode_grey_alpha_tiff(data, header), []
    with library_output_captured() as messages:
        try:
            if _needs_pillow(header):
                decoded = _decode_with_pillow(data)
            else:
                decoded = _to_rgb_order(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED))
        except cv2.error as exc:
            if "Insufficient memory" in str(exc):
                raise MemoryError from None
            messages.append(last_line(exc))
            decoded = None
    if decoded is not None and header.grey_alpha and decoded.ndim == 3 and decoded.shape[2] == 4:
        decoded = decoded[:, :, [0, 3]]  # OpenCV repeats grey over R, G and B
    return decoded, messages


def _needs_pillow(header: ImageHeader) -> bool:
    """OpenCV premultiplies 8-bit RGBA TIFFs whose alpha is unassociated (libtiff's RGBA
    reader) and drops the alpha of grey+alpha TIFFs; Pillow decodes both exactly at 8 bits.
    16-bit RGBA comes from OpenCV as stored; 16-bit and float grey+alpha from
    `decode_grey_alpha_tiff`."""
    layout = header.tiff
    if layout is None or header.bits != 8:
        return False
    unassociated_rgba = header.channels == 4 and layout.photometric == 2 and layout.extra_samples[:1] == (_UNASSOCIATED_ALPHA,)
    return unassociated_rgba or header.grey_alpha


def _decode_with_pillow(data: bytearray) -> np.ndarray | None:
    """The pixels as Pillow decodes them, or None (as ``cv2.imdecode``) if it cannot.
    The format's class reads the file without `Image.open`'s own size check, which would
    warn about images our limit allows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with TiffImagePlugin.TiffImageFile(io.BytesIO(data)) as img:
                img.load()
                return np.asarray(img)
        except MemoryError:
            raise
        except Exception:
            return None


def _truncation_reported(header: ImageHeader, messages: list[str]) -> bool:
    """libjpeg decodes a scan that ends early into grey rows and only warns ("premature end
    of data segment"); that image is not the file's, so it is refused as truncated."""
    return header.format == "JPEG" and any("premature end" in line.lower() for line in messages)


def _detail(messages: list[str]) -> str:
    """The first line a library printed, as a parenthesised detail (OpenCV's log lines,
    which name its own source files, are left out)."""
    for line in messages:
        text = line.strip()
        if text.startswith(("[", ">")) or not text:
            continue
        for prefix in ("libpng error: ", "libpng warning: "):
            text = text.removeprefix(prefix)
        text = shown_path(text)
        return f" ({text[:117] + '...' if len(text) > 120 else text})"
    return ""


def _to_rgb_order(decoded: np.ndarray | None) -> np.ndarray | None:
    if decoded is None:
        return None
    if decoded.ndim == 3 and decoded.shape[2] == 1:
        return decoded[:, :, 0]
    if decoded.ndim == 3 and decoded.shape[2] == 3:
        return decoded[:, :, ::-1]
    if decoded.ndim == 3 and decoded.shape[2] == 4:
        return decoded[:, :, [2, 1, 0, 3]]
    return decoded


def _to_supported_dtype(path: str, image: np.ndarray) -> np.ndarray:
    if image.dtype == np.float64:
        image = image.astype(np.float32)
    if image.dtype not in SUPPORTED_DTYPES:
        raise ImageError(
            f"{path}: {image.dtype} samples are not supported "
            "(Upscope reads 8-bit, 16-bit and 32-bit float images)"
        )
    if image.dtype == np.float32:
        bad = int(np.count_nonzero(~np.isfinite(image)))
        if bad:
            raise ImageError(f"{path}: {bad} samples are NaN or infinite; Upscope needs finite values")
    return image


def _apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (2..8) so the array is upright."""
    transforms = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    return transforms[orientation](image)


