"""What an image file says about itself, read from its first bytes before any pixel is
decoded.

`read_header` identifies PNG, JPEG, TIFF, BMP and WebP by their magic bytes (never by the
file's extension) and reads the size, the samples and, for TIFF, the layout that decides
how the pixels are decoded. It reads a bounded number of bytes whatever the file claims, so
a decompression bomb is refused from the size it declares. `complete_header` then reads,
from the whole file, what lies after the header: the EXIF orientation of PNG and WebP
(in a chunk that may follow the pixels) and whether a JPEG's compressed data can hold the
size its header declares. Every problem is a `HeaderError` whose text says what is wrong;
the caller adds the file name.
"""

from __future__ import annotations

import math
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

ReadAt = Callable[[int, int], bytes]
"""``read_at(offset, length)``: at most ``length`` bytes of the file from ``offset``."""

HEAD_BYTES = 64 * 1024
"""The prefix every header is identified from (JPEG and TIFF headers may read further)."""

SUPPORTED_FORMATS = "PNG, JPEG, TIFF, BMP and WebP"

_JPEG_HEADER_LIMIT = 16 * 1024 * 1024  # bytes of markers before the first scan
_JPEG_MAX_MARKERS = 10_000  # markers and fill bytes walked before the first scan / after it: 10x
_JPEG_MAX_SCANS = 1000  # a progressive JPEG has about ten; each scan is a pass over the image
_EXIF_MAX_BYTES = 1024 * 1024
_PNG_EXIF_CANDIDATES = 64
_WEBP_MAX_CHUNKS = 100_000
_TIFF_MAX_ENTRIES = 4096
_TIFF_MIN_TILE_PIXELS = 1024 * 1024


class HeaderError(Exception):
    """A file that is recognised but cannot be read; the message says why (no file name)."""


@dataclass(frozen=True)
class TiffLayout:
    """What decides how a TIFF's pixels are decoded (tags of its first page)."""

    photometric: int
    sample_format: int
    extra_samples: tuple[int, ...]
    orientation_offset: int | None  # where the orientation value is stored, to neutralise it
    orientation_size: int


@dataclass(frozen=True)
class ImageHeader:
    """An image's header: ``width`` x ``height`` pixels of ``channels`` samples of ``bits``
    bits each as stored (a palette index is one sample). ``stored_bytes`` is the size of
    the pixels uncompressed; ``orientation`` the EXIF orientation (1 to 8; None until
    `complete_header` has looked for it)."""

    format: str
    width: int
    height: int
    channels: int
    bits: int
    stored_bytes: int
    orientation: int | None = 1
    grey_alpha: bool = False
    tiff: TiffLayout | None = None
    jpeg_scan_offset: int = 0
    jpeg_huffman: bool = True

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def sample_text(self) -> str:
        """E.g. ``"16-bit"``, or ``"32-bit float"``."""
        kind = {2: " signed", 3: " float"}.get(self.tiff.sample_format if self.tiff else 1, "")
        return f"{self.bits}-bit{kind}"


def read_header(head: bytes, read_at: ReadAt) -> ImageHeader | None:
    """The header of the image whose first bytes are ``head`` (`HEAD_BYTES` or the whole
    file if shorter), or None if it is not PNG, JPEG, TIFF, BMP or WebP. Raises
    `HeaderError` for a damaged or unsupported header of one of those."""
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png(head)
        if head.startswith(b"\xff\xd8\xff"):
            return _jpeg(read_at)
        if head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
            return _tiff(read_at)
        if head.startswith(b"BM"):
            return _bmp(head)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp(head)
    except struct.error:
        raise HeaderError("the file is truncated inside its header") from None
    return None


def complete_header(header: ImageHeader, data: bytes | bytearray) -> ImageHeader:
    """``header`` with what only the whole file ``data`` tells: the orientation of PNG and
    WebP, and for JPEG a check that the compressed data can hold the declared size (a
    file cut short, or a header rewritten to claim more pixels, is refused before decoding)."""
    if header.format == "JPEG":
        _check_jpeg_data(header, data)
    if header.orientation is None:
        finder = _png_orientation if header.format == "PNG" else _webp_orientation
        header = replace(header, orientation=finder(data))
    return header


