"""Reading and writing image files, good and bad."""

from __future__ import annotations

import os
import struct
import sys
import zlib

import cv2
import numpy as np
import pytest
from crafted_images import exif_block, jpeg_claiming, png_bytes, tiff_bytes
from PIL import Image, ImageOps

import core
import core.io.files


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
    with pytest.raises(
        core.ImageError, match=r"notes\.png: not an image Upscope can read \(it reads PNG, JPEG, TIFF, BMP and WebP\)$"
    ):
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
    with pytest.raises(
        core.ImageError, match=r"bomb\.png: 50000x40000 = 2,000,000,000 pixels, over the limit of 100,000,000 pixels"
    ):
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


# What is stored comes back: depth, channels and alpha are never changed silently.


def test_16bit_rgba_tiff_with_unassociated_alpha_stays_16bit(tmp_path):
    """Pillow decodes this layout as 8-bit and OpenCV's 8-bit reader would premultiply;
    the stored samples (62387 among them) must come back exactly."""
    pixels = _noise((5, 7, 4), np.uint16)
    pixels[0, 0] = (62387, 1, 65535, 3)
    for extra, name in ((2, "straight"), (1, "premultiplied")):
        path = tmp_path / f"{name}.tif"
        path.write_bytes(tiff_bytes(pixels, extra_samples=(extra,)))
        loaded = core.load_image(path)
        assert loaded.dtype == np.uint16 and loaded[0, 0, 0] == 62387
        np.testing.assert_array_equal(loaded, pixels)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("extra", [1, 2])
@pytest.mark.parametrize("big_endian", [False, True])
def test_grey_alpha_tiff_keeps_its_alpha(tmp_path, dtype, extra, big_endian):
    pixels = _noise((6, 9, 2), dtype)
    path = tmp_path / "grey-alpha.tif"
    path.write_bytes(tiff_bytes(pixels, extra_samples=(extra,), big_endian=big_endian))
    loaded = core.load_image(path)
    assert loaded.shape == (6, 9, 2) and loaded.dtype == dtype
    np.testing.assert_array_equal(loaded, pixels)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_grey_alpha_png_is_two_channels(tmp_path, dtype):
    pixels = _noise((5, 8, 2), dtype)
    (tmp_path / "la.png").write_bytes(png_bytes(pixels))
    loaded = core.load_image(tmp_path / "la.png")
    assert loaded.shape == (5, 8, 2) and loaded.dtype == dtype
    np.testing.assert_array_equal(loaded, pixels)


@pytest.mark.parametrize(
    "suffix, dtype", [(".png", np.uint8), (".png", np.uint16), (".tif", np.uint8), (".tif", np.uint16), (".tif", np.float32)]
)
def test_grey_alpha_round_trip(tmp_path, suffix, dtype):
    pixels = _noise((7, 5, 2), dtype)
    path = core.save_image(tmp_path / f"la{suffix}", pixels)
    np.testing.assert_array_equal(core.load_image(path), pixels)
    if dtype == np.uint8:  # an independent reader sees grey+alpha too
        with Image.open(path) as written:
            assert written.mode == "LA"
            np.testing.assert_array_equal(np.asarray(written), pixels)


def test_grey_alpha_goes_through_a_comparison_and_its_export(tmp_path):
    image = _noise((16, 20, 2), np.uint16)
    comparison = core.Comparison(image, core.ComparisonSettings(mode="degrade", scale=2))
    results = list(comparison)
    assert all(r.image.shape == (16, 20, 2) and r.image.dtype == np.uint16 for r in results)
    assert core.to_display(image).shape == (16, 20)  # grey over the checkerboard
    for image_format in ("png", "tif"):
        written = core.export_results(tmp_path / image_format, comparison, results, image_format=image_format)
        for result in results:
            saved = next(p for p in written if p.stem == result.method_id)
            np.testing.assert_array_equal(core.load_image(saved), result.image)


def test_grey_alpha_tiff_layouts_not_read_are_refused_by_name(tmp_path):
    data = bytearray(tiff_bytes(_noise((4, 4, 2), np.uint16), extra_samples=(2,)))
    compression = data.index(struct.pack("<HHI", 259, 3, 1))
    struct.pack_into("<H", data, compression + 8, 5)  # LZW
    (tmp_path / "lzw.tif").write_bytes(data)
    with pytest.raises(
        core.ImageError, match=r"lzw\.tif: a 16-bit grey\+alpha TIFF with compression 5 and predictor 1 is not supported"
    ):
        core.load_image(tmp_path / "lzw.tif")
    (tmp_path / "extra.tif").write_bytes(tiff_bytes(_noise((4, 4, 2), np.uint8), extra_samples=(0,)))
    with pytest.raises(core.ImageError, match=r"extra\.tif: a TIFF of grey plus a second sample that is not alpha"):
        core.load_image(tmp_path / "extra.tif")


def test_jpeg_shorter_than_its_header_is_refused_as_truncated(tmp_path):
    """A JPEG of 160x120 pixels whose header says 160x240: libjpeg fills the missing rows
    with grey and only warns; Upscope refuses it."""
    (tmp_path / "short.jpg").write_bytes(jpeg_claiming(160, 240))
    with pytest.raises(core.ImageError, match=r"short\.jpg: the JPEG file is corrupt or truncated"):
        core.load_image(tmp_path / "short.jpg")
    (tmp_path / "whole.jpg").write_bytes(jpeg_claiming(160, 120))
    assert core.load_image(tmp_path / "whole.jpg").shape == (120, 160)


def test_format_comes_from_the_content_not_the_name(tmp_path):
    pixels = _noise((4, 6, 3), np.uint8)
    (tmp_path / "photo.jpg").write_bytes(png_bytes(pixels))
    np.testing.assert_array_equal(core.load_image(tmp_path / "photo.jpg"), pixels)


