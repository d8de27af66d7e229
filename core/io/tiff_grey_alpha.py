"""Grey+alpha TIFF (two samples per pixel), which OpenCV reads as grey only, 8-bit.

`encode_grey_alpha_tiff` writes ``(H, W, 2)`` arrays of ``uint8``, ``uint16`` or
``float32`` as a little-endian TIFF: chunky strips, Deflate-compressed, alpha marked
unassociated. `decode_grey_alpha_tiff` reads 16-bit and float ones in the layouts most
tools write: chunky strips, uncompressed or Deflate-compressed, with or without horizontal
differencing (predictor 2, integer samples); anything else is refused with a message.
8-bit grey+alpha is decoded by Pillow, which reads every compression.
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import Literal

import numpy as np

from core.io.headers import HeaderError, ImageHeader, read_tiff_tags

_STRIP_TAGS = {
    259: "compression", 273: "offsets", 278: "rows_per_strip", 279: "counts",
    284: "planar", 317: "predictor", 322: "tile_width",
}
_DEFLATE = (8, 32946)
_STRIP_BYTES = 256 * 1024


def decode_grey_alpha_tiff(data: bytes | bytearray, header: ImageHeader) -> np.ndarray:
    """The ``(H, W, 2)`` samples of a 16-bit or float32 grey+alpha TIFF, exactly as stored.
    Raises `HeaderError` for a layout it does not read or data that is cut short."""
    tags = read_tiff_tags(lambda at, n: bytes(data[at:at + n]), _STRIP_TAGS, max_values=header.height)
    values = tags.values
    compression = values.get("compression", (1,))[0]
    predictor = values.get("predictor", (1,))[0]
    what = f"a {header.sample_text} grey+alpha TIFF"
    if "tile_width" in values or values.get("planar", (1,))[0] != 1:
        raise HeaderError(
            f"{what} in tiles or separate planes is not supported (Upscope reads it in strips of interleaved samples)"
        )
    if compression not in (1, *_DEFLATE) or predictor not in (1, 2) or (predictor == 2 and header.bits == 32):
        raise HeaderError(
            f"{what} with compression {compression} and predictor {predictor} is not supported "
            "(Upscope reads it uncompressed or Deflate-compressed)"
        )
    order: Literal["<", ">"] = "<" if tags.order == "<" else ">"
    dtype = np.dtype(("f" if header.bits == 32 else "u") + str(header.bits // 8)).newbyteorder(order)
    row_bytes = header.width * 2 * dtype.itemsize
    rows_per_strip = min(values.get("rows_per_strip", (header.height,))[0] or header.height, header.height)
    offsets, counts = values.get("offsets", ()), values.get("counts", ())
    strips = math.ceil(header.height / rows_per_strip)
    if len(offsets) < strips or len(counts) < strips:
        raise HeaderError(f"{what} is corrupt (it lists {len(offsets)} strips of the {strips} it needs)")
    pixels = bytearray(header.height * row_bytes)
    for index in range(strips):
        start = index * rows_per_strip * row_bytes
        wanted = min(rows_per_strip * row_bytes, len(pixels) - start)
        stored = bytes(data[offsets[index] : offsets[index] + counts[index]])
        if compression in _DEFLATE:
            try:
                stored = zlib.decompressobj().decompress(stored, wanted)  # never more than the strip
            except zlib.error:
                raise HeaderError(f"{what} is corrupt (strip {index} cannot be decompressed)") from None
        if len(stored) < wanted:
            raise HeaderError(f"the TIFF file is corrupt or truncated (strip {index} holds {len(stored):,} of {wanted:,} bytes)")
        pixels[start : start + wanted] = stored[:wanted]
    native = dtype.newbyteorder("=")
    image = np.frombuffer(pixels, dtype).reshape(header.height, header.width, 2).astype(native)
    if predictor == 2:  # each sample was stored as its difference to the left neighbour
        image = np.cumsum(image, axis=1, dtype=native)  # wraps modulo 2**16, as stored
    return image


def encode_grey_alpha_tiff(image: np.ndarray) -> bytes:
    """``(H, W, 2)`` ``uint8``/``uint16``/``float32`` grey+alpha as TIFF bytes (alpha
    unassociated: the grey is stored as it is, not multiplied by alpha)."""
    height, width = image.shape[:2]
    samples = np.ascontiguousarray(image, dtype=image.dtype.newbyteorder("<"))
    row_bytes = width * 2 * samples.itemsize
    rows_per_strip = max(1, _STRIP_BYTES // row_bytes)
    strips = [zlib.compress(samples[top : top + rows_per_strip].tobytes(), 6) for top in range(0, height, rows_per_strip)]
    offsets, position = [], 8
    for strip in strips:
        offsets.append(position)
        position += len(strip)
    if position + 1024 + 8 * len(strips) >= 2**32:
        raise ValueError("a grey+alpha TIFF over 4 GB cannot be written")
    bits = samples.itemsize * 8
    sample_format = 3 if samples.dtype.kind == "f" else 1
    tags = [
        (256, 4, [width]),
        (257, 4, [height]),
        (258, 3, [bits, bits]),
        (259, 3, [8]),
        (262, 3, [1]),
        (273, 4, offsets),
        (277, 3, [2]),
        (278, 4, [rows_per_strip]),
        (279, 4, [len(s) for s in strips]),
        (284, 3, [1]),
        (338, 3, [2]),
        (339, 3, [sample_format] * 2),
    ]
    ifd_at = position + (position & 1)
    overflow_at = ifd_at + 2 + 12 * len(tags) + 4
    entries, overflow = b"", b""
    for tag, kind, values in tags:
        raw = struct.pack("<" + ("H" if kind == 3 else "I") * len(values), *values)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\0")
        else:
            field = struct.pack("<I", overflow_at + len(overflow))
            overflow += raw
        entries += struct.pack("<HHI", tag, kind, len(values)) + field
    body = b"".join(strips) + b"\0" * (position & 1)
    ifd = struct.pack("<H", len(tags)) + entries + struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", ifd_at) + body + ifd + overflow