def name_of_other_format(head: bytes) -> str | None:
    """The name of a common image format Upscope does not read, from its magic bytes."""
    for magic, name in _OTHER_FORMATS:
        if head.startswith(magic):
            return name
    if re.match(rb"P[1-7][ \t\r\n]", head[:3]):
        return "Netpbm (PBM/PGM/PPM/PAM)"
    if re.match(rb"P[Ff][ \t\r\n]", head[:3]):
        return "PFM"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis", b"heic", b"heix", b"mif1", b"msf1"):
        return "AVIF/HEIF"
    return None


_OTHER_FORMATS = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"#?RADIANCE", "Radiance HDR"),
    (b"#?RGBE", "Radiance HDR"),
    (b"\x59\xa6\x6a\x95", "Sun raster"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\x76\x2f\x31\x01", "OpenEXR"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"8BPS", "Photoshop (PSD)"),
    (b"qoif", "QOI"),
    (b"DDS ", "DDS"),
    (b"%PDF", "PDF"),
)


# PNG ---------------------------------------------------------------------------------

_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _png(head: bytes) -> ImageHeader:
    length, kind = struct.unpack_from(">I4s", head, 8)
    if kind != b"IHDR" or length != 13:
        raise HeaderError("the PNG file is corrupt (it does not start with an IHDR chunk)")
    width, height, depth, colour = struct.unpack_from(">IIBB", head, 16)
    if not (0 < width < 2**31 and 0 < height < 2**31) or depth not in _PNG_DEPTHS.get(colour, ()):
        raise HeaderError(f"the PNG file is corrupt (its header says {width}x{height} pixels, "
                            f"colour type {colour}, {depth}-bit)")
    channels = _PNG_CHANNELS[colour]
    return ImageHeader(
        "PNG", width, height, channels, depth,
        stored_bytes=height * (math.ceil(width * channels * depth / 8) + 1),
        orientation=None, grey_alpha=colour == 4,
    )


def _png_orientation(data: bytes | bytearray) -> int:
    """Orientation from the eXIf chunk, before or after the pixels. Found by searching for
    its name and checking the chunk's CRC, so a file of many chunks costs no Python loop."""
    start = data.find(b"eXIf", 12)
    for _ in range(_PNG_EXIF_CANDIDATES):
        if start == -1:
            break
        (length,) = struct.unpack_from(">I", data, start - 4)
        end = start + 4 + length
        crc_ok = end + 4 <= len(data) and struct.unpack_from(">I", data, end)[0] == zlib.crc32(data[start:end])
        if length <= _EXIF_MAX_BYTES and crc_ok:
            return exif_orientation(bytes(data[start + 4 : end]))
        start = data.find(b"eXIf", start + 1)
    return 1


# JPEG --------------------------------------------------------------------------------

_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01, 0xD8}
_ARITHMETIC = frozenset(range(0xC9, 0xD0))
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _jpeg(read_at: ReadAt) -> ImageHeader:
    position, frame, orientation = 2, None, None
    for _ in _walk_limit("before its image data", _JPEG_MAX_MARKERS):
        if position > _JPEG_HEADER_LIMIT:
            raise HeaderError(f"the JPEG file is corrupt (no image data in its first {_JPEG_HEADER_LIMIT:,} bytes)")
        marker = read_at(position, 4)
        if len(marker) < 2:
            raise HeaderError("the JPEG file is truncated (it ends before its image data)")
        if marker[0] != 0xFF:
            raise HeaderError(f"the JPEG file is corrupt (no marker at byte {position:,})")
        code = marker[1]
        if code == 0xFF:  # fill byte
            position += 1
            continue
        if code in _STANDALONE:
            position += 2
            continue
        if code == 0xD9:
            raise HeaderError("the JPEG file is corrupt (it ends before its image data)")
        (length,) = struct.unpack(">H", marker[2:4])
        if length < 2:
            raise HeaderError(f"the JPEG file is corrupt (a segment of length {length} at byte {position:,})")
        if code in _SOF_MARKERS and frame is None:
            frame = (code, read_at(position + 4, length - 2))
        elif code == 0xE1 and orientation is None:
            body = read_at(position + 4, length - 2)
            if body.startswith(b"Exif\0\0"):
                orientation = exif_orientation(body[6:])
        elif code == 0xDA:
            break
        position += 2 + length
    if frame is None:
        raise HeaderError("the JPEG file is corrupt (no frame header before its image data)")
    code, body = frame
    precision, height, width, components = struct.unpack_from(">BHHB", body)
    if height == 0:
        raise HeaderError("the JPEG file declares its height after the image data (a DNL marker), which is not supported")
    if width == 0 or components == 0:
        raise HeaderError(f"the JPEG file is corrupt (its header says {width}x{height} pixels, {components} components)")
    return ImageHeader(
        "JPEG",
        width,
        height,
        components,
        precision,
        stored_bytes=width * height * components * math.ceil(precision / 8),
        orientation=orientation or 1,
        jpeg_scan_offset=position,
        jpeg_huffman=code not in _ARITHMETIC,
    )


