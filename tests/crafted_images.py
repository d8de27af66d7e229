"""Image files built byte by byte, independently of the readers under test: honest files
in layouts the libraries do not write, and hostile ones whose headers claim far more
pixels than they hold."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np


def chunk(kind: bytes, body: bytes) -> bytes:
    """A PNG chunk with its CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bytes(pixels: np.ndarray, *, exif: bytes | None = None) -> bytes:
    """A PNG of grey ``(H, W)``, grey+alpha ``(H, W, 2)``, RGB or RGBA ``uint8``/``uint16``
    pixels, filter 0 on every row; ``exif`` (a TIFF structure) goes in an eXIf chunk after
    the pixels."""
    grid = pixels if pixels.ndim == 3 else pixels[:, :, None]
    height, width, channels = grid.shape
    depth = 16 if grid.dtype == np.uint16 else 8
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = grid.astype(">u2" if depth == 16 else np.uint8).reshape(height, -1).view(np.uint8)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    body += chunk(b"IDAT", zlib.compress(raw))
    if exif is not None:
        body += chunk(b"eXIf", exif)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def zeros_deflated(count: int, piece: int = 1 << 20) -> bytes:
    """A zlib stream of ``count`` zero bytes, built from one compressed piece repeated (a
    full flush makes every piece compress alike), so a gigabyte costs milliseconds."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(piece)) + compressor.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(count, piece)
    tail = compressor.compress(bytes(rest)) + compressor.flush(zlib.Z_FINISH)
    checksum = (count % 65521) << 16 | 1  # Adler-32 of zeros: A stays 1, B adds 1 per byte
    return b"\x78\xda" + block * whole + tail + struct.pack(">I", checksum)


def png_bomb(width: int, height: int) -> bytes:
    """An 8-bit grey PNG of ``width`` x ``height`` zeros: valid, small, huge once decoded."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + chunk(b"IDAT", zeros_deflated(height * (width + 1))) + chunk(b"IEND", b"")


def png_claiming(width: int, height: int) -> bytes:
    """An RGB PNG whose header claims ``width`` x ``height`` over 64 bytes of pixels."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int, *, data_for: tuple[int, int] = (160, 120)) -> bytes:
    """A real baseline JPEG of ``data_for`` (width, height) pixels whose frame header is
    rewritten to claim ``width`` x ``height``."""
    rng = np.random.default_rng(1)
    grey = cv2.GaussianBlur(rng.integers(0, 256, (data_for[1], data_for[0]), dtype=np.uint8), (5, 5), 2)
    ok, encoded = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, 75])
    data = bytearray(encoded.tobytes())
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


_TIFF_TYPES = {"H": 3, "I": 4}


def tiff_bytes(
    pixels: np.ndarray | None = None,
    *,
    claim: tuple[int, int, int, int] | None = None,
    photometric: int | None = None,
    extra_samples: tuple[int, ...] = (),
    orientation: int | None = None,
    tile: tuple[int, int] | None = None,
    big_endian: bool = False,
) -> bytes:
    """An uncompressed single-strip TIFF of ``pixels`` (``(H, W)`` or ``(H, W, C)``,
    ``uint8``, ``uint16`` or ``float32``, stored as given), or with ``claim`` = (width,
    height, samples, bits) and no pixel data. ``tile`` declares a tiled layout instead of
    strips (its data is absent)."""
    order = ">" if big_endian else "<"
    if pixels is not None:
        grid = pixels if pixels.ndim == 3 else pixels[:, :, None]
        height, width, samples = grid.shape
        bits = grid.dtype.itemsize * 8
        fmt = 3 if grid.dtype.kind == "f" else 1
        data = grid.astype(grid.dtype.newbyteorder(order)).tobytes()
    else:
        assert claim is not None
        width, height, samples, bits = claim
        fmt, data = 1, b""
    if photometric is None:
        photometric = 2 if samples >= 3 else 1
    tags: list[tuple[int, str, list[int]]] = [
        (256, "I", [width]), (257, "I", [height]), (258, "H", [bits] * samples), (259, "H", [1]),
        (262, "H", [photometric]), (277, "H", [samples]), (284, "H", [1]), (339, "H", [fmt] * samples),
    ]
    if orientation is not None:
        tags.append((274, "H", [orientation]))
    if extra_samples:
        tags.append((338, "H", list(extra_samples)))
    if tile is None:
        tags += [(273, "I", [0]), (278, "I", [height]), (279, "I", [len(data)])]
    else:
        tags += [(322, "I", [tile[0]]), (323, "I", [tile[1]]), (324, "I", [0]), (325, "I", [0])]
    tags.sort()
    ifd_end = 8 + 2 + 12 * len(tags) + 4
    encoded = [(tag, code, struct.pack(order + code * len(values), *values)) for tag, code, values in tags]
    data_at = ifd_end + sum(len(raw) for _, _, raw in encoded if len(raw) > 4)
    overflow = b""
    entries = b""
    for tag, code, raw in encoded:
        if tag == 273:
            raw = struct.pack(order + "I", data_at)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\0")
        else:
            field = struct.pack(order + "I", ifd_end + len(overflow))
            overflow += raw
        entries += struct.pack(order + "HHI", tag, _TIFF_TYPES[code], len(raw) // struct.calcsize(code)) + field
    magic = b"MM\0*" if big_endian else b"II*\0"
    ifd = struct.pack(order + "H", len(tags)) + entries + struct.pack(order + "I", 0)
    return magic + struct.pack(order + "I", 8) + ifd + overflow + data


def bmp_claiming(width: int, height: int) -> bytes:
    """A 24-bit BMP header claiming ``width`` x ``height`` over 64 bytes of pixels."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 64, 0, 0, 54) + info + bytes(64)


def webp_claiming(kind: str, width: int, height: int) -> bytes:
    """A WebP whose first chunk (``"VP8 "``, ``"VP8L"`` or ``"VP8X"``) claims ``width`` x
    ``height``, over a few bytes of data."""
    if kind == "VP8X":
        body = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    elif kind == "VP8L":
        body = b"\x2f" + struct.pack("<I", (width - 1) | (height - 1) << 14) + bytes(32)
    else:
        body = b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(32)
    chunk_bytes = kind.encode() + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk_bytes)) + b"WEBP" + chunk_bytes


def exif_block(orientation: int, big_endian: bool = False) -> bytes:
    """A minimal EXIF TIFF structure holding only the Orientation tag."""
    order = ">" if big_endian else "<"
    magic = b"MM\0*" if big_endian else b"II*\0"
    entry = struct.pack(order + "HHIH", 0x0112, 3, 1, orientation) + b"\0\0"
    return magic + struct.pack(order + "I", 8) + struct.pack(order + "H", 1) + entry + struct.pack(order + "I", 0)