def test_data_after_the_image_within_the_margin_is_ignored(tmp_path):
    pixels = _noise((4, 6, 3), np.uint8)
    (tmp_path / "padded.png").write_bytes(png_bytes(pixels) + bytes(1 << 20))
    np.testing.assert_array_equal(core.load_image(tmp_path / "padded.png"), pixels)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("big_endian", [False, True])
def test_tiff_orientation_is_applied_once_like_pillow(tmp_path, orientation, big_endian):
    """OpenCV turns TIFFs by their orientation tag itself; it must not be turned twice."""
    pixels = _noise((6, 10, 3), np.uint8)
    path = tmp_path / "oriented.tif"
    path.write_bytes(tiff_bytes(pixels, orientation=orientation, big_endian=big_endian))
    with Image.open(path) as reference:
        expected = np.asarray(ImageOps.exif_transpose(reference))
    np.testing.assert_array_equal(core.load_image(path), expected)
    deep = tmp_path / "oriented16.tif"  # Pillow does not read 16-bit RGB: same turn, 257x the values
    deep.write_bytes(tiff_bytes(pixels.astype(np.uint16) * 257, orientation=orientation, big_endian=big_endian))
    np.testing.assert_array_equal(core.load_image(deep), expected.astype(np.uint16) * 257)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_png_orientation_after_the_pixels_is_applied(tmp_path, orientation):
    pixels = _noise((6, 10, 3), np.uint8)
    path = tmp_path / "late-exif.png"
    path.write_bytes(png_bytes(pixels, exif=exif_block(orientation, big_endian=orientation == 6)))
    with Image.open(path) as reference:
        expected = np.asarray(ImageOps.exif_transpose(reference))
    np.testing.assert_array_equal(core.load_image(path), expected)


def test_webp_orientation_is_applied_like_pillow(tmp_path):
    pixels = _noise((6, 10, 3), np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(pixels).save(tmp_path / "phone.webp", lossless=True, exif=exif)
    with Image.open(tmp_path / "phone.webp") as reference:
        expected = np.asarray(ImageOps.exif_transpose(reference))
    assert expected.shape == (10, 6, 3)
    np.testing.assert_array_equal(core.load_image(tmp_path / "phone.webp"), expected)


# File names: the message names the file on one line, and says what is wrong with it.


def test_symbolic_link_loop_is_named_as_such(tmp_path):
    os.symlink(tmp_path / "b.png", tmp_path / "a.png")
    os.symlink(tmp_path / "a.png", tmp_path / "b.png")
    with pytest.raises(core.ImageError, match=r"a\.png: a symbolic link loop"):
        core.load_image(tmp_path / "a.png")


def test_link_to_a_missing_file(tmp_path):
    os.symlink(tmp_path / "gone.png", tmp_path / "link.png")
    with pytest.raises(
        core.ImageError, match=r"link\.png: no such file \(a symbolic link to .*gone\.png, which does not exist\)"
    ):
        core.load_image(tmp_path / "link.png")


@pytest.mark.parametrize(
    "name, shown", [("two\nlines.png", "two\\nlines.png"), ("tab\tand\x1b[31mred.png", "tab\\tand\\x1b[31mred.png")]
)
def test_control_characters_in_names_are_escaped(tmp_path, name, shown):
    (tmp_path / name).write_text("not pixels")
    for path in (tmp_path / name, tmp_path / ("missing-" + name)):
        with pytest.raises(core.ImageError) as caught:
            core.load_image(path)
        message = str(caught.value)
        assert "\n" not in message and "\t" not in message and "\x1b" not in message
        assert shown in message


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="file names there are text, not bytes")
def test_undecodable_bytes_in_names_are_escaped(tmp_path):
    path = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.png")
    with pytest.raises(core.ImageError, match=r"caf\\xe9\.png: no such file$") as caught:
        core.load_image(path)
    str(caught.value).encode("utf-8")  # printable, whatever the terminal


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="permissions do not bind the superuser")
def test_permission_problems_name_the_file(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    core.save_image(folder / "inside.png", np.zeros((2, 2), np.uint8))
    unreadable = core.save_image(tmp_path / "unreadable.png", np.zeros((2, 2), np.uint8))
    unreadable.chmod(0)
    folder.chmod(0)
    try:
        with pytest.raises(core.ImageError, match=r"inside\.png: permission denied \(a folder on its path cannot be searched\)"):
            core.load_image(folder / "inside.png")
        with pytest.raises(core.ImageError, match=r"unreadable\.png: permission denied \(the file cannot be read\)"):
            core.load_image(unreadable)
    finally:
        folder.chmod(0o755)


def test_permission_denied_while_looking_up_the_file(tmp_path, monkeypatch):
    """What a folder that cannot be searched gives (also for the superuser, who is not
    refused): `os.stat` raises PermissionError, which must become a message."""

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(core.io.files.os, "stat", refuse)
    with pytest.raises(core.ImageError, match=r"inside\.png: permission denied \(a folder on its path cannot be searched\)"):
        core.load_image(tmp_path / "locked" / "inside.png")


# Sessions are read the same way.


def test_session_file_refusals(tmp_path):
    with pytest.raises(core.ImageError, match=r"nothing\.json: no such file$"):
        core.load_session(tmp_path / "nothing.json")
    with pytest.raises(core.ImageError, match=r": is a folder, not a session file$"):
        core.load_session(tmp_path)
    (tmp_path / "latin1.json").write_bytes(b'{"format": "caf\xe9"}')
    with pytest.raises(core.ImageError, match=r"latin1\.json: not a session file \(not UTF-8 text"):
        core.load_session(tmp_path / "latin1.json")