def _walk_limit(where: str, limit: int) -> Iterator[int]:
    """``range(limit)`` that refuses the file when a marker walk would go on past it (a
    file of millions of tiny segments would otherwise cost seconds of Python)."""
    yield from range(limit)
    raise HeaderError(f"the JPEG file is corrupt (more than {limit:,} markers {where})")


def _check_jpeg_data(header: ImageHeader, data: bytes | bytearray) -> None:
    """Count the compressed bytes of every scan. Huffman coding spends at least one bit on
    every 8x8 block of the full-resolution component (its DC difference), so fewer bytes
    than blocks / 8 cannot be the declared image: the file was cut short or its header
    rewritten. Arithmetic-coded files can be smaller and are left to the decoder."""
    position, scans, compressed = header.jpeg_scan_offset, 0, 0
    for _ in _walk_limit("after its first scan", 10 * _JPEG_MAX_MARKERS):
        if position + 4 > len(data):
            break
        code = data[position + 1]
        if data[position] != 0xFF:
            break
        if code == 0xFF or code in _STANDALONE:
            position += 1 if code == 0xFF else 2
            continue
        if code == 0xD9:
            break
        (length,) = struct.unpack_from(">H", data, position + 2)
        position += 2 + length
        if code == 0xDA:
            scans += 1
            if scans > _JPEG_MAX_SCANS:
                raise HeaderError(f"the JPEG file has more than {_JPEG_MAX_SCANS} scans (a decoding-time bomb)")
            found = _NEXT_MARKER.search(data, position)
            end = found.start() if found else len(data)
            compressed += end - position
            position = end
    blocks = math.ceil(header.width / 8) * math.ceil(header.height / 8)
    needed = math.ceil(blocks / 8)
    if header.jpeg_huffman and compressed < needed:
        raise HeaderError(
            f"the JPEG file is corrupt or truncated: its header says {header.width}x{header.height} "
            f"pixels, but its image data ({compressed:,} bytes) cannot hold that many (at least "
            f"{needed:,} bytes)"
        )


# TIFF --------------------------------------------------------------------------------

_TIFF_TYPE_SIZES = {1: 1, 3: 2, 4: 4, 16: 8}
_TIFF_TYPE_CODES = {1: "u1", 3: "u2", 4: "u4", 16: "u8"}
_TIFF_TAGS = {
    256: "width",
    257: "height",
    258: "bits",
    259: "compression",
    262: "photometric",
    274: "orientation",
    277: "samples",
    322: "tile_width",
    323: "tile_height",
    338: "extra_samples",
    339: "sample_format",
}


@dataclass(frozen=True)
class TiffTags:
    """Tags of a TIFF's first page: ``values[name]`` for the names asked for, the byte
    order (``"<"`` or ``">"``), and where the orientation value is stored (if it is)."""

    values: dict[str, tuple[int, ...]]
    order: str
    orientation_offset: int | None = None
    orientation_size: int = 0


