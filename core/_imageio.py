"""Reading and writing image files.

`load_image` returns arrays in the layout every other `core` function takes: ``(H, W)``
for grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA, dtype ``uint8``, ``uint16`` or
``float32``. OpenCV decodes the pixels (it reads 16-bit and float TIFF, which Pillow does
not); Pillow reads only the header, to refuse oversized images before any pixel is decoded
and to find the EXIF orientation.
"""

from __future__ import annotations

import glob
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import BmpImagePlugin, Image, JpegImagePlugin, PngImagePlugin, TiffImagePlugin, WebPImagePlugin

from ._arrays import SUPPORTED_DTYPES
from ._errors import ImageError, ImageTooLargeError
from ._limits import limits

READABLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".webp")
WRITABLE_SUFFIXES = (".png", ".tif", ".tiff")

_EXIF_ORIENTATION_TAG = 0x0112
_TIFF_EXTRA_SAMPLES_TAG = 338
_UNASSOCIATED_ALPHA = 2

# Pillow's format classes read a header without Image.open's own size check, so an
# oversized image reaches our check (and its message) with its real size.
_HEADER_READERS = (
    PngImagePlugin.PngImageFile,
    JpegImagePlugin.JpegImageFile,
    TiffImagePlugin.TiffImageFile,
    BmpImagePlugin.BmpImageFile,
    WebPImagePlugin.WebPImageFile,
)


@dataclass(frozen=True)
class _Header:
    width: int
    height: int
    orientation: int
    format: str
    # OpenCV premultiplies 8-bit RGBA TIFFs whose alpha is unassociated (libtiff's RGBA
    # reader); Pillow decodes those exactly.
    needs_pillow_pixels: bool = False


def load_image(path: str | os.PathLike, *, max_pixels: int | None = None) -> np.ndarray:
    """Read an image file into an RGB(A)-ordered array.

    Parameters
    ----------
    path:
        PNG, JPEG, TIFF, BMP or WebP file. Any characters are allowed in the path.
    max_pixels:
        Refuse images with more than this many pixels (height x width), checked from the
        header before decoding. Defaults to ``core.limits.max_input_pixels``.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA; dtype ``uint8``,
        ``uint16`` or ``float32`` as stored (float64 TIFFs become float32). EXIF
        orientation is applied, so the array is upright as a viewer shows it.

    Raises
    ------
    ImageError
        The message names the file and the reason: missing, a folder, empty, not an
        image, corrupt or truncated, too large, an unsupported sample type, or float
        samples that are NaN or infinite.
    """
    path = Path(path)
    limit = limits.max_input_pixels if max_pixels is None else int(max_pixels)
    data = _read_bytes(path)
    header = _read_header(path, data)
    if header is not None:
        _check_pixel_count(path, header.width, header.height, limit)
    try:
        if header is not None and header.needs_pillow_pixels:
            decoded = _decode_rgba_with_pillow(data)
        else:
            decoded = _to_rgb_order(_imdecode_quietly(data))
    except cv2.error as exc:
        raise ImageError(f"{path}: cannot be decoded ({_first_line(exc)})") from None
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to decode this image") from None
    if decoded is None:
        if header is None:
            raise ImageError(
                f"{path}: not a readable image (Upscope reads PNG, JPEG, TIFF, BMP and "
                "WebP), or the file is corrupt or truncated"
            )
        raise ImageError(f"{path}: the {header.format} file is corrupt or truncated")
    _check_pixel_count(path, decoded.shape[1], decoded.shape[0], limit)
    image = _to_supported_dtype(path, decoded)
    if header is not None and header.orientation != 1:
        image = _apply_orientation(image, header.orientation)
    return np.ascontiguousarray(image)


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
        ``(H, W)``, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA.
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
    bgr = _to_bgr_order(image)
    try:
        ok, encoded = cv2.imencode(".png" if suffix == ".png" else ".tiff", bgr)
    except cv2.error as exc:
        raise ImageError(f"{path}: cannot encode this image ({_first_line(exc)})") from None
    if not ok:
        raise ImageError(f"{path}: cannot encode this image as {suffix}")
    write_bytes_atomically(path, encoded.tobytes(), overwrite=overwrite)
    return path


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


def _imdecode_quietly(data: bytes) -> np.ndarray | None:
    """``cv2.imdecode`` without OpenCV's own console warnings about a damaged file: the
    `ImageError` raised for it already names the file and the reason."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    finally:
        cv2.utils.logging.setLogLevel(level)


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file")
    try:
        data = path.read_bytes()
    except PermissionError:
        raise ImageError(f"{path}: permission denied") from None
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to read this file") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise ImageError(f"{path}: the file is empty (0 bytes)")
    return data


def _read_header(path: Path, data: bytes) -> _Header | None:
    """Size and EXIF orientation from the header, or None if Pillow cannot parse it."""
    with warnings.catch_warnings():
        # Pillow warns about odd EXIF blocks; that is no reason to refuse the pixels.
        warnings.simplefilter("ignore")
        for reader in _HEADER_READERS:
            try:
                img = reader(io.BytesIO(data))
            except Exception:
                continue
            with img:
                try:
                    orientation = int(img.getexif().get(_EXIF_ORIENTATION_TAG, 1))
                except Exception:  # a damaged EXIF block: show the pixels as stored
                    orientation = 1
                unassociated = (
                    img.format == "TIFF"
                    and img.mode == "RGBA"
                    and _UNASSOCIATED_ALPHA in _as_tuple(img.tag_v2.get(_TIFF_EXTRA_SAMPLES_TAG))
                )
                return _Header(
                    img.size[0],
                    img.size[1],
                    orientation if orientation in range(1, 9) else 1,
                    img.format or "image",
                    needs_pillow_pixels=unassociated,
                )
    return None


def _as_tuple(value: object) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _decode_rgba_with_pillow(data: bytes) -> np.ndarray | None:
    """RGBA pixels as Pillow decodes them, or None (as ``cv2.imdecode``) if it cannot."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data)) as img:
                return np.asarray(img)
        except Exception:
            return None


def _check_pixel_count(path: Path, width: int, height: int, limit: int) -> None:
    if width * height > limit:
        raise ImageTooLargeError(path, width, height, limit)


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


def _to_bgr_order(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image[:, :, ::-1])
    if image.ndim == 3 and image.shape[2] == 4:
        return np.ascontiguousarray(image[:, :, [2, 1, 0, 3]])
    if image.ndim == 3:
        return np.ascontiguousarray(image[:, :, 0])
    return np.ascontiguousarray(image)


def _to_supported_dtype(path: Path, image: np.ndarray) -> np.ndarray:
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


def _check_writable_array(path: Path, image: np.ndarray, suffix: str) -> None:
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ImageError(f"{path}: cannot write an array of shape {image.shape} as an image")
    if image.size == 0:
        raise ImageError(f"{path}: cannot write an empty image of shape {image.shape}")
    if image.dtype not in SUPPORTED_DTYPES:
        raise ImageError(f"{path}: cannot write {image.dtype} samples (use uint8, uint16 or float32)")
    if suffix == ".png" and image.dtype == np.float32:
        raise ImageError(f"{path}: PNG cannot hold float32 samples; save as .tif instead")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _remove_quietly(name: str | None) -> None:
    if name is None:
        return
    try:
        os.unlink(name)
    except OSError:
        pass
