"""The foundations of dataset evaluation: datasets named as folders, list files and
built-in sets, and the SQLite store that keeps rows whole, resumable and tied to their
settings and image versions."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

import core
from core.report.evaluation import Store, open_dataset
from core.report.evaluation.datasets import read_source, with_bytes


def test_a_folder_lists_its_images_and_skips_the_rest_with_reasons(tmp_path: Path) -> None:
    for name in ("b.png", "a.png"):
        core.save_image(tmp_path / name, np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub").mkdir()
    dataset = open_dataset(tmp_path)
    assert [image.name for image in dataset.images] == ["a.png", "b.png"]
    assert dict(dataset.skipped) == {str(tmp_path / "notes.txt"): "not an image file (.txt)",
                                     str(tmp_path / "sub"): "a folder"}
    listing = tmp_path / "list.txt"
    listing.write_text("# two images\nb.png\n\nmissing.png\n")
    listed = open_dataset(listing)
    assert [image.name for image in listed.images] == ["b.png"] and listed.name == "list"
    assert dict(listed.skipped) == {str(tmp_path / "missing.png"): "no such file"}
    assert dataset.images[0].read().shape == (8, 8, 3)


def test_a_list_file_keeps_two_images_of_one_name_apart(tmp_path: Path) -> None:
    for folder, value in (("a", 10), ("b", 200)):
        (tmp_path / folder).mkdir()
        core.save_image(tmp_path / folder / "photo.png", np.full((8, 8), value, np.uint8))
    listing = tmp_path / "pairs.txt"
    listing.write_text("a/photo.png\nb/photo.png\n./a/photo.png\n")
    dataset = open_dataset(listing)
    assert [image.name for image in dataset.images] == ["a/photo.png", "b/photo.png"]
    assert [image.read()[0, 0] for image in dataset.images] == [10, 200]
    assert dataset.skipped == ((str(tmp_path / "a" / "photo.png"), "listed twice"),)
    with pytest.raises(core.ParameterError, match="an image, not a dataset"):
        open_dataset(tmp_path / "a" / "photo.png")


def test_bad_datasets_are_named(tmp_path: Path) -> None:
    with pytest.raises(core.ParameterError, match="no such folder or list file"):
        open_dataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(core.ParameterError, match="holds no image files .it is empty."):
        open_dataset(tmp_path / "empty")
    with pytest.raises(core.ParameterError, match="no such built-in dataset"):
        open_dataset("builtin:nothing")
    listing = tmp_path / "elsewhere.txt"
    listing.write_text("a/x.png\nb/x.png\nnotes.txt\n")  # paths relative to another folder
    with pytest.raises(core.ParameterError, match=r"no image files \(3 entries: 3 no such file\)"):
        open_dataset(listing)
    with pytest.raises(core.ParameterError, match="a file, not a folder"):
        Store(listing, {"methods": []})


def test_the_builtin_photos_need_nothing_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """They ship with Upscope: reading them works with scikit-image unimportable."""
    monkeypatch.setitem(sys.modules, "skimage", None)
    dataset = open_dataset("builtin:photos")
    assert len(dataset.images) == 9
    training = {"astronaut", "chelsea", "rocket", "camera", "moon", "stereo_motorcycle"}
    assert not training & {image.name for image in dataset.images}
    for image in dataset.images:
        pixels = image.read()
        assert pixels.dtype == np.uint8 and min(pixels.shape[:2]) >= 128
        assert image.source == f"builtin:photos/{image.name}"
    assert len(dataset.images[0].sha256()) == 64


def test_the_builtin_photos_are_scikit_images_samples() -> None:
    samples = pytest.importorskip("skimage.data")
    for image in open_dataset("builtin:photos").images:
        expected = getattr(samples, image.name)()
        if expected.dtype == bool:
            expected = expected.astype(np.uint8) * 255
        np.testing.assert_array_equal(image.read(), expected, err_msg=image.name)


def test_a_builtin_photo_sent_as_bytes_keeps_its_source() -> None:
    image = open_dataset("builtin:photos").images[0]
    sent = with_bytes(image)
    assert sent.path is None and sent.source == image.source
    np.testing.assert_array_equal(sent.read(), image.read())
    np.testing.assert_array_equal(read_source(image.source), image.read())


def row(image: str, scale: float, method: str, psnr: float, sha: str = "x") -> dict:
    return {"dataset": "d", "image": image, "scale": scale, "method": method, "image_sha256": sha, "psnr": psnr,
            "params": {}}


def test_the_store_keeps_rows_per_settings_and_image_version(tmp_path: Path) -> None:
    settings = {"methods": ["bicubic"], "convention": "paper"}
    with Store(tmp_path, settings) as store:
        store.add([row("a.png", 2, "bicubic", 30.0), row("b.png", 2, "bicubic", 31.0)])
        store.add([row("a.png", 2, "bicubic", 32.0)])  # the same key replaces
        assert [(r["image"], r["psnr"]) for r in store.rows()] == [("a.png", 32.0), ("b.png", 31.0)]
        assert store.done("d", "a.png", "x") == {(2.0, "bicubic")}
        assert store.done("d", "a.png", "changed") == set()  # a changed file loses its rows only
        assert [r["image"] for r in store.rows()] == ["b.png"]
    # pandas reads it as it is: plain SQL.
    with sqlite3.connect(tmp_path / "rows.sqlite") as db:
        assert db.execute("select image, psnr from rows").fetchall() == [("b.png", 31.0)]
    with Store(tmp_path, settings) as again:  # the same settings resume
        assert len(again.rows()) == 1
    with pytest.raises(core.ParameterError, match="other settings .1 rows; convention asked for: all, stored: paper."):
        Store(tmp_path, {**settings, "convention": "all"})
    with Store(tmp_path, {**settings, "convention": "all"}, replace=True) as replaced:
        assert replaced.rows() == []