def read_tiff_tags(read_at: ReadAt, wanted: dict[int, str], max_values: int = 64) -> TiffTags:
    """The ``wanted`` tags (number -> name) of the first page of a TIFF or BigTIFF, each
    of at most ``max_values`` values (longer ones are skipped). Reads the tag table and
    the values it points to, nothing else."""
    start = read_at(0, 16)
    order = "<" if start[:2] == b"II" else ">"
    big = struct.unpack_from(order + "H", start, 2)[0] == 43
    if big:
        (ifd,) = struct.unpack_from(order + "Q", start, 8)
        count_format, entry_size, value_size, number_format = "Q", 20, 8, "Q"
    else:
        (ifd,) = struct.unpack_from(order + "I", start, 4)
        count_format, entry_size, value_size, number_format = "H", 12, 4, "I"
    counted = read_at(ifd, struct.calcsize(count_format))
    if ifd < 8 or len(counted) < struct.calcsize(count_format):
        raise HeaderError("the TIFF file is corrupt or truncated (its first page is missing)")
    (count,) = struct.unpack(order + count_format, counted)
    if not 0 < count <= _TIFF_MAX_ENTRIES:
        raise HeaderError(f"the TIFF file is corrupt (its first page has {count:,} tags)")
    entries_at = ifd + len(counted)
    entries = read_at(entries_at, count * entry_size)
    if len(entries) < count * entry_size:
        raise HeaderError("the TIFF file is truncated (inside its first page's tags)")
    values: dict[str, tuple[int, ...]] = {}
    orientation_at, orientation_size = None, 0
    for index in range(count):
        at = index * entry_size
        tag, kind = struct.unpack_from(order + "HH", entries, at)
        (number,) = struct.unpack_from(order + number_format, entries, at + 4)
        name = wanted.get(tag)
        if name is None or kind not in _TIFF_TYPE_SIZES or not 0 < number <= max_values:
            continue
        field_at = at + 4 + struct.calcsize(number_format)
        size = _TIFF_TYPE_SIZES[kind] * number
        if size <= value_size:
            raw = entries[field_at : field_at + size]
            if tag == 274 and number == 1:
                orientation_at, orientation_size = entries_at + field_at, _TIFF_TYPE_SIZES[kind]
        else:
            (offset,) = struct.unpack_from(order + number_format, entries, field_at)
            raw = read_at(offset, size)
            if len(raw) < size:
                raise HeaderError("the TIFF file is truncated (a tag's values lie past its end)")
        values[name] = tuple(np.frombuffer(raw, order + _TIFF_TYPE_CODES[kind]).tolist())
    return TiffTags(values, order, orientation_at, orientation_size)


def _tiff(read_at: ReadAt) -> ImageHeader:
    tags = read_tiff_tags(read_at, _TIFF_TAGS)
    return _tiff_header(tags.values, tags.orientation_offset, tags.orientation_size)


def _tiff_header(tags: dict[str, tuple[int, ...]], orientation_at: int | None, orientation_size: int) -> ImageHeader:
    width, height = tags.get("width", (0,))[0], tags.get("height", (0,))[0]
    samples = tags.get("samples", (1,))[0]
    bits = max(tags.get("bits", (1,)))
    if width <= 0 or height <= 0 or "photometric" not in tags or samples < 1:
        raise HeaderError(
            f"the TIFF file is corrupt (its first page says {width}x{height} pixels, "
            f"{samples} samples per pixel{'' if 'photometric' in tags else ', no colour space'})"
        )
    orientation = tags.get("orientation", (1,))[0]
    header = ImageHeader(
        "TIFF",
        width,
        height,
        samples,
        bits,
        stored_bytes=height * math.ceil(width * samples * bits / 8),
        orientation=orientation if 1 <= orientation <= 8 else 1,
        grey_alpha=samples == 2,
        tiff=TiffLayout(
            photometric=tags["photometric"][0],
            sample_format=tags.get("sample_format", (1,))[0],
            extra_samples=tags.get("extra_samples", ()),
            orientation_offset=orientation_at,
            orientation_size=orientation_size,
        ),
    )
    if "tile_width" in tags and "tile_height" in tags:
        tile = tags["tile_width"][0] * tags["tile_height"][0]
        if tile > max(4 * header.pixels, _TIFF_MIN_TILE_PIXELS):
            raise HeaderError(
                f"the TIFF file's tiles of {tags['tile_width'][0]}x{tags['tile_height'][0]} pixels are "
                f"far larger than its {width}x{height} image (a decompression bomb)"
            )
    _check_tiff_samples(header)
    return header


