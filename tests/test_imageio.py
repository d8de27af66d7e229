"""Reading and writing image files, good and bad."""

from __future__ import annotations

import os
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

import core


def _noise(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "u":
        return rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)
    return rng.random(shape, dtype=np.float32)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(7, 5), (7, 5, 3), (7, 5, 4)])
def test_lossless_round_trip(tmp_path, suffix, dtype, shape):
    image = _noise(shape, dtype)
    path = core.save_image(tmp_path / f"out{suffix}", image)
    loaded = core.load_image(path)
    assert loaded.dtype == dtype
    np.testing.assert_array_equal(loaded, image)


@pytest.mark.parametrize("shape", [(6, 9), (6, 9, 3)])
def test_float32_tiff_round_trip(tmp_path, shape):
    image = _noise(shape, np.float32) * 4 - 1  # HDR values are kept, not clipped
    np.testing.assert_array_equal(core.load_image(core.save_image(tmp_path / "f.tiff", image)), image)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP"])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_channel_order_matches_pillow(tmp_path, fmt, mode):
    if fmt == "BMP" and mode == "RGBA":
        pytest.skip("Pillow does not write RGBA BMP")
    pixels = _noise((12, 10, len(mode)), np.uint8)
    path = tmp_path / f"image.{fmt.lower()}"
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode=mode).save(path, fmt, **kwargs)
    with Image.open(path) as reference:
        expected = np.asarray(reference)
    np.testing.assert_array_equal(core.load_image(path), expected)


def test_jpeg_is_read_as_rgb(tmp_path):
    image = np.zeros((16, 16, 3), np.uint8)
    image[..., 0] = 200  # red
    Image.fromarray(image).save(tmp_path / "red.jpg", quality=95)
    loaded = core.load_image(tmp_path / "red.jpg")
    assert loaded.shape == (16, 16, 3) and loaded[8, 8, 0] > 180 and loaded[8, 8, 2] < 30


def test_non_ascii_path(tmp_path):
    folder = tmp_path / "Bilder ß 画像"
    folder.mkdir()
    image = _noise((5, 6, 3), np.uint8)
    path = core.save_image(folder / "Ölgemälde-写真.png", image)
    np.testing.assert_array_equal(core.load_image(str(path)), image)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_pillow(tmp_path, orientation):
    pixels = _noise((6, 10, 3), np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"oriented-{orientation}.png"
    Image.fromarray(pixels).save(path, exif=exif)
    with Image.open(path) as reference:
        expected = np.asarray(ImageOps.exif_transpose(reference))
    loaded = core.load_image(path)
    assert loaded.shape == expected.shape
    np.testing.assert_array_equal(loaded, expected)


def test_exif_orientation_of_a_jpeg(tmp_path):
    pixels = np.zeros((8, 16, 3), np.uint8)
    pixels[:, :8] = 255  # white on the left half
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(pixels).save(tmp_path / "phone.jpg", exif=exif, quality=100)
    loaded = core.load_image(tmp_path / "phone.jpg")
    assert loaded.shape == (16, 8, 3)
    assert loaded[:8].mean() > 240 and loaded[8:].mean() < 15  # white is now on top


def test_one_pixel_image_loads(tmp_path):
    core.save_image(tmp_path / "dot.png", np.array([[[1, 2, 3]]], np.uint8))
    assert core.load_image(tmp_path / "dot.png").shape == (1, 1, 3)


# Bad input: every message names the file and the reason.


def test_missing_file(tmp_path):
    with pytest.raises(core.ImageError, match=r"nothing\.png: no such file"):
        core.load_image(tmp_path / "nothing.png")


def test_folder(tmp_path):
    with pytest.raises(core.ImageError, match="is a folder, not an image file"):
        core.load_image(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(core.ImageError, match=r"empty\.png: the file is empty \(0 bytes\)"):
        core.load_image(tmp_path / "empty.png")


def test_non_image(tmp_path):
    (tmp_path / "notes.png").write_text("these are not pixels\n" * 20)
    with pytest.raises(core.ImageError, match=r"notes\.png: not a readable image \(Upscope reads PNG"):
        core.load_image(tmp_path / "notes.png")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp", ".tif"])
def test_truncated_file(tmp_path, suffix):
    ok, encoded = cv2.imencode(suffix, _noise((40, 50, 3), np.uint8))
    data = encoded.tobytes()
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(core.ImageError, match=rf"cut\{suffix}: .*(corrupt or truncated)"):
        core.load_image(path)


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size (valid CRC) over a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))  # noqa: E731
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming(50_000, 40_000))
    with pytest.raises(core.ImageError, match=r"bomb\.png: 50000x40000 = 2,000,000,000 pixels, over the limit of 100,000,000 pixels"):
        core.load_image(path)