def _check_tiff_samples(header: ImageHeader) -> None:
    """Refuse the layouts OpenCV would silently change (it reads them as 8-bit, or drops
    the alpha of grey+alpha) and that Pillow cannot read exactly either."""
    layout = header.tiff
    if layout is None:
        return
    if header.channels == 2:
        alpha = layout.extra_samples[:1] in ((1,), (2,))
        if not alpha:
            raise HeaderError(
                "a TIFF of grey plus a second sample that is not alpha cannot be read without "
                "dropping that sample (Upscope reads grey, grey+alpha, RGB and RGBA)"
            )
        readable = (header.bits, layout.sample_format) in ((8, 1), (16, 1), (32, 3))
        if not (readable and layout.photometric == 1):
            raise HeaderError(
                f"a {header.sample_text} grey+alpha TIFF (colour space {layout.photometric}) is not "
                "supported; Upscope reads grey+alpha TIFF as 8-bit, 16-bit or 32-bit float, black "
                "at zero"
            )
    if header.bits > 8 and layout.photometric in (3, 5):
        kind = "palette" if layout.photometric == 3 else "CMYK"
        raise HeaderError(f"a {header.bits}-bit {kind} TIFF would be read as 8-bit; convert it to 16-bit RGB first")


# BMP and WebP ------------------------------------------------------------------------


def _bmp(head: bytes) -> ImageHeader:
    (info_size,) = struct.unpack_from("<I", head, 14)
    if info_size == 12:
        width, height, _, bits = struct.unpack_from("<HHHH", head, 18)
    elif info_size >= 40:
        width, height, _, bits = struct.unpack_from("<iiHH", head, 18)
    else:
        raise HeaderError(f"the BMP file is corrupt (an information header of {info_size} bytes)")
    height = abs(height)  # negative: rows stored top to bottom
    if width <= 0 or height == 0 or bits not in (1, 2, 4, 8, 16, 24, 32):
        raise HeaderError(f"the BMP file is corrupt (its header says {width}x{height} pixels, {bits} bits per pixel)")
    channels = 3 if bits >= 16 else 1
    return ImageHeader(
        "BMP",
        width,
        height,
        channels,
        bits if bits < 16 else 8,
        stored_bytes=height * ((width * bits + 31) // 32 * 4),
    )


def _webp(head: bytes) -> ImageHeader:
    if len(head) < 30:
        raise struct.error
    chunk = head[12:16]
    if chunk == b"VP8 ":
        if head[23:26] != b"\x9d\x01\x2a":
            raise HeaderError("the WebP file is corrupt (no VP8 key frame)")
        width, height = (v & 0x3FFF for v in struct.unpack_from("<HH", head, 26))
        orientation: int | None = 1
    elif chunk == b"VP8L":
        if head[20] != 0x2F:
            raise HeaderError("the WebP file is corrupt (no lossless signature)")
        (bits,) = struct.unpack_from("<I", head, 21)
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        orientation = 1
    elif chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        orientation = None
    else:
        raise HeaderError(f"the WebP file is corrupt (an unknown first chunk {chunk!r})")
    if width == 0 or height == 0:
        raise HeaderError("the WebP file is corrupt (its header says 0 pixels)")
    return ImageHeader("WebP", width, height, 4, 8, stored_bytes=width * height * 4, orientation=orientation)


def _webp_orientation(data: bytes | bytearray) -> int:
    position, end = 12, min(len(data), 8 + struct.unpack_from("<I", data, 4)[0])
    for _ in range(_WEBP_MAX_CHUNKS):
        if position + 8 > end:
            break
        kind, size = struct.unpack_from("<4sI", data, position)
        if kind == b"EXIF" and size <= _EXIF_MAX_BYTES:
            body = bytes(data[position + 8 : position + 8 + size])
            return exif_orientation(body[6:] if body.startswith(b"Exif\0\0") else body)
        position += 8 + size + (size & 1)
    return 1


# EXIF --------------------------------------------------------------------------------


def exif_orientation(tiff: bytes) -> int:
    """The Orientation tag (0x0112) of IFD0 of an EXIF block (a TIFF structure), or 1 if
    it is absent, damaged or out of range 1..8."""
    try:
        order = {b"II": "<", b"MM": ">"}[tiff[:2]]
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for index in range(min(count, _TIFF_MAX_ENTRIES)):
            tag, kind = struct.unpack_from(order + "HH", tiff, ifd + 2 + 12 * index)
            if tag == 0x0112 and kind in (3, 4):
                value = struct.unpack_from(order + ("H" if kind == 3 else "I"), tiff, ifd + 10 + 12 * index)[0]
                return value if 1 <= value <= 8 else 1
    except (KeyError, struct.error):
        pass
    return 1