def test_pixel_limit_is_configurable(tmp_path, monkeypatch):
    path = core.save_image(tmp_path / "small.png", _noise((30, 40), np.uint8))
    with pytest.raises(core.ImageError, match="over the limit"):
        core.load_image(path, max_pixels=1000)
    monkeypatch.setattr(core.limits, "max_input_pixels", 1000)
    with pytest.raises(core.ImageError, match="over the limit of 1,000 pixels"):
        core.load_image(path)


def test_unsupported_sample_type(tmp_path):
    path = tmp_path / "int32.tif"
    ok, encoded = cv2.imencode(".tif", np.arange(12, dtype=np.int32).reshape(3, 4))
    path.write_bytes(encoded.tobytes())
    with pytest.raises(core.ImageError, match=r"int32\.tif: int32 samples are not supported"):
        core.load_image(path)


def test_nan_in_float_tiff(tmp_path):
    image = np.ones((4, 4), np.float32)
    image[1, 2] = np.nan
    ok, encoded = cv2.imencode(".tif", image)
    (tmp_path / "nan.tif").write_bytes(encoded.tobytes())
    with pytest.raises(core.ImageError, match=r"nan\.tif: 1 samples are NaN or infinite"):
        core.load_image(tmp_path / "nan.tif")


# Saving: atomic, and refusals leave nothing behind.


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_save_refuses_float_png_and_leaves_nothing(tmp_path):
    with pytest.raises(core.ImageError, match="PNG cannot hold float32 samples; save as .tif"):
        core.save_image(tmp_path / "f.png", np.zeros((2, 2), np.float32))
    assert _listing(tmp_path) == []


def test_save_refuses_unknown_format(tmp_path):
    with pytest.raises(core.ImageError, match=r"cannot write '\.jpg' files; use \.png"):
        core.save_image(tmp_path / "x.jpg", np.zeros((2, 2), np.uint8))


def test_save_to_missing_folder(tmp_path):
    with pytest.raises(core.ImageError, match="the folder .*nowhere does not exist"):
        core.save_image(tmp_path / "nowhere" / "x.png", np.zeros((2, 2), np.uint8))


def test_save_does_not_overwrite_when_told(tmp_path):
    path = core.save_image(tmp_path / "keep.png", np.zeros((2, 2), np.uint8))
    before = path.read_bytes()
    with pytest.raises(core.ImageError, match="already exists"):
        core.save_image(path, np.full((2, 2), 9, np.uint8), overwrite=False)
    assert path.read_bytes() == before and _listing(tmp_path) == ["keep.png"]


def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = core.save_image(tmp_path / "old.png", np.zeros((2, 2), np.uint8))
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(core.ImageError, match=r"old\.png: cannot write \(No space left on device\)"):
        core.save_image(path, np.full((50, 50), 7, np.uint8))
    assert _listing(tmp_path) == ["old.png"] and path.read_bytes() == before


def test_rgba_tiff_with_unassociated_alpha_is_not_premultiplied(tmp_path):
    """OpenCV's 8-bit RGBA TIFF reader premultiplies colour by alpha; the file holds
    straight (unassociated) colour, which is what must come back."""
    pixels = _noise((6, 7, 4), np.uint8)
    Image.fromarray(pixels, mode="RGBA").save(tmp_path / "straight.tif")
    with Image.open(tmp_path / "straight.tif") as written:
        assert written.tag_v2[338] == (2,)  # ExtraSamples: unassociated alpha
    np.testing.assert_array_equal(core.load_image(tmp_path / "straight.tif"), pixels)


def test_saved_files_get_the_usual_permissions_not_the_temporary_files(tmp_path):
    path = core.save_image(tmp_path / "p.png", np.zeros((4, 4, 3), np.uint8))
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
